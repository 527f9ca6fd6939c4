package challenge

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// unwritableAccounts runs the change of every Update, as a store does,
// then fails to save it.
type unwritableAccounts struct{ store.Accounts }

var errDiskFull = errors.New("write accounts.db: no space left on device")

func (unwritableAccounts) Update(_ context.Context, user string, fn func(*store.Account) error) error {
	if err := fn(&store.Account{User: user}); err != nil {
		return err
	}
	return errDiskFull
}

// contendedAccounts runs each change twice, as the Redis store does when
// another gateway changed the account between its read and its write:
// only the second run's outcome counts.
type contendedAccounts struct {
	store.Accounts
	runs int
}

func (c *contendedAccounts) Update(ctx context.Context, user string, fn func(*store.Account) error) error {
	c.runs++
	if err := fn(&store.Account{User: user}); err != nil {
		return err
	}
	return c.Accounts.Update(ctx, user, fn)
}

func TestUpdateAccountSaves(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	err := f.e.updateAccount(ctx, "alice", "saving the default", func(a *store.Account) error {
		a.Default = MethodTOTP
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if a := f.account(t, "alice"); a == nil || a.Default != MethodTOTP {
		t.Fatalf("account after updateAccount = %+v", a)
	}
}

// A refusal of the change is returned as it is, errNoChange is no error,
// and neither saves anything.
func TestUpdateAccountRefusedOrUnchanged(t *testing.T) {
	refusal := errors.New("refused for a reason of the engine")
	for _, c := range []struct {
		name         string
		change, want error
	}{
		{"refused", refusal, refusal},
		{"engine error", ErrNoSuchMethod, ErrNoSuchMethod},
		{"no change", errNoChange, nil},
	} {
		f := newFixture(t)
		ctx := context.Background()
		err := f.e.updateAccount(ctx, "alice", "saving the default", func(a *store.Account) error {
			a.Default = MethodTOTP
			return c.change
		})
		if err != c.want {
			t.Errorf("%s: updateAccount = %v, want %v unwrapped", c.name, err, c.want)
		}
		if a := f.account(t, "alice"); a != nil {
			t.Errorf("%s: the change was saved: %+v", c.name, a)
		}
		// The same through a store that would fail the write.
		f.e.Accounts = unwritableAccounts{f.e.Accounts}
		if err := f.e.updateAccount(ctx, "alice", "saving the default", func(*store.Account) error { return c.change }); err != c.want {
			t.Errorf("%s: updateAccount on an unwritable store = %v, want %v", c.name, err, c.want)
		}
	}
}

// A failure of the store is wrapped in store.ErrUnavailable, saying what
// was being done, never taken for the engine's answer.
func TestUpdateAccountStoreFailure(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for name, accounts := range map[string]store.Accounts{"unreachable": brokenAccounts{}, "unwritable": unwritableAccounts{}} {
		f.e.Accounts = accounts
		err := f.e.updateAccount(ctx, "alice", "saving the default", func(*store.Account) error { return nil })
		if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "saving the default") {
			t.Errorf("%s store: updateAccount = %v, want ErrUnavailable saying what it did", name, err)
		}
		if !errors.Is(err, errDown) && !errors.Is(err, errDiskFull) {
			t.Errorf("%s store: updateAccount = %v, want the store's error in the chain", name, err)
		}
	}
}

// When the store runs the change again, the last run's outcome counts.
func TestUpdateAccountLastRunCounts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := &contendedAccounts{Accounts: f.e.Accounts}
	f.e.Accounts = c
	run := 0
	err := f.e.updateAccount(ctx, "alice", "saving the default", func(a *store.Account) error {
		if run++; run == 1 {
			return nil
		}
		return errNoChange
	})
	if err != nil || run != 2 {
		t.Fatalf("updateAccount = %v after %d runs, want nil after 2", err, run)
	}
	run = 0
	err = f.e.updateAccount(ctx, "alice", "saving the default", func(a *store.Account) error {
		if run++; run == 1 {
			return nil
		}
		return ErrBadCode
	})
	if err != ErrBadCode {
		t.Fatalf("updateAccount = %v, want ErrBadCode from the second run", err)
	}
}
