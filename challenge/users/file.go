// Package users is the first factor: the users file in Authelia's format
// (display name, password hash, email, groups), parsed, watched and checked.
package users

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// User is one entry of the users file.
type User struct {
	Name        string
	DisplayName string
	Email       string
	Groups      []string
	Disabled    bool
	hash        Hash
	// groupsHeader is Groups joined with commas, made once.
	groupsHeader string
	// rawHash is the password as written in the file ({CRYPT} and all),
	// and passwordLine its line: what rehash rewrites.
	rawHash      string
	passwordLine int
}

// InGroup reports whether the user is a member of group.
func (u *User) InGroup(group string) bool {
	for _, g := range u.Groups {
		if g == group {
			return true
		}
	}
	return false
}

// entry mirrors one user in Authelia's users file.
type entry struct {
	DisplayName string   `yaml:"displayname"`
	Password    string   `yaml:"password"`
	Email       string   `yaml:"email"`
	Groups      []string `yaml:"groups"`
	Disabled    bool     `yaml:"disabled"`
}

// Parse reads a users file. Errors name the line they concern.
func Parse(data []byte) (map[string]*User, error) {
	t, err := parse(data, Options{})
	if err != nil {
		return nil, err
	}
	return t.users, nil
}

// Skipped is a user left out of the file by on_bad_hash skip.
type Skipped struct {
	// Line is the line of the user's password.
	Line int
	// User is the user name.
	User string
	// Reason says why the hash could not be read.
	Reason error
}

// table is one reading of the users file.
type table struct {
	users   map[string]*User
	idx     index
	skipped []Skipped
}

// parse reads a users file with opts. Errors name the line they concern.
func parse(data []byte, opts Options) (*table, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("users file is not valid YAML: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, errors.New("users file is empty; it needs a top-level 'users:' mapping")
	}
	usersNode, err := usersMapping(doc.Content[0])
	if err != nil {
		return nil, err
	}
	t := &table{users: make(map[string]*User, len(usersNode.Content)/2)}
	x := newIndexer(opts)
	for i := 0; i+1 < len(usersNode.Content); i += 2 {
		k, v := usersNode.Content[i], usersNode.Content[i+1]
		name := k.Value
		if name == "" {
			return nil, fmt.Errorf("line %d: empty user name", k.Line)
		}
		if bytes.ContainsAny([]byte(name), " \t\r\n:/") {
			return nil, fmt.Errorf("line %d: user name %q may not contain spaces, ':' or '/'", k.Line, name)
		}
		if _, dup := t.users[name]; dup {
			return nil, fmt.Errorf("line %d: user %q is listed twice", k.Line, name)
		}
		var e entry
		if err := v.Decode(&e); err != nil {
			return nil, fmt.Errorf("line %d: user %q: %w", v.Line, name, err)
		}
		pwLine := keyLine(v, "password")
		h, herr := ParseHash(e.Password)
		if herr != nil && !opts.skip() {
			return nil, fmt.Errorf("line %d: user %q: %w", pwLine, name, herr)
		}
		// A user left out keeps their name and email in the index, so
		// that a collision with them is still refused.
		if err := x.add(name, k.Line, e.Email, keyLine(v, "email")); err != nil {
			return nil, err
		}
		if herr != nil {
			t.skipped = append(t.skipped, Skipped{Line: pwLine, User: name, Reason: herr})
			continue
		}
		groups := append([]string(nil), e.Groups...)
		sort.Strings(groups)
		t.users[name] = &User{Name: name, DisplayName: e.DisplayName, Email: e.Email, Groups: groups, Disabled: e.Disabled, hash: h,
			groupsHeader: strings.Join(groups, ","), rawHash: e.Password, passwordLine: pwLine}
	}
	t.idx = x.idx
	return t, nil
}

// usersMapping is the mapping under the top-level users: key.
func usersMapping(root *yaml.Node) (*yaml.Node, error) {
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: users file must be a mapping with a 'users:' key", root.Line)
	}
	var usersNode *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "users" {
			usersNode = root.Content[i+1]
		}
	}
	if usersNode == nil {
		return nil, fmt.Errorf("line %d: users file has no 'users:' key", root.Line)
	}
	if usersNode.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: 'users:' must be a mapping of user name to details", usersNode.Line)
	}
	return usersNode, nil
}

// keyLine finds the line of the value of key in a user node, for errors
// (the user's line if the key is absent).
func keyLine(v *yaml.Node, key string) int {
	if n := valueOf(v, key); n != nil {
		return n.Line
	}
	return v.Line
}

// valueOf is the value node of key in mapping v, or nil.
func valueOf(v *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(v.Content); i += 2 {
		if v.Content[i].Value == key {
			return v.Content[i+1]
		}
	}
	return nil
}

// GroupsHeader is the user's groups joined with commas, as Authelia sends
// them in Remote-Groups. It is computed once when the file is read.
func (u *User) GroupsHeader() string { return u.groupsHeader }
