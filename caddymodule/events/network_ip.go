package events

import (
	"net/http"
	"net/netip"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// NetworkIP is the client address of r for deciding whether it is in a
// trusted network (a route's trusted_networks, registration networks),
// unmapped from IPv6. loose is true, and the address zero, when it cannot
// be trusted for that: it came through a trusted proxy on a server without
// trusted_proxies_strict, where Caddy takes the left-most address of
// X-Forwarded-For, which the client writes itself whenever the proxy
// appends to the header (nginx's $proxy_add_x_forwarded_for, HAProxy,
// cloud load balancers).
func NetworkIP(r *http.Request) (ip netip.Addr, loose bool) {
	if via, _ := caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey).(bool); via {
		if s, ok := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server); !ok || s.TrustedProxiesStrict == 0 {
			return netip.Addr{}, true
		}
	}
	a, err := netip.ParseAddr(ClientIP(r))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), false
}

// LooseProxiesWarning is what the log says when NetworkIP refused an
// address: how to fix the server's configuration.
const LooseProxiesWarning = "a request came through a trusted proxy on a server without trusted_proxies_strict: its client address is not trusted for trusted networks (Caddy takes it from the left of X-Forwarded-For, which the client writes itself); add trusted_proxies_strict to the servers block"
