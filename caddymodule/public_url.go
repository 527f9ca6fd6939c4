package caddymodule

import (
	"fmt"
	"strings"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

// checkPublicURL checks public_url and returns it without a trailing slash.
func (a *App) checkPublicURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := phone.CheckURL(raw)
	if err != nil || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("public_url %q must be an https URL such as https://login.example.com (http only to this machine)", raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}
