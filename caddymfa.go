// Package caddymfa registers the caddy-mfa plugin with Caddy. Build Caddy
// with it the ordinary way:
//
//	xcaddy build --with github.com/caddy-mfa/caddy-mfa
package caddymfa

import (
	// The Caddy modules, Caddyfile syntax and commands.
	_ "github.com/caddy-mfa/caddy-mfa/caddymodule"
)
