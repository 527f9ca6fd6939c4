package challenge

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/recovery"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

func TestTemporaryPassIsBoundedAndForKnownUsers(t *testing.T) {
	f := newPhoneFixture(t, shortStoreKinds[0], nil)
	withUsers(t, f.fixture)
	ctx := context.Background()
	for _, c := range []struct {
		d    time.Duration
		uses int
	}{{0, 1}, {-time.Hour, 1}, {MaxTemporaryPass + time.Second, 1}, {time.Hour, 0}, {time.Hour, MaxTemporaryPassUses + 1}} {
		if _, _, err := f.e.IssueTemporaryPass(ctx, "alice", c.d, c.uses); !errors.Is(err, ErrTemporaryPass) {
			t.Errorf("IssueTemporaryPass(%v, %d) = %v, want ErrTemporaryPass", c.d, c.uses, err)
		}
	}
	for _, u := range []string{"mallory", "carol"} {
		if _, _, err := f.e.IssueTemporaryPass(ctx, u, time.Hour, 1); !errors.Is(err, ErrNoSuchUser) {
			t.Errorf("IssueTemporaryPass(%s) = %v, want ErrNoSuchUser", u, err)
		}
	}
	pass, exp, err := f.e.IssueTemporaryPass(ctx, "alice", 8*time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !recovery.LooksLike(pass, temporaryPassGroups) || len(pass) != 19 {
		t.Errorf("pass %q: want four groups of four symbols", pass)
	}
	if want := f.clock.Now().Add(8 * time.Hour).Truncate(time.Second); !exp.Equal(want) {
		t.Errorf("expires %v, want %v", exp, want)
	}
	// Only a keyed hash is stored: the pass is nowhere in the store.
	raw, err := f.e.KV.Get(ctx, temporaryPassKey("alice"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), recovery.Normalize(pass)) || strings.Contains(string(raw), pass) {
		t.Errorf("the pass is stored in clear: %s", raw)
	}
}

func TestTemporaryPassOnceForItsUserWithinItsTime(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		withUsers(t, f.fixture)
		ctx := context.Background()
		use := func(user, code string, want PassResult) {
			t.Helper()
			if got, err := f.e.UseTemporaryPass(ctx, user, code); err != nil || got != want {
				t.Fatalf("UseTemporaryPass(%s, %q) = %v, %v; want %v", user, code, got, err, want)
			}
		}
		use("alice", "k7fq-2mzp-x9ab-4tnc", PassWrong) // none issued
		pass, _, err := f.e.IssueTemporaryPass(ctx, "alice", time.Hour, 1)
		if err != nil {
			t.Fatal(err)
		}
		bobs, _, err := f.e.IssueTemporaryPass(ctx, "bob", time.Hour, 1)
		if err != nil {
			t.Fatal(err)
		}
		use("alice", bobs, PassWrong)                                             // another user's
		use("alice", pass[:len(pass)-1]+"2", PassWrong)                           // mistyped
		use("alice", strings.ToUpper(strings.ReplaceAll(pass, "-", " ")), PassOK) // read aloud, typed in capitals
		use("alice", pass, PassWrong)                                             // used
		use("bob", bobs, PassOK)

		// Two uses, then none.
		pass, _, err = f.e.IssueTemporaryPass(ctx, "alice", time.Hour, 2)
		if err != nil {
			t.Fatal(err)
		}
		use("alice", pass, PassOK)
		use("alice", pass, PassOK)
		use("alice", pass, PassWrong)

		// A new pass replaces the old one.
		old, _, _ := f.e.IssueTemporaryPass(ctx, "alice", time.Hour, 1)
		pass, _, _ = f.e.IssueTemporaryPass(ctx, "alice", time.Hour, 1)
		use("alice", old, PassWrong)
		use("alice", pass, PassOK)

		// Past its end it is expired (and gone after that).
		pass, _, _ = f.e.IssueTemporaryPass(ctx, "alice", 10*time.Minute, 1)
		f.advance(10 * time.Minute)
		use("alice", pass, PassExpired)
		use("alice", pass, PassWrong)
	})
}

// Of many requests racing with one pass of one use, exactly one is let in.
func TestTemporaryPassRacedOnce(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		withUsers(t, f.fixture)
		ctx := context.Background()
		for _, uses := range []int{1, 3} {
			pass, _, err := f.e.IssueTemporaryPass(ctx, "alice", time.Hour, uses)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			ok := 0
			for range 16 {
				wg.Go(func() {
					r, err := f.e.UseTemporaryPass(ctx, "alice", pass)
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					defer mu.Unlock()
					if r == PassOK {
						ok++
					}
				})
			}
			wg.Wait()
			// A racer that read the record being respent may lose although uses
			// are left; never does one win more than the uses.
			if ok < 1 || ok > uses {
				t.Errorf("%d uses: %d of 16 racing requests got in", uses, ok)
			}
		}
	})
}

// revokeDuringUse is a KV that revokes alice's pass right after a use
// took it (between the take and the write-back of its remaining uses).
type revokeDuringUse struct {
	store.KV
	e *Engine
}

func (k revokeDuringUse) DeleteIf(ctx context.Context, key string, value []byte) (bool, error) {
	ok, err := k.KV.DeleteIf(ctx, key, value)
	if ok && key == temporaryPassKey("alice") {
		if err := k.e.RevokeTemporaryPass(ctx, "alice"); err != nil {
			return ok, err
		}
	}
	return ok, err
}

// A revocation that lands while a pass of several uses is being used is
// not undone by the write-back of its remaining uses.
func TestTemporaryPassRevokedDuringAUseStaysRevoked(t *testing.T) {
	f := newPhoneFixture(t, shortStoreKinds[0], nil)
	withUsers(t, f.fixture)
	ctx := context.Background()
	pass, _, err := f.e.IssueTemporaryPass(ctx, "alice", time.Hour, 3)
	if err != nil {
		t.Fatal(err)
	}
	plain := f.e.KV
	f.e.KV = revokeDuringUse{KV: plain, e: f.e}
	if r, err := f.e.UseTemporaryPass(ctx, "alice", pass); err != nil || r != PassOK {
		t.Fatalf("the use in flight: %v, %v", r, err)
	}
	f.e.KV = plain
	if r, err := f.e.UseTemporaryPass(ctx, "alice", pass); err != nil || r != PassWrong {
		t.Errorf("after the revocation the pass gives %v, %v; want PassWrong", r, err)
	}
	if revoked, err := f.e.TemporaryPassRevoked(ctx, "alice"); !revoked || err != nil {
		t.Errorf("TemporaryPassRevoked = %v, %v after a revocation", revoked, err)
	}
	// A new pass after a revocation works.
	pass, _, err = f.e.IssueTemporaryPass(ctx, "alice", time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	if revoked, err := f.e.TemporaryPassRevoked(ctx, "alice"); revoked || err != nil {
		t.Errorf("TemporaryPassRevoked = %v, %v after a new pass", revoked, err)
	}
	if r, err := f.e.UseTemporaryPass(ctx, "alice", pass); err != nil || r != PassOK {
		t.Errorf("a pass issued after a revocation: %v, %v", r, err)
	}
}
