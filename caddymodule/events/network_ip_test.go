package events

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// The client address is trusted for trusted networks when no proxy gave
// it, or a proxy on a server with trusted_proxies_strict; not when a
// proxy gave it on a server without (the left-most X-Forwarded-For).
func TestNetworkIP(t *testing.T) {
	for _, c := range []struct {
		name      string
		ip        string
		via       bool
		server    *caddyhttp.Server
		want      string
		wantLoose bool
	}{
		{"direct", "198.51.100.7", false, nil, "198.51.100.7", false},
		{"direct, mapped", "::ffff:10.1.2.3", false, nil, "10.1.2.3", false},
		{"via a proxy, strict", "10.1.2.3", true, &caddyhttp.Server{TrustedProxiesStrict: 1}, "10.1.2.3", false},
		{"via a proxy, loose", "10.1.2.3", true, &caddyhttp.Server{}, "invalid IP", true},
		{"via a proxy, no server known", "10.1.2.3", true, nil, "invalid IP", true},
		{"unreadable", "nonsense", false, nil, "invalid IP", false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		ctx := context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{caddyhttp.ClientIPVarKey: c.ip, caddyhttp.TrustedProxyVarKey: c.via})
		if c.server != nil {
			ctx = context.WithValue(ctx, caddyhttp.ServerCtxKey, c.server)
		}
		ip, loose := NetworkIP(r.WithContext(ctx))
		if ip.String() != c.want || loose != c.wantLoose {
			t.Errorf("%s: %v, %v; want %s, %v", c.name, ip, loose, c.want, c.wantLoose)
		}
	}
}

// Through a trusted proxy on a server without trusted_proxies_strict,
// Caddy's client address is the left-most of X-Forwarded-For, which the
// client wrote: ClientIP (what limits, lockouts and notices use) takes the
// right-most, which the proxy wrote. Elsewhere it is Caddy's.
func TestClientIPBehindLooseProxies(t *testing.T) {
	for _, c := range []struct {
		name   string
		server *caddyhttp.Server
		via    bool
		xff    []string
		want   string
	}{
		{"loose", &caddyhttp.Server{}, true, []string{"10.1.2.3, 203.0.113.9"}, "203.0.113.9"},
		{"loose, two headers", &caddyhttp.Server{}, true, []string{"10.1.2.3", "198.51.100.4"}, "198.51.100.4"},
		{"loose, with a port", &caddyhttp.Server{}, true, []string{"10.1.2.3, 203.0.113.9:4444"}, "203.0.113.9"},
		{"loose, own header", &caddyhttp.Server{ClientIPHeaders: []string{"X-Real-IP"}}, true, []string{"10.1.2.3"}, "10.1.2.3"},
		{"strict", &caddyhttp.Server{TrustedProxiesStrict: 1}, true, []string{"10.1.2.3, 203.0.113.9"}, "10.1.2.3"},
		{"direct", &caddyhttp.Server{}, false, []string{"198.51.100.4"}, "10.1.2.3"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if c.name == "loose, own header" {
			r.Header.Set("X-Real-IP", "192.0.2.8")
			c.want = "192.0.2.8"
		}
		ctx := context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{caddyhttp.ClientIPVarKey: "10.1.2.3", caddyhttp.TrustedProxyVarKey: c.via})
		ctx = context.WithValue(ctx, caddyhttp.ServerCtxKey, c.server)
		if got := ClientIP(r.WithContext(ctx)); got != c.want {
			t.Errorf("%s: ClientIP = %q, want %q", c.name, got, c.want)
		}
	}
}
