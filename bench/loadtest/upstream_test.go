package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestUpstreamEcho checks that the upstream tells wrk.lua what reached it.
func TestUpstreamEcho(t *testing.T) {
	srv := httptest.NewServer(upstreamHandler())
	defer srv.Close()
	for _, tc := range []struct {
		name                         string
		header                       http.Header
		user, identity, cookie, auth string
	}{
		{"nothing", http.Header{}, "-", "|||", "missing", "ok"},
		{"app cookie", http.Header{"Cookie": {appSession}}, "-", "|||", "ok", "ok"},
		{"gateway cookie", http.Header{"Cookie": {appSession + "; caddy_mfa=abc"}}, "-", "|||", "leaked", "ok"},
		{"second Cookie header", http.Header{"Cookie": {appSession, "__Host-caddy_mfa_device=x"}}, "-", "|||", "leaked", "ok"},
		{"identity", http.Header{"Cookie": {appSession}, "Remote-User": {"bench"}, "Remote-Groups": {"staff"},
			"Remote-Name": {"Bench"}, "Remote-Email": {"bench@example.com"}, "Authorization": {"Basic eA=="}},
			"bench", "bench|staff|Bench|bench@example.com", "ok", "leaked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/bench/page", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header = tc.header
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			for h, want := range map[string]string{"X-Bench-User": tc.user, "X-Bench-Identity": tc.identity, "X-Bench-Cookie": tc.cookie, "X-Bench-Auth": tc.auth} {
				if got := resp.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
		})
	}
}
