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
