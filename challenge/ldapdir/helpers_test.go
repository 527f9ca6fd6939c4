package ldapdir

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/slapdtest"
)

// clock is an injected clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// testConfig is a configuration for s's seeded directory.
func testConfig(s *slapdtest.Server) Config {
	return Config{URL: s.URL, BindDN: slapdtest.ServiceDN, BindPassword: slapdtest.ServicePassword,
		BaseDN: slapdtest.Suffix, Timeout: 2 * time.Second}
}

func newDir(t testing.TB, cfg Config) *Directory {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func signIn(t testing.TB, d *Directory, name, password string) string {
	t.Helper()
	u, err := d.Authenticate(context.Background(), name, password)
	if err != nil {
		t.Fatalf("Authenticate(%q): %v", name, err)
	}
	if u == nil {
		return ""
	}
	return u.Name
}
