package caddymodule

import (
	"net/http"
	"strings"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// identityHeaders are the headers the upstream trusts to name the user.
var identityHeaders = [...]string{"Remote-User", "Remote-Groups", "Remote-Name", "Remote-Email"}

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
