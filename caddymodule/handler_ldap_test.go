package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-mfa/caddy-mfa/challenge/ldapdir"
	"github.com/caddy-mfa/caddy-mfa/internal/slapdtest"
)

// ldapHandler is testHandler with the first factor a real slapd's
// directory in which alice signed in once, and slapd then stopped: every
// request after that proves the hot path never asks the directory.
func ldapHandler(tb testing.TB, h *Handler) *Handler {
	tb.Helper()
	h = testHandler(tb, h)
	s := slapdtest.Start(tb, slapdtest.Options{})
	d, err := ldapdir.New(ldapdir.Config{URL: s.URL, BindDN: slapdtest.ServiceDN, BindPassword: slapdtest.ServicePassword,
		BaseDN: slapdtest.Suffix, CacheTTL: time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = d.Close() })
	if u, err := d.Authenticate(context.Background(), "alice", slapdtest.AlicePassword); err != nil || u == nil {
		tb.Fatalf("alice: %v %v", u, err)
	}
	s.Stop()
	h.app.engine.Users = d
	return h
}

func TestSignedInRequestWithLDAPStopped(t *testing.T) {
	h := ldapHandler(t, &Handler{AllowGroups: []string{"admins"}})
	c := signedInCookie(t, h, "alice")
	var got http.Header
	next := caddyhttp.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) error { got = r.Header.Clone(); return nil })
	start := time.Now()
	for range 100 {
		req := httptest.NewRequest(http.MethodGet, "/x", nil)
		req.AddCookie(c)
		got = nil
		if err := h.ServeHTTP(httptest.NewRecorder(), req, next); err != nil {
			t.Fatal(err)
		}
		if got == nil || got.Get("Remote-User") != "alice" || got.Get("Remote-Groups") != "admins,staff" || got.Get("Remote-Name") != "Alice Liddell" {
			t.Fatalf("signed-in request with slapd stopped: %v", got)
		}
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("100 signed-in requests took %v with slapd stopped", took)
	}
}

// BenchmarkSignedInRequestLDAP is BenchmarkSignedInRequest with a
// directory user, slapd stopped: it must equal the users-file figure.
func BenchmarkSignedInRequestLDAP(b *testing.B) {
	benchSignedIn(b, ldapHandler(b, &Handler{AllowGroups: []string{"staff"}}))
}

// A directory user this gateway has not looked up yet, and cannot now
// (after a restart with the directory down, or signed in at another
// gateway), is not told their app password is wrong: 503 with
// Retry-After, as for their browser sessions, not 401.
func TestAppPasswordOfAPendingDirectoryUser(t *testing.T) {
	h := ldapHandler(t, &Handler{AppPasswords: true})
	d := h.app.engine.Users.(*ldapdir.Directory)
	d.Start()
	<-d.Warm()
	req := httptest.NewRequest(http.MethodGet, "/dav/x", nil)
	req.SetBasicAuth("bob", "abcd-efgh-ijkl-mnop")
	rec := httptest.NewRecorder()
	if err := h.ServeHTTP(rec, req, caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		t.Fatal("reached the upstream")
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("bob, not looked up yet with the directory down: %d (Retry-After %q), want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
}
