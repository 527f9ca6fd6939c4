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
