package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

// testAccounts runs the behaviours every Accounts implementation must have.
// newStore must return a new, empty store; it is called once per subtest, so
// subtests do not see each other's records. A new implementation (Redis,
// say) gets the whole table with one line:
//
//	func TestRedisAccounts(t *testing.T) { testAccounts(t, newRedisAccounts) }
func testAccounts(t *testing.T, newStore func(t *testing.T) Accounts) {
	t.Helper()
	ctx := context.Background()
	t.Run("missing account is ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		a, err := s.Get(ctx, "alice")
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get of a missing account: err = %v, want ErrNotFound", err)
		}
		if a != nil {
			t.Fatalf("Get of a missing account returned %+v", a)
		}
	})

	t.Run("update creates the account", func(t *testing.T) {
		s := newStore(t)
		before := time.Now().Add(-time.Second)
		var seen Account
		err := s.Update(ctx, "alice", func(a *Account) error {
			seen = *a
			a.TOTP = &TOTP{Secret: []byte("sealed"), Algorithm: "SHA1", Digits: 6, Period: 30, LastStep: 7}
			return nil
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if seen.User != "alice" || seen.TOTP != nil || seen.RecoveryCodes != nil {
			t.Fatalf("fn of a new account got %+v, want an empty account named alice", seen)
		}
		if seen.Created.Before(before) {
			t.Fatalf("new account Created = %v, want about now", seen.Created)
		}
		a, err := s.Get(ctx, "alice")
		if err != nil {
			t.Fatalf("Get after Update: %v", err)
		}
		if a.User != "alice" || a.TOTP == nil || a.TOTP.LastStep != 7 || string(a.TOTP.Secret) != "sealed" {
			t.Fatalf("Get after Update = %+v (TOTP %+v)", a, a.TOTP)
		}
		if !a.Created.Equal(seen.Created) {
			t.Fatalf("Created = %v, want %v", a.Created, seen.Created)
		}
		if !a.HasSecondFactor() {
			t.Fatal("account with TOTP does not report a second factor")
		}
	})

	t.Run("update sees the previous state and keeps Created", func(t *testing.T) {
		s := newStore(t)
		mustUpdate(t, s, "alice", func(a *Account) error {
			a.RecoveryCodes = [][]byte{{1}, {2}, {3}}
			return nil
		})
		first := mustGet(t, s, "alice")
		mustUpdate(t, s, "alice", func(a *Account) error {
			if len(a.RecoveryCodes) != 3 {
				return fmt.Errorf("second update sees %d recovery codes, want 3", len(a.RecoveryCodes))
			}
			a.RecoveryCodes = a.RecoveryCodes[1:]
			return nil
		})
		a := mustGet(t, s, "alice")
		if len(a.RecoveryCodes) != 2 || a.RecoveryCodes[0][0] != 2 || a.RecoveryCodes[1][0] != 3 {
			t.Fatalf("RecoveryCodes = %v, want [[2] [3]]", a.RecoveryCodes)
		}
		if !a.Created.Equal(first.Created) {
			t.Fatalf("Created changed by an update: %v -> %v", first.Created, a.Created)
		}
	})

	t.Run("every field round-trips", func(t *testing.T) {
		s := newStore(t)
		t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
		want := Account{
			User: "alice",
			TOTP: &TOTP{
				Secret: []byte{0, 1, 2, 0xff}, Algorithm: "SHA256", Digits: 8, Period: 60,
				LastStep: 1 << 40, Added: t0, LastUsed: t0.Add(time.Hour),
			},
			RecoveryCodes: [][]byte{bytes.Repeat([]byte{0xaa}, 32), bytes.Repeat([]byte{0x00}, 32)},
			Created:       t0.Add(-time.Hour),
			LastSignIn:    t0.Add(2 * time.Hour),
			KeyHandle:     bytes.Repeat([]byte{0x5a}, 32),
			Keys: []SecurityKey{{
				CredentialID: []byte{1, 2, 3}, Name: "YubiKey ✓", PublicKey: []byte{0xa5, 1, 2},
				AttestationType: "none", AttestationFormat: "none", Transports: []string{"usb", "nfc"},
				AAGUID: bytes.Repeat([]byte{9}, 16), SignCount: 1<<32 - 1, Flags: 0x5d,
				Added: t0, LastUsed: t0.Add(time.Minute),
			}},
		}
		mustUpdate(t, s, "alice", func(a *Account) error {
			*a = want
			a.TOTP = &TOTP{}
			*a.TOTP = *want.TOTP
			return nil
		})
		got := mustGet(t, s, "alice")
		if got.User != want.User || !got.Created.Equal(want.Created) || !got.LastSignIn.Equal(want.LastSignIn) {
			t.Fatalf("account = %+v, want %+v", got, want)
		}
		g, w := got.TOTP, want.TOTP
		if g == nil || !bytes.Equal(g.Secret, w.Secret) || g.Algorithm != w.Algorithm || g.Digits != w.Digits ||
			g.Period != w.Period || g.LastStep != w.LastStep || !g.Added.Equal(w.Added) || !g.LastUsed.Equal(w.LastUsed) {
			t.Fatalf("TOTP = %+v, want %+v", g, w)
		}
		if len(got.RecoveryCodes) != 2 || !bytes.Equal(got.RecoveryCodes[0], want.RecoveryCodes[0]) ||
			!bytes.Equal(got.RecoveryCodes[1], want.RecoveryCodes[1]) {
			t.Fatalf("RecoveryCodes = %x, want %x", got.RecoveryCodes, want.RecoveryCodes)
		}
		if !bytes.Equal(got.KeyHandle, want.KeyHandle) || len(got.Keys) != 1 || !reflect.DeepEqual(got.Keys[0], want.Keys[0]) {
			t.Fatalf("KeyHandle %x, Keys %+v; want %x, %+v", got.KeyHandle, got.Keys, want.KeyHandle, want.Keys)
		}
	})

	t.Run("update error on a new account saves nothing", func(t *testing.T) {
		s := newStore(t)
		boom := errors.New("boom")
		err := s.Update(ctx, "alice", func(a *Account) error {
			a.TOTP = &TOTP{Secret: []byte("x")}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update returned %v, want the error of fn", err)
		}
		if _, err := s.Get(ctx, "alice"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("failed Update created an account: Get err = %v", err)
		}
	})

	t.Run("update error on an existing account changes nothing", func(t *testing.T) {
		s := newStore(t)
		mustUpdate(t, s, "alice", func(a *Account) error {
			a.TOTP = &TOTP{Secret: []byte("old"), LastStep: 5}
			a.RecoveryCodes = [][]byte{{1}, {2}}
			return nil
		})
		boom := errors.New("boom")
		err := s.Update(ctx, "alice", func(a *Account) error {
			// A check that fails after changing the record must not leave
			// half a change behind: a TOTP step marked used, a recovery code
			// gone.
			a.TOTP.LastStep = 99
			a.TOTP.Secret = []byte("new")
			a.RecoveryCodes = a.RecoveryCodes[:1]
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update returned %v, want the error of fn", err)
		}
		a := mustGet(t, s, "alice")
		if a.TOTP.LastStep != 5 || string(a.TOTP.Secret) != "old" || len(a.RecoveryCodes) != 2 {
			t.Fatalf("failed Update changed the account: TOTP %+v, %d recovery codes", a.TOTP, len(a.RecoveryCodes))
		}
	})

	t.Run("callers do not share memory with the store", func(t *testing.T) {
		s := newStore(t)
		var kept *Account
		mustUpdate(t, s, "alice", func(a *Account) error {
			a.TOTP = &TOTP{LastStep: 1}
			a.RecoveryCodes = [][]byte{{1}}
			kept = a
			return nil
		})
		kept.TOTP.LastStep = 50
		kept.RecoveryCodes[0][0] = 9
		got := mustGet(t, s, "alice")
		got.TOTP.LastStep = 60
		got.RecoveryCodes = nil
		a := mustGet(t, s, "alice")
		if a.TOTP.LastStep != 1 || len(a.RecoveryCodes) != 1 || a.RecoveryCodes[0][0] != 1 {
			t.Fatalf("changes outside Update reached the store: TOTP %+v, codes %v", a.TOTP, a.RecoveryCodes)
		}
	})

	t.Run("accounts are kept apart by exact user name", func(t *testing.T) {
		s := newStore(t)
		mustUpdate(t, s, "alice", func(a *Account) error {
			a.TOTP = &TOTP{LastStep: 1}
			return nil
		})
		for _, other := range []string{"bob", "Alice", "alic", "alice ", "alice\x00"} {
			if _, err := s.Get(ctx, other); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get(%q) after writing alice: err = %v, want ErrNotFound", other, err)
			}
		}
		mustUpdate(t, s, "bob", func(a *Account) error {
			if a.TOTP != nil {
				return errors.New("bob's new account has alice's TOTP")
			}
			a.TOTP = &TOTP{LastStep: 2}
			return nil
		})
		if a := mustGet(t, s, "alice"); a.TOTP.LastStep != 1 || a.User != "alice" {
			t.Fatalf("writing bob changed alice: %+v", a.TOTP)
		}
		if b := mustGet(t, s, "bob"); b.TOTP.LastStep != 2 || b.User != "bob" {
			t.Fatalf("bob = %+v", b.TOTP)
		}
	})

	t.Run("concurrent updates serialize", func(t *testing.T) {
		s := newStore(t)
		const n = 20
		var wg sync.WaitGroup
		errs := make(chan error, n)
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				errs <- s.Update(ctx, "alice", func(a *Account) error {
					if a.TOTP == nil {
						a.TOTP = &TOTP{}
					}
					a.TOTP.LastStep++
					return nil
				})
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent Update: %v", err)
			}
		}
		if a := mustGet(t, s, "alice"); a.TOTP.LastStep != n {
			t.Fatalf("after %d concurrent increments LastStep = %d: updates were lost", n, a.TOTP.LastStep)
		}
	})

	t.Run("delete", func(t *testing.T) {
		s := newStore(t)
		for _, u := range []string{"alice", "bob"} {
			mustUpdate(t, s, u, func(a *Account) error {
				a.TOTP = &TOTP{Secret: []byte(u)}
				return nil
			})
		}
		if err := s.Delete(ctx, "alice"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := s.Get(ctx, "alice"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
		}
		if b := mustGet(t, s, "bob"); string(b.TOTP.Secret) != "bob" {
			t.Fatalf("Delete of alice changed bob: %+v", b.TOTP)
		}
		if err := s.Delete(ctx, "alice"); err != nil {
			t.Fatalf("Delete of a missing account: %v", err)
		}
		if err := s.Delete(ctx, "nobody"); err != nil {
			t.Fatalf("Delete of a never-seen account: %v", err)
		}
		// A deleted account starts over: no old factor comes back.
		mustUpdate(t, s, "alice", func(a *Account) error {
			if a.TOTP != nil || a.RecoveryCodes != nil {
				return fmt.Errorf("account re-created after Delete still has %+v", a.TOTP)
			}
			return nil
		})
	})
}

func mustUpdate(t *testing.T, s Accounts, user string, fn func(*Account) error) {
	t.Helper()
	if err := s.Update(context.Background(), user, fn); err != nil {
		t.Fatalf("Update(%q): %v", user, err)
	}
}

func mustGet(t *testing.T, s Accounts, user string) *Account {
	t.Helper()
	a, err := s.Get(context.Background(), user)
	if err != nil {
		t.Fatalf("Get(%q): %v", user, err)
	}
	return a
}

func TestMemoryAccounts(t *testing.T) {
	testAccounts(t, func(t *testing.T) Accounts { return NewMemoryAccounts() })
}

func TestBoltAccounts(t *testing.T) {
	testAccounts(t, func(t *testing.T) Accounts { return openTestBolt(t, t.TempDir()+"/accounts.db") })
}

func openTestBolt(t *testing.T, path string) *BoltAccounts {
	t.Helper()
	b, err := OpenBolt(path)
	if err != nil {
		t.Fatalf("OpenBolt: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}
