package caddymodule

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-mfa/caddy-mfa/challenge"
)

// buildReturnHosts gathers the hosts other than its own to which the
// portal may send a user back (a verify endpoint's return URLs): those
// under the cookie domain, those in allowed_return_hosts, and public_url's.
func (a *App) buildReturnHosts(repl *caddy.Replacer) (challenge.ReturnHosts, error) {
	h := challenge.ReturnHosts{Domain: strings.ToLower(repl.ReplaceKnown(a.Session.CookieDomain, ""))}
	for _, raw := range a.AllowedReturnHosts {
		host := strings.ToLower(repl.ReplaceKnown(raw, ""))
		if host == "" || strings.ContainsAny(host, ":/@%\\ ") || !challengeHostOK(host) {
			return h, fmt.Errorf("allowed_return_hosts: %q is not a host name such as app.example.com", raw)
		}
		h.Hosts = append(h.Hosts, host)
	}
	if a.public != "" {
		if u, err := url.Parse(a.public); err == nil && u.Hostname() != "" {
			h.Hosts = append(h.Hosts, strings.ToLower(u.Hostname()))
		}
	}
	return h, nil
}

// challengeHostOK reports whether host is a name SafeReturnURL can accept.
func challengeHostOK(host string) bool {
	return challenge.SafeReturnURL("https://"+host+"/", "/.mfa/", challenge.ReturnHosts{Hosts: []string{host}}) != ""
}
