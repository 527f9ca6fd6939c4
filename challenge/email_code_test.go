package challenge

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestEmailCodeOnceInItsSessionForItsAddress(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		check := func(user, addr, sess, code string, want error) {
			t.Helper()
			if err := f.e.CheckEmailCode(ctx, user, addr, sess, code); !errors.Is(err, want) {
				t.Fatalf("CheckEmailCode(%s, %s, %s, %q) = %v, want %v", user, addr, sess, code, err, want)
			}
		}
		check("alice", "a@example.com", "s1", "123456", ErrCodeExpired)
		code, exp, err := f.e.NewEmailCode(ctx, "alice", "a@example.com", "s1")
		if err != nil {
			t.Fatal(err)
		}
		if got := exp.Sub(f.clock.Now()); got != EmailCodeTTL {
			t.Errorf("expires in %v, want %v", got, EmailCodeTTL)
		}
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		check("alice", "a@example.com", "s1", wrong, ErrBadCode)
		check("alice", "a@example.com", "s2", code, ErrCodeExpired)       // another session has none
		check("alice", "mallory@example.com", "s1", code, ErrBadCode)     // the address changed
		check("bob", "a@example.com", "s1", code, ErrBadCode)             // not bob's
		check("alice", "a@example.com", "s1", code[:3]+" "+code[3:], nil) // typed with a space
		check("alice", "a@example.com", "s1", code, ErrCodeExpired)       // used

		code, _, _ = f.e.NewEmailCode(ctx, "alice", "a@example.com", "s1")
		f.advance(EmailCodeTTL)
		check("alice", "a@example.com", "s1", code, ErrCodeExpired)
	})
}

func TestEmailCodeRacedOnce(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		code, _, err := f.e.NewEmailCode(ctx, "alice", "a@example.com", "s1")
		if err != nil {
			t.Fatal(err)
		}
		var ok atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				if f.e.CheckEmailCode(ctx, "alice", "a@example.com", "s1", code) == nil {
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 1 {
			t.Errorf("%d of 16 racing checks passed, want 1", ok.Load())
		}
	})
}

// A code asked for in another session (someone else with the password)
// does not replace this session's.
func TestEmailCodeOfAnotherSessionReplacesNothing(t *testing.T) {
	f := newPhoneFixture(t, shortStoreKinds[0], nil)
	ctx := context.Background()
	mine, _, err := f.e.NewEmailCode(ctx, "alice", "a@example.com", "s1")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.e.NewEmailCode(ctx, "alice", "a@example.com", "s2"); err != nil {
		t.Fatal(err)
	}
	if err := f.e.CheckEmailCode(ctx, "alice", "a@example.com", "s1", mine); err != nil {
		t.Errorf("the first session's code after another session asked: %v", err)
	}
}
