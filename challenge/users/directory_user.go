package users

import (
	"context"
	"errors"
	"sort"
	"strings"
)

// NewDirectoryUser is a user that a directory (LDAP) describes: it has no
// password hash here, since the directory checks passwords itself. groups
// are copied and sorted, as the users file's are.
func NewDirectoryUser(name, displayName, email string, groups []string, disabled bool) *User {
	g := append([]string(nil), groups...)
	sort.Strings(g)
	return &User{Name: name, DisplayName: displayName, Email: email, Groups: g, Disabled: disabled,
		groupsHeader: strings.Join(g, ",")}
}

// CanonicalName is Canonical for callers that go through a directory
// interface whose other implementations (LDAP) may need I/O to know it:
// the users file never fails.
func (db *DB) CanonicalName(_ context.Context, typed string) (string, error) {
	return db.Canonical(typed), nil
}

// ErrPasswordExpired is a right password that the directory refuses
// because it has expired or must be changed (or the account has expired):
// the user is told to change it, and is not signed in.
var ErrPasswordExpired = errors.New("the password has expired or must be changed")
