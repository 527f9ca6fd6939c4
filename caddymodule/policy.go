package caddymodule

import (
	"net/netip"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// Route policies.
const (
	policyOneFactor = "one_factor"
	policyTwoFactor = "two_factor"
)

// oneFactorHint is the query parameter with which a route where the
// password is enough sends a browser to the login page, so that the
// portal sends it straight back after the password. It is only a hint for
// the portal's navigation: every route checks what it needs itself.
const oneFactorHint = "level=1"

// parseNetworks reads one trusted_networks entry: a CIDR, a single
// address, or "private_ranges" (Caddy's list of private networks). It
// returns nil for anything else.
func parseNetworks(s string) []netip.Prefix {
	if s == "private_ranges" {
		var out []netip.Prefix
		for _, c := range caddyhttp.PrivateRangesCIDR() { // CIDRs and bare addresses
			p := parseNetworks(c)
			if p == nil {
				return nil
			}
			out = append(out, p...)
		}
		return out
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		return []netip.Prefix{p.Masked()}
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return []netip.Prefix{netip.PrefixFrom(a, a.BitLen())}
	}
	return nil
}

// loopbackTrusted is the start-up warning for a route's trusted networks
// that hold loopback addresses (private_ranges does): behind a proxy on
// the same machine without trusted_proxies, or Docker's userland proxy,
// every client has one, and the password alone would open the route to
// all. "" when none does.
func loopbackTrusted(nets []netip.Prefix) string {
	for _, n := range nets {
		for _, l := range loopbackNets() {
			if n.Overlaps(l) {
				return "trusted_networks holds loopback addresses (" + n.String() + "): behind a proxy on this machine without trusted_proxies, or Docker's userland proxy, every client has one, and the password alone opens the route to everyone; list the office's networks rather than private_ranges"
			}
		}
	}
	return ""
}
