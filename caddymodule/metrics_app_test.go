package caddymodule

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge/ldapdir"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// metricsApp provisions an app that texts through the log provider on
// ctx; the test cleans it up unless it does so itself.
func metricsApp(t *testing.T, ctx caddy.Context) *App {
	t.Helper()
	a := phoneApp(t)
	a.SMSRaw, a.Development = rawJSON(`{"provider":"log"}`), true
	if err := a.Provision(ctx); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	t.Cleanup(func() { _ = a.Cleanup() })
	return a
}

// The app registers its collectors with the config's registry; a second
// app of the same config (same registry) keeps the one collector and its
// count, and so does the config of a reload (a new registry) provisioned
// before the old one is cleaned up.
func TestMetricsAcrossProvisionsAndReload(t *testing.T) {
	ctx := newTestContext(t)
	reg := ctx.GetMetricsRegistry()
	a := metricsApp(t, ctx)
	start := testutil.ToFloat64(a.metrics.Lockouts) // 0 unless an earlier test's app leaked
	a.events.Write(nil, events.LockedOut, "alice")
	b := metricsApp(t, ctx)
	if b.metrics.Lockouts != a.metrics.Lockouts {
		t.Fatal("a second app on the same registry made a new collector")
	}
	b.events.Write(nil, events.LockedOut, "alice")
	if n, err := testutil.GatherAndCount(reg, "caddy_mfa_lockouts_total"); err != nil || n != 1 {
		t.Fatalf("lockouts series %d (%v), want 1", n, err)
	}
	if v := testutil.ToFloat64(a.metrics.Lockouts) - start; v != 2 {
		t.Fatalf("lockouts %v, want 2", v)
	}

	next := newTestContext(t) // the reload's config
	c := metricsApp(t, next)
	for _, old := range []*App{a, b} {
		if err := old.Cleanup(); err != nil {
			t.Fatal(err)
		}
	}
	c.events.Write(nil, events.LockedOut, "bob")
	if err := testutil.GatherAndCompare(next.GetMetricsRegistry(), strings.NewReader(fmt.Sprintf(`
# HELP caddy_mfa_lockouts_total Lockouts begun (a user's second factor, or a source of passwords for a user).
# TYPE caddy_mfa_lockouts_total counter
caddy_mfa_lockouts_total %v
`, start+3)), "caddy_mfa_lockouts_total"); err != nil {
		t.Fatalf("after the reload: %v", err)
	}
}

// A text goes through the counting wrapper, named by its module; a store
// outage answered with the 503 page is counted by store.
func TestMetricsSendsAndStoreErrors(t *testing.T) {
	a := metricsApp(t, newTestContext(t))
	sent := a.metrics.Sends.WithLabelValues("sms", "log", "sent")
	embedded, ldap := a.metrics.StoreErrors.WithLabelValues("embedded"), a.metrics.StoreErrors.WithLabelValues("ldap")
	s0, e0, l0 := testutil.ToFloat64(sent), testutil.ToFloat64(embedded), testutil.ToFloat64(ldap)
	n, err := phone.Parse("JP", "090-1234-5678", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.engine.Phone.Text.SendText(context.Background(), phone.Text{To: n, Body: "123456"}); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/.mfa/login", nil)
	a.pages.Unavailable(httptest.NewRecorder(), r, fmt.Errorf("%w: bolt", store.ErrUnavailable))
	a.pages.Unavailable(httptest.NewRecorder(), r, fmt.Errorf("%w: %w x: down", store.ErrUnavailable, ldapdir.ErrServer))
	a.pages.Unavailable(httptest.NewRecorder(), r, fmt.Errorf("%w: %w x: down", store.ErrUnavailable, ldapdir.ErrServer))
	if d := testutil.ToFloat64(sent) - s0; d != 1 {
		t.Errorf("texts sent by log: +%v, want +1", d)
	}
	if de, dl := testutil.ToFloat64(embedded)-e0, testutil.ToFloat64(ldap)-l0; de != 1 || dl != 2 {
		t.Errorf("store errors embedded +%v ldap +%v, want +1 and +2", de, dl)
	}
}

// A signed-in request that finds Redis gone is failed closed (503) and
// counted as an outage of redis, on the app's collectors.
func TestMetricsRedisOutageOnTheHotPath(t *testing.T) {
	srv := redistest.StartServer(t)
	h := testHandlerOn(t, &Handler{}, &RedisConfig{URL: "redis://" + srv.Addr, KeyPrefix: "metrics-test:", Timeout: caddy.Duration(300 * time.Millisecond)})
	c := signedInCookie(t, h, "alice")
	redisErrors := h.app.metrics.StoreErrors.WithLabelValues("redis")
	before := testutil.ToFloat64(redisErrors)
	srv.Stop()
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.AddCookie(c)
	rec := httptest.NewRecorder()
	next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		t.Error("passed on with Redis down")
		return nil
	})
	if err := h.ServeHTTP(rec, req, next); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", rec.Code)
	}
	if d := testutil.ToFloat64(redisErrors) - before; d != 1 {
		t.Fatalf("redis store errors +%v, want +1", d)
	}
}
