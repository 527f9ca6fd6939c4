package caddymodule

import "github.com/caddy-mfa/caddy-mfa/challenge"

// EngineOf is the engine of a provisioned app, for the tests of package
// caddymodule_test, which see the app only as another plugin would.
func EngineOf(a *App) *challenge.Engine { return a.engine }
