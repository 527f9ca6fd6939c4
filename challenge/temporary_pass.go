package challenge

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/recovery"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// A Temporary Access Pass: a code an administrator issues to one user, who
// types it after their password instead of a second factor, to register
// one (a first one, or again after losing every method). It is kept only
// as a keyed hash bound to the user's name.

// MaxTemporaryPass is the longest a temporary access pass may stay valid.
const MaxTemporaryPass = 24 * time.Hour

// MaxTemporaryPassUses is the most sign-ins one pass may serve.
const MaxTemporaryPassUses = 10

// temporaryPassGroups gives passes such as "k7fq-2mzp-x9ab-4tnc": 16
// symbols of 30, about 78 bits.
const temporaryPassGroups = 4

// keepExpired is how long a pass's record outlives its expiry, so that
// a try of it afterwards is told (and logged) as expired, not unknown.
const keepExpired = 24 * time.Hour

// ErrTemporaryPass is a pass asked for with a bad duration or number of
// uses.
var ErrTemporaryPass = fmt.Errorf("a temporary access pass lasts more than 0 and at most %v, for 1 to %d sign-ins", MaxTemporaryPass, MaxTemporaryPassUses)

// PassResult is what a typed temporary access pass turned out to be.
type PassResult int

const (
	// PassWrong is a pass that is not the user's: mistyped, another
	// user's, or none waiting (never issued, used up, or replaced).
	PassWrong PassResult = iota
	// PassExpired is the user's pass, past its end.
	PassExpired
	// PassOK is the user's pass, valid: one of its uses is spent.
	PassOK
)

// temporaryPass is the stored record of a pass.
type temporaryPass struct {
	Hash    []byte    `json:"hash"`
	Issued  time.Time `json:"issued"`
	Expires time.Time `json:"expires"`
	Uses    int       `json:"uses"`
}

func temporaryPassKey(user string) string { return "tap:" + user }

// temporaryPassHash binds a pass to its user: the same code issued to
// another user does not match.
func (e *Engine) temporaryPassHash(user, code string) []byte {
	return e.Keys.HashCode("temporary-pass", user+"\x00"+recovery.Normalize(code))
}

// IssueTemporaryPass makes a new pass for user, valid for d (at most
// MaxTemporaryPass) and uses sign-ins (1 to MaxTemporaryPassUses),
// replacing any pass the user had. It returns the pass, to be shown once,
// and when it expires. ErrNoSuchUser for a user the directory lacks or
// disables.
func (e *Engine) IssueTemporaryPass(ctx context.Context, user string, d time.Duration, uses int) (string, time.Time, error) {
	if d <= 0 || d > MaxTemporaryPass || uses < 1 || uses > MaxTemporaryPassUses {
		return "", time.Time{}, fmt.Errorf("%w, not %v for %d", ErrTemporaryPass, d, uses)
	}
	if e.Users.Lookup(user) == nil {
		return "", time.Time{}, ErrNoSuchUser
	}
	code, err := recovery.Random(temporaryPassGroups)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("making a temporary access pass: %w", err)
	}
	now := e.Now().UTC().Truncate(time.Second)
	rec := temporaryPass{Hash: e.temporaryPassHash(user, code), Issued: now, Expires: now.Add(d), Uses: uses}
	v, err := json.Marshal(rec)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("encoding a temporary access pass: %w", err)
	}
	if err := e.KV.Set(ctx, temporaryPassKey(user), v, d+keepExpired); err != nil {
		return "", time.Time{}, fmt.Errorf("%w: saving the temporary access pass of %q: %w", store.ErrUnavailable, user, err)
	}
	return code, rec.Expires, nil
}

// UseTemporaryPass checks code, typed by user after their password, and
// spends one use of it if it is their valid pass. Of two requests racing
// with the last use, one gets PassOK and the other PassWrong. A pass found
// expired is removed.
func (e *Engine) UseTemporaryPass(ctx context.Context, user, code string) (PassResult, error) {
	key := temporaryPassKey(user)
	raw, err := e.KV.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return PassWrong, nil
	}
	if err != nil {
		return PassWrong, fmt.Errorf("%w: reading the temporary access pass of %q: %w", store.ErrUnavailable, user, err)
	}
	var rec temporaryPass
	if err := json.Unmarshal(raw, &rec); err != nil {
		return PassWrong, nil // unreadable: no pass
	}
	if !recovery.LooksLike(code, temporaryPassGroups) ||
		subtle.ConstantTimeCompare(e.temporaryPassHash(user, code), rec.Hash) != 1 {
		return PassWrong, nil
	}
	if !e.Now().Before(rec.Expires) {
		if _, err := e.KV.DeleteIf(ctx, key, raw); err != nil {
			return PassExpired, fmt.Errorf("%w: removing the expired temporary access pass of %q: %w", store.ErrUnavailable, user, err)
		}
		return PassExpired, nil
	}
	// Spend the use on the record as read: a racer who read it too finds
	// it gone (or changed) and loses.
	won, err := e.KV.DeleteIf(ctx, key, raw)
	if err != nil {
		return PassWrong, fmt.Errorf("%w: using the temporary access pass of %q: %w", store.ErrUnavailable, user, err)
	}
	if !won {
		return PassWrong, nil
	}
	if rec.Uses > 1 {
		rec.Uses--
		v, err := json.Marshal(rec)
		if err != nil {
			return PassOK, fmt.Errorf("encoding a temporary access pass: %w", err)
		}
		// Only if no new pass was issued meanwhile (that one stands).
		if _, err := e.KV.Create(ctx, key, v, rec.Expires.Sub(e.Now())+keepExpired); err != nil {
			return PassOK, fmt.Errorf("%w: saving the temporary access pass of %q: %w", store.ErrUnavailable, user, err)
		}
	}
	return PassOK, nil
}

// revokedPass is what a revoked pass's record holds: no pass (it does not
// decode), and it keeps a use in flight from writing the pass's remaining
// uses back (Create fails while it is there). A new pass replaces it.
const revokedPass = "revoked"

// RevokeTemporaryPass removes the pass of user, if any, for good: a use in
// flight does not bring it back.
func (e *Engine) RevokeTemporaryPass(ctx context.Context, user string) error {
	if err := e.KV.Set(ctx, temporaryPassKey(user), []byte(revokedPass), MaxTemporaryPass+keepExpired); err != nil {
		return fmt.Errorf("%w: removing the temporary access pass of %q: %w", store.ErrUnavailable, user, err)
	}
	return nil
}

// TemporaryPassRevoked reports whether the pass of user was revoked (and
// no new one issued since): what a pass let a session do and has not
// done yet (register a method) ends with it.
func (e *Engine) TemporaryPassRevoked(ctx context.Context, user string) (bool, error) {
	v, err := e.KV.Get(ctx, temporaryPassKey(user))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%w: reading the temporary access pass of %q: %w", store.ErrUnavailable, user, err)
	}
	return string(v) == revokedPass, nil
}
