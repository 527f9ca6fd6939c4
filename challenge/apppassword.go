package challenge

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// App passwords: for clients that cannot do the second factor (mail apps,
// WebDAV, scripts). Each is 80 random bits shown once in an easy-to-type
// form, stored as a keyed hash, and good only as HTTP Basic auth for its
// own user on routes that allow it. Being high-entropy, it is checked with
// a fast keyed hash, not a slow password hash.

// MaxAppPasswords is how many app passwords a user may have.
const MaxAppPasswords = 40

// appPasswordUseEvery is how often the last use of an app password is
// written down: not on every request.
const appPasswordUseEvery = time.Hour

// ErrTooManyAppPasswords is a 41st app password.
var ErrTooManyAppPasswords = fmt.Errorf("at most %d app passwords per user", MaxAppPasswords)

// ErrBadAppPasswordName is an empty or overlong name.
var ErrBadAppPasswordName = errors.New("an app password needs a name of 1 to 64 characters")

// appPasswordAlphabet is lower-case base32 (RFC 4648): 16 characters carry
// the 80 bits, and it has no 0, 1 or 8 to mistake for o, l or b.
const appPasswordAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

func appPasswordEncoding() *base32.Encoding {
	return base32.NewEncoding(appPasswordAlphabet).WithPadding(base32.NoPadding)
}

// normalizeAppPassword takes an app password as typed (any case, with or
// without dashes and spaces) to its 16 characters, or "" if it cannot be one.
func normalizeAppPassword(s string) string {
	if len(s) > 64 {
		return ""
	}
	s = strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(s))
	if len(s) != 16 || strings.Trim(s, appPasswordAlphabet) != "" {
		return ""
	}
	return s
}

func (e *Engine) appPasswordHash(user, secret string) []byte {
	return e.Keys.HashCode("app-password", user+"\x00"+secret)
}

// CreateAppPassword makes an app password named name for user and returns
// it, formatted for typing (abcd-efgh-ijkl-mnop), to show once.
func (e *Engine) CreateAppPassword(ctx context.Context, user, name string) (string, error) {
	name, ok := cleanName(name)
	if !ok {
		return "", ErrBadAppPasswordName
	}
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making an app password: %w", err)
	}
	secret := appPasswordEncoding().EncodeToString(b)
	id := make([]byte, 6)
	if _, err := rand.Read(id); err != nil {
		return "", fmt.Errorf("making an app password id: %w", err)
	}
	now, h := e.Now(), e.appPasswordHash(user, secret)
	// Indexed first: the index may hold one the account lacks, never the
	// reverse (see apppassword_index.go).
	if err := e.indexAppPassword(ctx, h); err != nil {
		return "", err
	}
	var first bool
	err := e.updateAccount(ctx, user, "saving app password", func(a *store.Account) error {
		first = len(a.AppPasswords) == 0
		if len(a.AppPasswords) >= MaxAppPasswords {
			return ErrTooManyAppPasswords
		}
		a.AppPasswords = append(a.AppPasswords, store.AppPassword{ID: hex.EncodeToString(id), Name: name, Hash: h, Created: now})
		return nil
	})
	if err != nil {
		_ = e.unindexAppPasswords(ctx, []store.AppPassword{{Hash: h}}) // best effort: a stale entry is harmless
		return "", err
	}
	if first {
		// The user's only app password is indexed: their index is complete.
		if err := e.markAppPasswordsIndexed(ctx, user); err != nil {
			return "", err
		}
	}
	return secret[0:4] + "-" + secret[4:8] + "-" + secret[8:12] + "-" + secret[12:16], nil
}

// RevokeAppPassword removes user's app password id; false if there was none.
func (e *Engine) RevokeAppPassword(ctx context.Context, user, id string) (bool, error) {
	var gone []store.AppPassword
	found, err := removeByID(ctx, e, user, "app password", func(a *store.Account) *[]store.AppPassword { return &a.AppPasswords },
		func(p store.AppPassword) bool {
			if p.ID == id {
				gone = append(gone, p)
				return true
			}
			return false
		})
	if err != nil {
		return false, err
	}
	return found, e.unindexAppPasswords(ctx, gone)
}

// removeByID deletes from user's list (of what) the entries that match;
// false if none did.
func removeByID[T any](ctx context.Context, e *Engine, user, what string, list func(*store.Account) *[]T, match func(T) bool) (bool, error) {
	var found bool
	err := e.updateAccount(ctx, user, "removing "+what, func(a *store.Account) error {
		l := list(a)
		n := len(*l)
		*l = slices.DeleteFunc(*l, match)
		found = len(*l) < n
		return nil
	})
	if err != nil {
		return false, err
	}
	return found, nil
}

// CheckAppPassword reports which app password of user secret is (its
// name), or "" if none. A use is written down at most once an hour;
// recorded reports that this one was.
func (e *Engine) CheckAppPassword(ctx context.Context, user, secret string) (name string, recorded bool, err error) {
	secret = normalizeAppPassword(secret)
	if secret == "" {
		return "", false, nil
	}
	// One keyed hash and one read of the index, whoever the user: only an
	// app password the index holds reads the account.
	h := e.appPasswordHash(user, secret)
	if ok, err := e.appPasswordMayExist(ctx, user, h); err != nil || !ok {
		return "", false, err
	}
	a, err := e.Account(ctx, user)
	if err != nil || a == nil {
		return "", false, err
	}
	i := slices.IndexFunc(a.AppPasswords, func(p store.AppPassword) bool { return subtle.ConstantTimeCompare(p.Hash, h) == 1 })
	if i < 0 {
		return "", false, nil
	}
	p, now := a.AppPasswords[i], e.Now()
	if recorded = now.Sub(p.LastUsed) >= appPasswordUseEvery; recorded {
		err := e.updateAccount(ctx, user, "recording app password use", func(a *store.Account) error {
			for j := range a.AppPasswords {
				if a.AppPasswords[j].ID == p.ID {
					a.AppPasswords[j].LastUsed = now
				}
			}
			return nil
		})
		if err != nil {
			return "", false, err
		}
	}
	return p.Name, recorded, nil
}

// noSuchUser is the account that a name the users file lacks (or disables)
// is checked against. It is never written, and an unknown name never
// passes whatever it might hold.
const noSuchUser = "\x00no-such-user"

// CheckUserAppPassword checks secret as an app password of the user named
// name in the users file, returning the user and the app password's name
// (see CheckAppPassword), or a nil user if either is wrong. A name the
// users file lacks or disables is checked, with the same store read and
// keyed hash, against an account no user has, so that the answer takes as
// long as for a real user's wrong app password (as Caddy's basicauth hashes
// a fake password for unknown users): one keyed hash and one read of the
// app-password index either way.
func (e *Engine) CheckUserAppPassword(ctx context.Context, name, secret string) (u *users.User, pwName string, recorded bool, err error) {
	u = e.Users.Lookup(name)
	account := name
	if u == nil {
		account = noSuchUser
	}
	if pwName, recorded, err = e.CheckAppPassword(ctx, account, secret); err != nil || pwName == "" || u == nil {
		return nil, "", false, err
	}
	return u, pwName, recorded, nil
}

// RevokeAllAppPasswords removes every app password of user ("sign out
// everywhere and revoke app passwords") and returns how many there were.
func (e *Engine) RevokeAllAppPasswords(ctx context.Context, user string) (int, error) {
	var gone []store.AppPassword
	err := e.updateAccount(ctx, user, "revoking app passwords", func(a *store.Account) error {
		gone, a.AppPasswords = a.AppPasswords, nil
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(gone), e.unindexAppPasswords(ctx, gone)
}
