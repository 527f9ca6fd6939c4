package users

import (
	"fmt"

	"go.uber.org/zap"
)

// What to do with a user whose password hash cannot be read, in
// Options.OnBadHash.
const (
	// OnBadHashRefuse refuses the whole file (the gateway does not start;
	// a reload keeps the users read before), naming the line and reason.
	OnBadHashRefuse = "refuse"
	// OnBadHashSkip leaves that user out, logs a warning naming the line
	// and the user, and reads the rest: for migrations from a file with
	// hashes of other kinds.
	OnBadHashSkip = "skip"
)

// Options change how the users file is read and used. The zero value is
// the behaviour of a users file without options.
type Options struct {
	// OnBadHash is OnBadHashRefuse (the default when empty) or
	// OnBadHashSkip.
	OnBadHash string
	// RehashOnSignIn rewrites a weak hash (Hash.Weak) to argon2id at
	// DefaultArgon2 after a successful sign-in, in the file itself (see
	// rehash.go).
	RehashOnSignIn bool
	// SearchEmail lets users sign in with their email address as well as
	// their name, as Authelia's search.email.
	SearchEmail bool
	// CaseInsensitive compares names (and emails) after NFKC and Unicode
	// case folding, as Authelia's search.case_insensitive.
	CaseInsensitive bool
	// Logger receives the warnings about users left out and the hash
	// upgrades; nil logs nothing.
	Logger *zap.Logger
}

// Validate reports an option out of range.
func (o Options) Validate() error {
	switch o.OnBadHash {
	case "", OnBadHashRefuse, OnBadHashSkip:
		return nil
	}
	return fmt.Errorf("on_bad_hash %q: want %q or %q", o.OnBadHash, OnBadHashRefuse, OnBadHashSkip)
}

// skip reports whether users with unreadable hashes are left out.
func (o Options) skip() bool { return o.OnBadHash == OnBadHashSkip }

// logger is Logger or one that logs nothing.
func (o Options) logger() *zap.Logger {
	if o.Logger == nil {
		return zap.NewNop()
	}
	return o.Logger
}
