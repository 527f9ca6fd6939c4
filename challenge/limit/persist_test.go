package limit

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// persisted is a Memory limiter kept in the bbolt file at path, and a
// function that stops it cleanly (as a stop of Caddy does).
func persisted(t *testing.T, path string) (*Memory, func()) {
	t.Helper()
	b, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	j := store.NewJournal(b, func(err error) { t.Logf("lazy commit: %v", err) })
	m := NewMemory()
	if err := m.Persist(j); err != nil {
		t.Fatal(err)
	}
	stop := func() { _ = j.Close(); _ = b.Close() }
	t.Cleanup(stop)
	return m, stop
}

// The persisted limiter behaves as the memory one (real time, as Redis).
func TestMemoryPersisted(t *testing.T) {
	testLimiter(t, func(t *testing.T) (Limiter, func(time.Duration)) {
		m, _ := persisted(t, filepath.Join(t.TempDir(), "accounts.db"))
		return m, time.Sleep
	})
}

// A restart does not hand out a fresh allowance, and a reset stays reset.
func TestMemoryPersistSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "accounts.db")
	l := Limit{Rate: 3, Period: time.Hour}
	m, stop := persisted(t, path)
	for range 3 {
		if r, _ := m.Allow(ctx, "login-ip:192.0.2.1", l); !r.Allowed {
			t.Fatal("burst refused")
		}
		m.Allow(ctx, "fail:bob", l)
	}
	if err := m.Reset(ctx, "fail:bob"); err != nil {
		t.Fatal(err)
	}
	stop()

	m2, _ := persisted(t, path)
	r, err := m2.Allow(ctx, "login-ip:192.0.2.1", l)
	if err != nil || r.Allowed {
		t.Fatalf("4th event after a restart: %+v, %v; want refused, as before it", r, err)
	}
	if r.RetryAfter < 19*time.Minute {
		t.Fatalf("retry after %v after a restart, want about 20m", r.RetryAfter)
	}
	if r, _ := m2.Allow(ctx, "fail:bob", l); !r.Allowed || r.Remaining != 2 {
		t.Fatalf("a reset key after a restart: %+v; want a fresh allowance", r)
	}
}

// refunder is a limiter that can give an event back (Refund, which main
// gained with the app-password limits while this was written).
type refunder interface {
	Refund(ctx context.Context, key string, l Limit) error
}

// Every change of the limiter's state reaches the file, a refund too: a
// refund only in memory would come undone at the next restart. (On a tree
// whose limiter has no Refund yet there is nothing to check; once it has
// one, Memory.Refund must record its change as Allow and Reset do.)
func TestMemoryPersistRefund(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "accounts.db")
	l := Limit{Rate: 2, Period: time.Hour}
	m, stop := persisted(t, path)
	r, ok := any(m).(refunder)
	if !ok {
		return
	}
	for range 2 {
		m.Allow(ctx, "apppw-fail-user:alice", l)
	}
	if err := r.Refund(ctx, "apppw-fail-user:alice", l); err != nil {
		t.Fatal(err)
	}
	stop()
	m2, _ := persisted(t, path)
	if res, _ := m2.Allow(ctx, "apppw-fail-user:alice", l); !res.Allowed {
		t.Fatal("a refunded event was counted again after a restart")
	}
}
