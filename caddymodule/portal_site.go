package caddymodule

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
// user's phone). The names are the host names the Caddy server is
// configured for (its routes' host matchers); a site that matches any host
// is named by public_url, else by the organisation.

// configuredHosts are the exact host names (no wildcards or placeholders)
// of the host matchers of the Caddy server that r reached, in lower case.
func configuredHosts(r *http.Request) []string {
	srv, _ := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	if srv == nil {
		return nil
	}
	var hosts []string
	for _, rt := range srv.Routes {
		for _, set := range rt.MatcherSets {
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
	}
	return hosts
}

// configuredHost is the configured host name that r's Host header names,
// with the port r's connection arrived on unless it is the scheme's
// default; "" if the Host header names none of them.
func configuredHost(r *http.Request) string {
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	for _, h := range configuredHosts(r) {
		if h != host {
			continue
		}
		port := localPort(r)
		if port == 0 || port == 443 && r.TLS != nil || port == 80 && r.TLS == nil {
			return h
		}
		return net.JoinHostPort(h, strconv.Itoa(port))
	}
	return ""
}

// localPort is the port r's connection arrived on (0 if unknown).
func localPort(r *http.Request) int {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// siteName names the site r reached in a prompt or a fraud report: its
// configured host name, else public_url's host, else the organisation.
func (p *portal) siteName(r *http.Request) string {
	if h := configuredHost(r); h != "" {
		return h
	}
	if u, err := url.Parse(p.app.public); err == nil && u.Host != "" {
		return u.Host
	}
	return p.app.org
}

// siteBase is the scheme and host of r's site for a callback when there
// is no public_url (the log provider of development mode): its configured
// host name, else the address r's connection arrived on.
func siteBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := configuredHost(r)
	if host == "" {
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			host = a.String()
		}
	}
	return scheme + "://" + host
}
