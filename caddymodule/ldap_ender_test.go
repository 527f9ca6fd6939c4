package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge/ldapdir"
	"github.com/caddy-mfa/caddy-mfa/internal/slapdtest"
)

type enderClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *enderClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *enderClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// TestDirEnderEndsRemovedUsers: a user removed from the directory loses
// their sessions after the grace period; one back within it keeps them;
// a refresh that reports most users gone at once ends no one.
func TestDirEnderEndsRemovedUsers(t *testing.T) {
	h := testHandler(t, &Handler{})
	s := slapdtest.Start(t, slapdtest.Options{})
	clk := &enderClock{t: time.Unix(1_700_000_000, 0)}
	d, err := ldapdir.New(ldapdir.Config{URL: s.URL, BindDN: slapdtest.ServiceDN, BindPassword: slapdtest.ServicePassword,
		BaseDN: slapdtest.Suffix, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	h.app.engine.Users = d
	ctx := context.Background()
	for name, pw := range map[string]string{"alice": slapdtest.AlicePassword, "bob": slapdtest.BobPassword, "carol": slapdtest.CarolPassword} {
		if u, err := d.Authenticate(ctx, name, pw); err != nil || u == nil {
			t.Fatalf("%s: %v %v", name, u, err)
		}
	}
	e := newDirEnder(d)
	e.end, e.now, e.log, e.events, e.grace = h.app.engine.EndUser, clk.Now, zap.NewNop(), events.New(zap.NewNop()), time.Minute
	signedIn := func(c *http.Cookie) bool {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(c)
		_, data, err := h.app.engine.Sessions.Lookup(req)
		if err != nil {
			t.Fatal(err)
		}
		return data != nil
	}
	alice, bob := signedInCookie(t, h, "alice"), signedInCookie(t, h, "bob")

	s.Apply("ldapdelete", "uid=alice,ou=people,"+slapdtest.Suffix+"\nuid=bob,ou=people,"+slapdtest.Suffix+"\n")
	if err := d.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if d.Lookup("alice") != nil {
		t.Fatal("alice removed, still looked up")
	}
	// bob comes back within the grace period.
	s.Apply("ldapadd", "dn: uid=bob,ou=people,"+slapdtest.Suffix+"\nobjectClass: inetOrgPerson\nuid: bob\ncn: Bob\nsn: B\nuserPassword: x\n")
	clk.Add(30 * time.Second)
	if err := d.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	e.run(ctx)
	if !signedIn(alice) {
		t.Fatal("alice ended before the grace period")
	}
	clk.Add(31 * time.Second)
	e.run(ctx)
	if signedIn(alice) {
		t.Fatal("alice, removed for the grace period, keeps her session")
	}
	if !signedIn(bob) {
		t.Fatal("bob, back within the grace period, lost his session")
	}

	// Most users gone at once: held.
	e.gone([]string{"a", "b", "c", "d"}, 5)
	e.gone([]string{"x"}, 5)
	e.mu.Lock()
	_, held := e.pending["a"]
	_, one := e.pending["x"]
	e.mu.Unlock()
	if held || !one {
		t.Fatalf("mass removal pending %v, single %v; want held and pending", held, one)
	}
}
