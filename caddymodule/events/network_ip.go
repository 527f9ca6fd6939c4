package events

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

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
	if viaLooseProxy(r) {
		return netip.Addr{}, true
	}
	a, err := netip.ParseAddr(ClientIP(r))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), false
}

// ViaLooseProxy reports a request that came through a trusted proxy on a
// server without trusted_proxies_strict (see NetworkIP).
func ViaLooseProxy(r *http.Request) bool { return viaLooseProxy(r) }

func viaLooseProxy(r *http.Request) bool {
	via, _ := caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey).(bool)
	if !via {
		return false
	}
	s, ok := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	return !ok || s.TrustedProxiesStrict == 0
}

// rightmostForwarded is the right-most address of the server's client IP
// headers (X-Forwarded-For by default): the one the trusted proxy that
// sent r wrote. "" if there is none that parses.
func rightmostForwarded(r *http.Request) string {
	headers := []string{"X-Forwarded-For"}
	if s, ok := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server); ok && len(s.ClientIPHeaders) > 0 {
		headers = s.ClientIPHeaders
	}
	var values []string
	for _, h := range headers {
		values = append(values, r.Header.Values(h)...)
	}
	all := strings.Split(strings.Join(values, ","), ",")
	for i := len(all) - 1; i >= 0; i-- {
		v := strings.TrimSpace(all[i])
		if v == "" {
			continue
		}
		if host, _, err := net.SplitHostPort(v); err == nil {
			v = host
		}
		if a, err := netip.ParseAddr(v); err == nil {
			return a.String()
		}
		return ""
	}
	return ""
}

// LooseProxiesWarning is what the log says when NetworkIP refused an
// address: how to fix the server's configuration.
const LooseProxiesWarning = "a request came through a trusted proxy on a server without trusted_proxies_strict: Caddy takes its client address from the left of X-Forwarded-For, which the client writes itself, so the gateway trusts it for no trusted network and counts limits and lockouts under the right-most address (the proxy's view); add trusted_proxies_strict to the servers block"
