package challenge

import (
	"context"
	"fmt"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// Directory is the first factor: where users, their groups and their
// passwords come from. The users file (*users.DB) is one; an LDAP or
// Active Directory server (package ldapdir) is another.
type Directory interface {
	// Lookup returns an enabled user by canonical name, or nil. It is on
	// the hot path of every signed-in request: it answers from memory and
	// never waits on I/O.
	Lookup(name string) *users.User
	// Authenticate checks a typed name and a password and returns the
	// user, or nil if either is wrong (unknown names cost what known ones
	// do). Every check passes through Gate: users.ErrBusy means none was
	// made. An error wrapping store.ErrUnavailable is a directory that
	// cannot be reached (the caller answers 503).
	Authenticate(ctx context.Context, name, password string) (*users.User, error)
	// Canonical is the canonical user name a typed name stands for, as
	// far as the first factor knows without I/O (never waits): for app
	// passwords, the admin API and the log.
	Canonical(typed string) string
	// CanonicalName is the canonical user name a typed name stands for,
	// under which a sign-in's limits and lockouts count (the typed name
	// itself when no user has it); a directory asks its server.
	CanonicalName(ctx context.Context, typed string) (string, error)
	// All lists the users the directory names, by name: every user of a
	// users file, or the directory users who have signed in (a directory
	// is not crawled).
	All() []*users.User
	// Gate bounds concurrent password checks.
	Gate() *users.Gate
}

// Interface guard.
var _ Directory = (*users.DB)(nil)

// pender is a Directory that may not know yet whether a name is a user
// (an LDAP directory still asking the server about it).
type pender interface{ Pending(name string) bool }

// UserPending reports whether the first factor has not yet answered about
// name, a user Lookup does not know: such a user is neither let in nor
// signed out (the caller answers 503; a retry a moment later finds them).
// Always false for the users file.
func (e *Engine) UserPending(name string) bool {
	p, ok := e.Users.(pender)
	return ok && p.Pending(name)
}

// peeker is a Directory whose Lookup has a side effect for names it lacks
// (an LDAP directory asks its server about them in the background): Peek
// answers from memory alone.
type peeker interface{ Peek(name string) *users.User }

// KnownUser is Lookup without side effects: for what an unauthenticated
// request typed (the log's user of a refused sign-in), which must not
// make the directory search for it or grow its cache.
func (e *Engine) KnownUser(name string) *users.User {
	if p, ok := e.Users.(peeker); ok {
		return p.Peek(name)
	}
	return e.Users.Lookup(name)
}

// FindUser is the enabled user a typed name stands for, asking the
// directory if it must (a directory user who has never signed in), or nil
// if there is none: for an administrator's action on a user who may not
// have signed in yet. It waits at most until ctx ends for a directory's
// answer.
func (e *Engine) FindUser(ctx context.Context, typed string) (*users.User, error) {
	name, err := e.Users.CanonicalName(ctx, typed)
	if err != nil {
		return nil, fmt.Errorf("looking up %q: %w", typed, err)
	}
	for {
		if u := e.Users.Lookup(name); u != nil || !e.UserPending(name) {
			return u, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("looking up %q: %w", typed, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
