package portal

import (
	"net/http"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// Every change on the security-info page answers with a redirect to a GET
// page that shows its result (POST/redirect/GET): reloading it repeats
// nothing. A notice is named in the security page's address (done=…,
// one of doneNotice's, never text from the address). A secret just made,
// new recovery codes or an app password, waits sealed in the store for its
// page for challenge.ShownTTL, bound to this session (Engine.KeepShown):
// the page, reloaded, shows the same secret, and the GET changes nothing;
// after that, or in another session, the page says the secret is shown no
// more and leads to the security-info page. Deleting the secret on its
// first showing would make the GET a change, and lose the codes of a user
// whose page was reloaded before they were saved (the old ones already
// replaced); keeping it a little while, in this session only, does
// neither.

// Result pages under the prefix.
const (
	recoveryCodesPath  = "security/recovery/codes"
	newAppPasswordPath = "security/app-passwords/new"
)

// doneNotice is the notice a change's redirect names by done ("" for
// none): a fixed list, so that no text comes from the address.
func doneNotice(done string) string {
	switch done {
	case "removed":
		return ui.MsgMethodRemoved
	case "default":
		return ui.MsgDefaultSaved
	case "renamed":
		return ui.MsgKeyRenamed
	case "forgotten":
		return ui.MsgDeviceForgotten
	case "revoked":
		return ui.MsgAppPasswordRevoked
	case "expired":
		return ui.MsgResultExpired
	}
	return ""
}

// done redirects to the security-info page with the notice named done.
func (p *Portal) done(q *request, done string) error {
	return p.redirect(q, p.prefix+securityPath+"?done="+done)
}

// showOnce keeps the secret of kind just made for its result page at path
// (under the prefix), whose button leads to ret, and redirects there.
func (p *Portal) showOnce(q *request, kind, path, ret string, secrets []string) error {
	if err := p.engine.KeepShown(q.r.Context(), p.sessionTag(q), q.data.User, kind, challenge.Shown{Secrets: secrets, Return: ret}); err != nil {
		return err
	}
	return p.redirect(q, p.prefix+path)
}

// shown is the secret of kind kept for this session; if there is none,
// it has answered (the security-info page, saying so) and ok is false.
func (p *Portal) shown(q *request, kind string) (challenge.Shown, bool, error) {
	s, ok, err := p.engine.ShownResult(q.r.Context(), p.sessionTag(q), q.data.User, kind)
	if err != nil || !ok || len(s.Secrets) == 0 {
		if err == nil {
			err = p.done(q, "expired")
		}
		return s, false, err
	}
	return s, true, nil
}

// recoveryCodesPage shows the recovery codes just made.
func (p *Portal) recoveryCodesPage(q *request) error {
	s, ok, err := p.shown(q, challenge.ShownRecovery)
	if !ok {
		return err
	}
	pg := p.page(q, ui.TitleRecovery)
	pg.Codes, pg.CodesAccount, pg.Return = s.Secrets, q.data.User, p.returnPath(s.Return)
	return p.render(q, http.StatusOK, "recovery", pg)
}

// newAppPasswordPage shows the app password just made.
func (p *Portal) newAppPasswordPage(q *request) error {
	s, ok, err := p.shown(q, challenge.ShownAppPassword)
	if !ok {
		return err
	}
	pg := p.page(q, ui.TitleAppPassword)
	pg.AppPassword, pg.Return, pg.SignedIn = s.Secrets[0], p.prefix+securityPath, true
	return p.render(q, http.StatusOK, "app_password", pg)
}
