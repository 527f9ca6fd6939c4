package portal

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// A change of security info (or a page that registers another method)
// needs a second factor from the last challenge.StepUpAge. With an older
// one, the change is not forgotten: freshOrStepUp keeps it in the engine
// (challenge.StepUpChange, under a random id) and makes the session's
// return path the confirmation page, stepUpContinuePath?id=…; then the
// session goes back to one factor, and the challenge pages say why they
// ask (Page.StepUp: the reason, no "Don't ask again on this device", an
// exit back to the security-info page). After the second factor the user
// lands on the confirmation page, a GET that only shows the change, ready
// to confirm: a form that posts it again with a fresh CSRF token (a GET
// never carries out a change), or, for a setup page, a redirect back to
// it. The kept change is bound to the session that asked by that return
// path, which lives in the session only: another session of the user, or
// a link with the id, opens nothing.
//
// A page that needs a recent second factor may be opened by a link from
// any site. When the last second factor is too old, the GET only says so
// (stepUpPage): a GET never changes the session, so the session goes back
// to one factor only when the user presses the page's button, a POST with
// the CSRF token (securityVerify), which names the page to come back to.

// stepUpContinuePath is the confirmation page's path under the prefix.
const stepUpContinuePath = "stepup"

// stepUpIDLen is the length of a kept change's id (hex).
const stepUpIDLen = 32

// stepUpPage asks a fully signed-in user with an old second factor to give
// it again, with a button (and the message errID, if any); the button
// brings the user back to this page afterwards.
func (p *Portal) stepUpPage(q *request, status int, errID string) error {
	pg := p.page(q, ui.TitleStepUp)
	pg.SignedIn, pg.Error = true, errID
	if next, ok := p.stepUpPageBack(q.r.URL.RequestURI()); ok {
		pg.Return = p.prefix + next
	}
	return p.render(q, status, "step_up", pg)
}

// stepUpPageBack is the page of uri (a portal page a step-up may come
// back to: a setup page, with its query) relative to the prefix; ok is
// false for any other.
func (p *Portal) stepUpPageBack(uri string) (string, bool) {
	u, err := url.Parse(uri)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "", false
	}
	rel, ok := strings.CutPrefix(u.Path, p.prefix)
	if !ok || !strings.HasPrefix(rel, "setup") {
		return "", false
	}
	if rt, ok := p.routes[rel]; !ok || rt.get == nil {
		return "", false
	}
	if u.RawQuery != "" {
		rel += "?" + u.Query().Encode()
	}
	return rel, true
}

// securityVerify is the step-up page's button: the second factor is asked
// for again (see freshOrStepUp), then the user comes back to the page
// named in "next" (or the security info page). A second factor that is
// recent by now (given in another tab) goes straight there.
func (p *Portal) securityVerify(q *request) error {
	if next, ok := p.stepUpPageBack(q.r.PostFormValue("next")); ok {
		return p.redirect(q, p.prefix+next)
	}
	return p.redirect(q, p.prefix+securityPath)
}

// keepStepUp keeps what q asked for over the step-up and returns the
// confirmation page's path (the session's return path).
func (p *Portal) keepStepUp(q *request) (string, error) {
	c := challenge.StepUpChange{User: q.data.User, Path: securityPath, Page: true}
	rel := strings.TrimPrefix(q.r.URL.Path, p.prefix)
	switch {
	case rel == "security/verify":
		if next, ok := p.stepUpPageBack(q.r.PostFormValue("next")); ok {
			c.Path = next
		}
	case strings.HasPrefix(rel, "security/"):
		form := map[string][]string{}
		for k, v := range q.r.PostForm {
			if k != "csrf" && k != "change" {
				form[k] = v
			}
		}
		c.Path, c.Page, c.Form = rel, false, form
	default: // a setup page's form: back to the page
		if next, ok := p.stepUpPageBack(q.r.URL.RequestURI()); ok {
			c.Path = next
		}
	}
	id, err := p.engine.SaveStepUp(q.r.Context(), c)
	if err != nil {
		return "", err
	}
	return p.prefix + stepUpContinuePath + "?id=" + id, nil
}

// isStepUpReturn reports whether raw is a confirmation page's path.
func (p *Portal) isStepUpReturn(raw string) bool {
	id, ok := strings.CutPrefix(raw, p.prefix+stepUpContinuePath+"?id=")
	return ok && isHexID(id)
}

func isHexID(id string) bool {
	if len(id) != stepUpIDLen {
		return false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// inStepUp reports whether q's session is giving its second factor again
// for a change (not signing in): the challenge pages then say why.
func (p *Portal) inStepUp(q *request) bool {
	return q.data.Level == session.OneFactor && q.data.SecondFactorAt != 0 && p.isStepUpReturn(q.data.Return)
}

// stepUpContinue is the confirmation page: the change the session asked
// for before its step-up, ready to confirm (or, for a setup page, a
// redirect back there). Anything else goes to the security-info page.
func (p *Portal) stepUpContinue(q *request) error {
	id := q.r.URL.Query().Get("id")
	if q.data.Return != p.prefix+stepUpContinuePath+"?id="+id || !isHexID(id) {
		return p.redirect(q, p.prefix+securityPath)
	}
	c, ok, err := p.engine.StepUp(q.r.Context(), q.data.User, id)
	if err != nil {
		return err
	}
	if !ok {
		return p.redirect(q, p.prefix+securityPath)
	}
	if c.Page {
		return p.redirect(q, p.prefix+c.Path)
	}
	if rt, ok := p.routes[c.Path]; !ok || rt.post == nil || rt.guard != change {
		return p.redirect(q, p.prefix+securityPath)
	}
	pg := p.page(q, ui.TitleStepUpConfirm)
	pg.SignedIn, pg.Return = true, p.prefix+c.Path
	pg.Message = "step_up.change." + strings.NewReplacer("/", "_", "-", "_").Replace(c.Path)
	pg.Change = id
	for k, vs := range c.Form {
		if k == "confirm" {
			continue
		}
		for _, v := range vs {
			pg.Fields = append(pg.Fields, ui.Field{Name: k, Value: v})
		}
	}
	// This page is the change's confirmation: a destructive change is not
	// asked about again (security_confirm.go).
	pg.Fields = append(pg.Fields, ui.Field{Name: "confirm", Value: "1"})
	sort.SliceStable(pg.Fields, func(i, j int) bool { return pg.Fields[i].Name < pg.Fields[j].Name })
	return p.render(q, http.StatusOK, "step_up_confirm", pg)
}

// endStepUp forgets the kept change that a confirmed POST ("change")
// carries out.
func (p *Portal) endStepUp(q *request) error {
	id := q.r.PostFormValue("change")
	if !isHexID(id) {
		return nil
	}
	return p.engine.EndStepUp(q.r.Context(), q.data.User, id)
}
