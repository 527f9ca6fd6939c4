package portal

import (
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// A page that needs a recent second factor (registering another method)
// may be opened by a link from any site. When the last second factor is
// too old, the GET only says so: a GET never changes the session, so the
// session goes back to one factor only when the user presses the page's
// button, a POST with the CSRF token (securityVerify).

// stepUpPage asks a fully signed-in user with an old second factor to give
// it again, with a button (and the message errID, if any).
func (p *Portal) stepUpPage(q *request, status int, errID string) error {
	pg := p.page(q, ui.TitleStepUp)
	pg.SignedIn, pg.Error = true, errID
	return p.render(q, status, "step_up", pg)
}

// securityVerify is the step-up page's button: the second factor is asked
// for again (see freshOrStepUp), then the user comes back to the security
// info page. A second factor that is recent by now (given in another tab)
// goes straight there.
func (p *Portal) securityVerify(q *request) error {
	return p.redirect(q, p.prefix+securityPath)
}
