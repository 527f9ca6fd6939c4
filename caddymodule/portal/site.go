package portal

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// How prompts, calls and callbacks name the site a request reached: from
// configuration, never from the request's Host header, which a client
// sends as it likes (a forged "hr-portal.example.com" must not reach a
// user's phone). The names are the host names of the route that carried
// the request to this mfa handler (the route whose handlers hold it, and
// the subroutes on the way); a route that matches any host is named by
// public_url, else by the organisation. Another site's host names never
// name this one, even on the same server.

// configuredHosts are the exact host names (no wildcards or placeholders),
// in lower case, of the host matchers of the route of the Caddy server r
// reached whose handlers hold owner; of the innermost subroute on the way
// that has any. None if owner is not found there.
func configuredHosts(r *http.Request, owner caddyhttp.MiddlewareHandler) []string {
	srv, _ := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	if srv == nil || owner == nil {
		return nil
	}
	if hosts, ok := hostsOfRouteWith(srv.Routes, owner, r); ok {
		return hosts
	}
	for _, rt := range srv.NamedRoutes {
		if hosts, ok := hostsOfRouteWith(caddyhttp.RouteList{*rt}, owner, r); ok {
			return hosts
		}
	}
	if srv.Errors != nil {
		hosts, _ := hostsOfRouteWith(srv.Errors.Routes, owner, r)
		return hosts
	}
	return nil
}

// hostsOfRouteWith finds the route of routes whose handlers (or those of
// its subroutes) hold owner, and returns the host names of the innermost
// route on the way that names any; ok is false if none holds owner.
func hostsOfRouteWith(routes caddyhttp.RouteList, owner caddyhttp.MiddlewareHandler, r *http.Request) ([]string, bool) {
	for i := range routes {
		rt := &routes[i]
		for _, h := range rt.Handlers {
			if h == owner {
				return routeHosts(rt.MatcherSets, r), true
			}
			sub, ok := h.(*caddyhttp.Subroute)
			if !ok {
				continue
			}
			if inner, ok := hostsOfRouteWith(sub.Routes, owner, r); ok {
				if len(inner) == 0 {
					inner = routeHosts(rt.MatcherSets, r)
				}
				return inner, true
			}
		}
	}
	return nil, false
}

// routeHosts are the exact host names of a route's matcher sets: of its
// one set, or, of several (any of which lets a request in), of those that
// match r.
func routeHosts(sets caddyhttp.MatcherSets, r *http.Request) []string {
	var hosts []string
	for _, set := range sets {
		if len(sets) > 1 {
			if ok, err := set.MatchWithError(r); !ok || err != nil {
				continue
			}
		}
		for _, m := range set {
			var mh caddyhttp.MatchHost
			switch m := m.(type) {
			case *caddyhttp.MatchHost:
				mh = *m
			case caddyhttp.MatchHost:
				mh = m
			default:
				continue
			}
			for _, h := range mh {
				if h != "" && !strings.ContainsAny(h, "*{}") {
					hosts = append(hosts, strings.ToLower(h))
				}
			}
		}
	}
	return hosts
}

// configuredHost is the host name of r's route that r's Host header
// names, with the port users reach it on; "" if the Host header names none
// of them. The port is the one r's connection arrived on (left out if it
// is the scheme's default), unless the Host header names another port and
// public_url has this host name: the gateway then listens behind port
// mapping, and users know the site by public_url's port. (A forged Host
// can only choose between these two names of the configuration.)
func (p *Portal) configuredHost(r *http.Request) string {
	host, hostPort := strings.ToLower(r.Host), 0
	if h, port, err := net.SplitHostPort(host); err == nil {
		host = h
		hostPort, _ = strconv.Atoi(port)
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	port := localPort(r)
	if hostPort == 0 {
		hostPort = 80
		if r.TLS != nil {
			hostPort = 443
		}
	}
	for _, h := range configuredHosts(r, p.owner) {
		if h != host {
			continue
		}
		if u, err := url.Parse(p.public); err == nil && u.Host != "" && strings.EqualFold(u.Hostname(), h) && port != 0 && hostPort != port {
			return strings.ToLower(u.Host)
		}
		if port == 0 || port == 443 && r.TLS != nil || port == 80 && r.TLS == nil {
			return h
		}
		return net.JoinHostPort(h, strconv.Itoa(port))
	}
	return ""
}

// localPort is the port r's connection arrived on, from an address of any
// kind (TCP; UDP for HTTP/3; else its string): 0 if unknown.
func localPort(r *http.Request) int {
	switch a := r.Context().Value(http.LocalAddrContextKey).(type) {
	case *net.TCPAddr:
		return a.Port
	case *net.UDPAddr:
		return a.Port
	case net.Addr:
		if _, port, err := net.SplitHostPort(a.String()); err == nil {
			if n, err := strconv.Atoi(port); err == nil && n > 0 && n < 65536 {
				return n
			}
		}
	}
	return 0
}

// siteName names the site r reached in a prompt or a fraud report: its
// configured host name, else public_url's host, else the organisation.
func (p *Portal) siteName(r *http.Request) string {
	if h := p.configuredHost(r); h != "" {
		return h
	}
	if u, err := url.Parse(p.public); err == nil && u.Host != "" {
		return u.Host
	}
	return p.org
}

// siteBase is the scheme and host of r's site for a callback when there
// is no public_url (the log provider of development mode): its configured
// host name, else the address r's connection arrived on.
func (p *Portal) siteBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := p.configuredHost(r)
	if host == "" {
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			host = a.String()
		}
	}
	return scheme + "://" + host
}
