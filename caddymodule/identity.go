package caddymodule

import (
	"net/http"
	"strings"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// stripIdentityHeaders removes every client-sent copy of the identity
// headers, in any case and also with underscores (Remote_User), which some
// back ends (CGI, PHP, nginx with underscores_in_headers) read as the same.
func stripIdentityHeaders(h http.Header) {
	for k := range h {
		if len(k) < len("remote-user") || !strings.EqualFold(k[:7], "remote-") && !strings.EqualFold(k[:7], "remote_") {
			continue
		}
		rest := k[7:]
		if strings.EqualFold(rest, "user") || strings.EqualFold(rest, "groups") ||
			strings.EqualFold(rest, "name") || strings.EqualFold(rest, "email") {
			delete(h, k)
		}
	}
}

// setIdentityHeaders tells the upstream who the user is.
func setIdentityHeaders(h http.Header, u *users.User) {
	h["Remote-User"] = []string{u.Name}
	h["Remote-Groups"] = []string{u.GroupsHeader()}
	h["Remote-Name"] = []string{u.DisplayName}
	h["Remote-Email"] = []string{u.Email}
}

// stripCookie removes the gateway's own session cookie from the request
// before it goes upstream: the app has no use for it, and an app (or its
// logs) holding it could replay the user's session. Other cookies stay as
// they were.
func stripCookie(h http.Header, name string) {
	vals := h["Cookie"]
	kept := vals[:0]
	for _, v := range vals {
		if strings.Contains(v, name) {
			v = removeCookie(v, name)
		}
		if v != "" {
			kept = append(kept, v)
		}
	}
	if len(kept) == 0 {
		delete(h, "Cookie")
		return
	}
	h["Cookie"] = kept
}

// removeCookie drops every "name=value" pair from a Cookie header value.
func removeCookie(v, name string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(v, ";") {
		p := strings.TrimSpace(part)
		if k, _, _ := strings.Cut(p, "="); k == name || p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p)
	}
	return b.String()
}
