// Command caddy is Caddy with the standard modules and caddy-mfa, for tests
// and for building without xcaddy (xcaddy.sh is the documented way).
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/caddy-mfa/caddy-mfa"
)

func main() {
	caddycmd.Main()
}
