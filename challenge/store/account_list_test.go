package store

import (
	"context"
	"slices"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// testAccountLister: Users lists exactly the accounts written, removed
// ones not, and no record of another prefix.
func testAccountLister(t *testing.T, s interface {
	Accounts
	AccountLister
}) {
	t.Helper()
	ctx := context.Background()
	if got, err := s.Users(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Users of an empty store = %q, %v", got, err)
	}
	for _, u := range []string{"alice", "bob", "carol"} {
		if err := s.Update(ctx, u, func(*Account) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"alice", "carol"}) {
		t.Fatalf("Users = %q, want alice and carol", got)
	}
}

func TestMemoryAccountsUsers(t *testing.T) { testAccountLister(t, NewMemoryAccounts()) }

func TestBoltAccountsUsers(t *testing.T) {
	testAccountLister(t, openTestBolt(t, t.TempDir()+"/accounts.db"))
}

// On Redis, a prefix with SCAN's wildcard characters matches only itself.
func TestRedisAccountsUsers(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	other := NewRedisAccounts(rdb, prefix+"x:")
	if err := other.Update(context.Background(), "mallory", func(*Account) error { return nil }); err != nil {
		t.Fatal(err)
	}
	testAccountLister(t, NewRedisAccounts(rdb, prefix+"[a]*:"))
	testAccountLister(t, NewRedisAccounts(rdb, prefix+"y:"))
}
