package challenge

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// checks reports whether secret is one of user's app passwords.
func checks(t *testing.T, e *Engine, user, secret string) bool {
	t.Helper()
	name, _, err := e.CheckAppPassword(context.Background(), user, secret)
	if err != nil {
		t.Fatal(err)
	}
	return name != ""
}

// noSkip fails the test for any account the index's build passes over.
func noSkip(t *testing.T) func(string, error) {
	return func(user string, err error) { t.Errorf("the index's build passed over %s: %v", user, err) }
}

// unreadableAccounts is a store whose account of one user does not decode.
type unreadableAccounts struct {
	store.Accounts
	bad string
}

func (a unreadableAccounts) Get(ctx context.Context, user string) (*store.Account, error) {
	if user == a.bad {
		return nil, errors.New("account record: invalid character 'x' looking for beginning of value")
	}
	return a.Accounts.Get(ctx, user)
}

// An account that does not decode is passed over (and told), and the
// users after it are still indexed; a store that cannot be reached stops
// the build.
func TestAppPasswordIndexPassesOverAnUnreadableAccount(t *testing.T) {
	f := newFixture(t)
	withUsers(t, f)
	f.e.KV = store.NewMemoryKV()
	ctx := context.Background()
	f.e.Accounts = unreadableAccounts{f.e.Accounts, "alice"} // the users file lists bob first
	var skipped []string
	if err := f.e.BuildAppPasswordIndex(ctx, func(user string, _ error) { skipped = append(skipped, user) }); err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 || skipped[0] != "alice" {
		t.Fatalf("passed over %v, want [alice]", skipped)
	}
	for user, marked := range map[string]bool{"alice": false, "bob": true} {
		if _, err := f.e.KV.Get(ctx, appPasswordIndexedPrefix+user); (err == nil) != marked {
			t.Fatalf("%s marked %v, want %v", user, err == nil, marked)
		}
	}
}

// App passwords made before the index existed work before it is built (the
// account decides) and after (the index was built from the accounts of the
// users file, each user marked); a user the users file lacks (one of
// another gateway's file on the same store) is not marked, and their app
// password still works.
func TestAppPasswordIndexBuiltFromAccounts(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		withUsers(t, f.fixture)
		ctx := context.Background()
		// App passwords saved the way the release before the index did.
		const old = "abcdefghijklmnop"
		for _, user := range []string{"alice", "dave"} {
			err := f.e.Accounts.Update(ctx, user, func(a *store.Account) error {
				a.AppPasswords = append(a.AppPasswords, store.AppPassword{ID: "0123456789ab", Name: "mail", Hash: f.e.appPasswordHash(user, old), Created: f.e.Now()})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if !checks(t, f.e, "alice", old) {
			t.Fatal("an app password from before the index fails before the index is built")
		}
		if err := f.e.BuildAppPasswordIndex(ctx, noSkip(t)); err != nil {
			t.Fatal(err)
		}
		if !checks(t, f.e, "alice", old) {
			t.Fatal("an app password from before the index fails once it is built")
		}
		for user, marked := range map[string]bool{"alice": true, "bob": true, "dave": false} {
			if _, err := f.e.KV.Get(ctx, appPasswordIndexedPrefix+user); (err == nil) != marked {
				t.Fatalf("%s's index marked: %v, want %v", user, err == nil, marked)
			}
		}
		if !checks(t, f.e, "dave", old) {
			t.Fatal("the app password of a user of another users file fails once this gateway built its index")
		}
		// Built again (another start): nothing changes.
		if err := f.e.BuildAppPasswordIndex(ctx, noSkip(t)); err != nil || !checks(t, f.e, "alice", old) {
			t.Fatalf("a second build: %v", err)
		}
	})
}

// The index never lets through what the account does not hold: a revoked
// app password, one of another user, or a stale entry.
func TestAppPasswordIndexFollowsTheAccount(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		withUsers(t, f.fixture)
		ctx := context.Background()
		sessions, err := session.NewStore(session.Config{Cookies: testSessionCookies{}, Idle: time.Hour, Lifetime: 12 * time.Hour, HashKeys: [][]byte{make([]byte, 32)}}, f.e.KV)
		if err != nil {
			t.Fatal(err)
		}
		f.e.Sessions = sessions
		if err := f.e.BuildAppPasswordIndex(ctx, noSkip(t)); err != nil {
			t.Fatal(err)
		}
		pw, err := f.e.CreateAppPassword(ctx, "alice", "mail")
		if err != nil {
			t.Fatal(err)
		}
		secret := strings.ReplaceAll(pw, "-", "")
		if !checks(t, f.e, "alice", pw) || checks(t, f.e, "bob", pw) {
			t.Fatal("a new app password: not for its user, or for another")
		}
		if _, err := f.e.KV.Get(ctx, appPasswordIndexKey(f.e.appPasswordHash("alice", secret))); err != nil {
			t.Fatalf("a new app password is not indexed: %v", err)
		}
		a, _ := f.e.Account(ctx, "alice")
		if ok, err := f.e.RevokeAppPassword(ctx, "alice", a.AppPasswords[0].ID); !ok || err != nil {
			t.Fatalf("RevokeAppPassword = %v, %v", ok, err)
		}
		if checks(t, f.e, "alice", pw) {
			t.Fatal("a revoked app password still works")
		}
		if _, err := f.e.KV.Get(ctx, appPasswordIndexKey(f.e.appPasswordHash("alice", secret))); err == nil {
			t.Fatal("a revoked app password is still indexed")
		}
		// A stale entry (a revocation whose delete failed) is not enough.
		if err := f.e.indexAppPassword(ctx, f.e.appPasswordHash("alice", secret)); err != nil {
			t.Fatal(err)
		}
		if checks(t, f.e, "alice", pw) {
			t.Fatal("a stale index entry let a revoked app password through")
		}
		// Revoking all, ending the user, resetting: the index goes too.
		for _, end := range []func() error{
			func() error { _, err := f.e.RevokeAllAppPasswords(ctx, "alice"); return err },
			func() error { _, err := f.e.EndUser(ctx, "alice"); return err },
			func() error { _, err := f.e.Reset(ctx, "alice"); return err },
		} {
			pw, err := f.e.CreateAppPassword(ctx, "alice", "mail")
			if err != nil {
				t.Fatal(err)
			}
			if err := end(); err != nil {
				t.Fatal(err)
			}
			key := appPasswordIndexKey(f.e.appPasswordHash("alice", strings.ReplaceAll(pw, "-", "")))
			if _, err := f.e.KV.Get(ctx, key); err == nil || checks(t, f.e, "alice", pw) {
				t.Fatal("an app password ended with its user's access is still indexed or works")
			}
		}
	})
}
