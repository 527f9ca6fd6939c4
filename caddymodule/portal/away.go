package portal

// A GET of an action's address (a bookmark, a link, a reload of an old
// result) never meets a bare 405: it is sent to the page where the action
// lives, or shown the action's confirmation page (security_confirm.go).
// The redirects change nothing.

// toSecurity sends a GET of a security-info action to the page.
func (p *Portal) toSecurity(q *request) error { return p.redirect(q, p.prefix+securityPath) }

// toRoot sends a GET of sign-out to the portal's start page, which has the
// sign-out button (or the login page, for a browser not signed in).
func (p *Portal) toRoot(q *request) error { return p.redirect(q, p.prefix) }

// toChallenge sends a GET of "send me a code" to the sign-in page that
// has the button.
func (p *Portal) toChallenge(q *request) error { return p.redirect(q, p.prefix+"challenge") }
