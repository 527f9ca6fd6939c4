package caddymodule

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-mfa/caddy-mfa/challenge/session"
)

func TestHandlerNeeds(t *testing.T) {
	tests := []struct {
		name string
		h    Handler
		ip   string
		want session.Level
	}{
		{"default", Handler{}, "10.1.2.3", session.TwoFactor},
		{"one_factor", Handler{Policy: "one_factor"}, "203.0.113.9", session.OneFactor},
		{"two_factor", Handler{Policy: "two_factor", TrustedNetworks: []string{"192.0.2.0/24"}}, "198.51.100.1", session.TwoFactor},
		{"trusted CIDR", Handler{TrustedNetworks: []string{"10.0.0.0/8"}}, "10.1.2.3", session.OneFactor},
		{"outside the CIDR", Handler{TrustedNetworks: []string{"10.0.0.0/8"}}, "11.1.2.3", session.TwoFactor},
		{"single address", Handler{TrustedNetworks: []string{"192.0.2.7"}}, "192.0.2.7", session.OneFactor},
		{"next address", Handler{TrustedNetworks: []string{"192.0.2.7"}}, "192.0.2.8", session.TwoFactor},
		{"private_ranges", Handler{TrustedNetworks: []string{"private_ranges"}}, "172.16.5.4", session.OneFactor},
		{"public with private_ranges", Handler{TrustedNetworks: []string{"private_ranges"}}, "8.8.8.8", session.TwoFactor},
		{"IPv6", Handler{TrustedNetworks: []string{"2001:db8::/32"}}, "2001:db8::1", session.OneFactor},
		{"IPv4-mapped", Handler{TrustedNetworks: []string{"10.0.0.0/8"}}, "::ffff:10.0.0.1", session.OneFactor},
		{"unparsable address", Handler{TrustedNetworks: []string{"10.0.0.0/8"}}, "unknown", session.TwoFactor},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.h.Validate(); err != nil {
				t.Fatal(err)
			}
			tc.h.setupPolicy()
			r := httptest.NewRequest("GET", "/", nil)
			// The client address as Caddy determined it (trusted_proxies applied).
			vars := map[string]any{caddyhttp.ClientIPVarKey: tc.ip}
			r = r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, vars))
			if got := tc.h.needs(r); got != tc.want {
				t.Errorf("needs = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHandlerValidatePolicy(t *testing.T) {
	for _, h := range []Handler{{Policy: "none"}, {TrustedNetworks: []string{"10.0.0.0/40"}}, {TrustedNetworks: []string{"lan"}}} {
		if err := h.Validate(); err == nil {
			t.Errorf("Validate(%+v): no error", h)
		}
	}
}

// A route's trusted networks that hold loopback addresses are warned of
// at start.
func TestLoopbackTrustedNetworksWarned(t *testing.T) {
	for _, c := range []struct {
		nets string
		warn bool
	}{{"private_ranges", true}, {"127.0.0.1", true}, {"::1", true}, {"10.0.0.0/8", false}, {"192.0.2.0/24", false}} {
		if got := loopbackTrusted(parseNetworks(c.nets)) != ""; got != c.warn {
			t.Errorf("%s: warned %v, want %v", c.nets, got, c.warn)
		}
	}
}
