// Package portal is the HTTP pages a user meets under the gateway's
// portal prefix (/.mfa/ by default): the login page, registration of a
// second factor, the challenge for it, the security-info page, sign-out,
// the pages a phone opens to approve a prompt and the callbacks of the
// voice provider.
//
// A Portal is built from an explicit Config (engine, renderer, pages,
// event writer, prefix, organisation, public URL, cookie policy,
// providers, options) by the Caddy handler, which keeps the hot path
// (a signed-in request to the app) and hands the portal every request
// under the prefix. The house:
//
//   - routes.go: the one route table. Every page names its handlers by
//     method and its guard (who may reach it, whether a recent second
//     factor is needed, which method must be offered); the router runs the
//     guard once, before the handler.
//   - portal.go: the router (Serve), the session of a request, redirects
//     and the page data every page shares.
//   - pages.go, busy.go, seal_errors.go: the message pages (forbidden, too
//     many attempts, busy, unavailable, a secret that does not open),
//     shared with the hot path.
//   - login.go, challenge.go, setup.go, security.go, stepup.go: sign-in,
//     the second factor, registration, the security-info page.
//   - totp_pending.go, phone*.go, push*.go, key*.go: one method each.
//   - csrf.go, body.go, device.go, familiar.go, return.go, site.go: CSRF
//     tokens, request-body bounds, remembered devices, familiar browsers,
//     return paths, and how prompts name the site.
//
// The engine (package challenge) does the sign-in work and knows nothing
// of HTTP; this package knows nothing of Caddy's configuration.
package portal
