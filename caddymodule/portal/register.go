package portal

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/push"
	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// The pages of a user the registration policy does not let register
// straight after the password: a temporary access pass, or a code e-mailed
// to them (verified_email), lets their session register.

// methodTemporaryPass names a temporary access pass in the log.
const methodTemporaryPass = "temporary_pass"

// mayAskToRegister lets through a user who gave the password, has no
// method, and may not register yet: the others are sent on (to the
// challenge, to registration, to the login page).
func (p *Portal) mayAskToRegister(q *request) (bool, error) {
	return p.atStep(q, p.prefix+registerPath)
}

// mayUsePass lets through a user who gave the password and has not
// given a second factor: a pass replaces it, whether or not they have a
// method.
func (p *Portal) mayUsePass(q *request) (bool, error) { return p.betweenFactors(q) }

// betweenFactors lets through a user who gave the password and not the
// second factor; the others go to the login page or back to the app.
func (p *Portal) betweenFactors(q *request) (bool, error) {
	switch q.data.Level {
	case session.Anonymous:
		return false, p.redirect(q, p.prefix+"login")
	case session.TwoFactor:
		return false, p.redirect(q, p.returnPath(q.data.Return))
	}
	return true, nil
}

// atStep lets through a user between the factors whose next step is want
// (the challenge, or the page before registration); the others are sent
// to theirs.
func (p *Portal) atStep(q *request, want string) (bool, error) {
	if ok, err := p.betweenFactors(q); !ok {
		return false, err
	}
	next, err := p.nextStep(q)
	if err != nil {
		return false, err
	}
	if next != want {
		return false, p.redirect(q, next)
	}
	return true, nil
}

// registerPage asks for what the policy accepts before registration: a
// temporary access pass, and a code e-mailed to the user if verified_email
// is on and the directory has their address.
func (p *Portal) registerPage(q *request) error {
	return p.renderRegister(q, http.StatusOK, ui.Register{})
}

// passPage asks a user who has methods but lost them for a temporary
// access pass (linked from the challenge pages).
func (p *Portal) passPage(q *request) error {
	pg := p.page(q, ui.TitleTemporaryPass)
	pg.Register = &ui.Register{PassOnly: true}
	return p.render(q, http.StatusOK, "register", pg)
}

// renderRegister shows the registration gate with the errors of reg, if
// any.
func (p *Portal) renderRegister(q *request, status int, reg ui.Register) error {
	pg := p.page(q, ui.TitleRegister)
	if to, _ := p.codeAddress(q); to != "" {
		reg.Email = ui.MaskEmail(to)
		waiting, err := p.emailCodeWaiting(q)
		if err != nil {
			return err
		}
		reg.EmailSent = waiting
	}
	pg.Register = &reg
	return p.render(q, status, "register", pg)
}

// codeAddress is the address a registration code goes to for the user of
// q, and their display name: "" when verified_email is off or closed,
// there is no mail server, or the directory has no address.
func (p *Portal) codeAddress(q *request) (to, name string) {
	g := p.opts.Registration
	if g == nil || !g.byEmail(p.engine.Now()) || p.opts.CodeMail == nil {
		return "", ""
	}
	u := p.engine.Users.Lookup(q.data.User)
	if u == nil || u.Email == "" {
		return "", ""
	}
	return u.Email, u.DisplayName
}

// emailCodeWaiting reports whether a code was e-mailed for this session
// (the page then asks for it).
func (p *Portal) emailCodeWaiting(q *request) (bool, error) {
	_, err := p.engine.KV.Get(q.r.Context(), emailSentKey(p.sessionTag(q)))
	if err == nil {
		return true, nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return false, err
}

func emailSentKey(tag string) string { return "register-email-sent:" + tag }

// passSubmit checks a temporary access pass. A right one lets a user
// without a method register; for one with methods it stands for the
// second factor (a recent one) and leads to registering a new method.
// A wrong, expired or used pass counts toward the second-factor lockout.
func (p *Portal) passSubmit(q *request) error {
	e, ctx, user := p.engine, q.r.Context(), q.data.User
	acct, err := e.Account(ctx, user)
	if err != nil {
		return err
	}
	has := acct.HasSecondFactor()
	again := func(status int, errID string) error {
		if has {
			pg := p.page(q, ui.TitleTemporaryPass)
			pg.Register = &ui.Register{PassOnly: true, PassError: errID}
			return p.render(q, status, "register", pg)
		}
		return p.renderRegister(q, status, ui.Register{PassError: errID})
	}
	if !p.csrfOK(q.r, q.sess) {
		p.events.Write(q.r, events.CSRFRejected, user)
		return again(http.StatusForbidden, ui.ErrCSRF)
	}
	if ok, err := p.codeAllowed(q); !ok {
		return err
	}
	res, err := e.UseTemporaryPass(ctx, user, q.r.PostFormValue("pass"))
	if err != nil {
		return err
	}
	if res != challenge.PassOK {
		errID := ui.ErrBadPass
		if res == challenge.PassExpired {
			errID = ui.ErrPassExpired
			p.events.Write(q.r, events.TemporaryPassExpired, user)
		}
		// Counted even if the client hung up: a guess is a guess.
		q.r = q.r.WithContext(context.WithoutCancel(ctx))
		if err := p.secondFactorFailed(q, methodTemporaryPass); err != nil {
			return err
		}
		return again(http.StatusUnauthorized, errID)
	}
	p.events.Write(q.r, events.TemporaryPassUsed, user)
	if has {
		// Signed in as with a second factor, to register a new one; never
		// remembered (the pass's one use and short life end the access it
		// gives), whatever the request carries.
		q.r.PostForm.Del("remember")
		q.r.Form.Del("remember")
		if err := p.secondFactorPassed(q, user, methodTemporaryPass); err != nil {
			return err
		}
		if err := p.grantRegistration(q, grantedByPass); err != nil {
			return err
		}
		return p.redirect(q, p.prefix+"setup")
	}
	if err := e.Regulation.CodeOK(ctx, LimitKey(user)); err != nil {
		return err
	}
	if err := p.grantRegistration(q, grantedByPass); err != nil {
		return err
	}
	return p.redirect(q, p.prefix+"setup")
}

// emailForm checks the CSRF token of an e-mail form and finds the address
// its code goes to; when ok is false it has answered (403, or back to the
// page when no code can be e-mailed) and the caller returns err.
func (p *Portal) emailForm(q *request) (to, name string, ok bool, err error) {
	if !p.csrfOK(q.r, q.sess) {
		p.events.Write(q.r, events.CSRFRejected, q.data.User)
		return "", "", false, p.renderRegister(q, http.StatusForbidden, ui.Register{EmailError: ui.ErrCSRF})
	}
	if to, name = p.codeAddress(q); to == "" {
		return "", "", false, p.redirect(q, p.prefix+registerPath)
	}
	return to, name, true, nil
}

// emailSend e-mails a registration code to the address the directory has
// for the user, within the send limits of texts.
func (p *Portal) emailSend(q *request) error {
	e, ctx, user := p.engine, q.r.Context(), q.data.User
	to, name, ok, err := p.emailForm(q)
	if !ok {
		return err
	}
	err = e.CheckEmailSend(ctx, LimitKey(user), to, IPKey(events.ClientIP(q.r)))
	if sent, err := p.sendResult(q, "email", err); err != nil {
		return err
	} else if sent.errID != "" {
		return p.renderRegister(q, sent.status(), ui.Register{EmailError: sent.errID, ErrorData: sent.data})
	}
	tag := p.sessionTag(q)
	code, exp, err := e.NewEmailCode(ctx, user, to, tag)
	if err != nil {
		return err
	}
	if err := e.KV.Set(ctx, emailSentKey(tag), []byte{1}, challenge.EmailCodeTTL); err != nil {
		return err
	}
	m := CodeMail{User: user, To: to, Name: name, Lang: p.language(q), Code: code, Expires: exp,
		IP: events.ClientIP(q.r), Browser: push.Browser(q.r.UserAgent())}
	if err := p.opts.CodeMail.SendCode(ctx, m); err != nil {
		p.logger.Error("e-mailing a registration code failed", zap.String("user", user), zap.Error(err))
		return p.renderRegister(q, http.StatusServiceUnavailable, ui.Register{EmailError: ui.ErrSendFailed})
	}
	p.events.Write(q.r, events.CodeSent, user, events.Method("email"))
	return p.redirect(q, p.prefix+registerPath)
}

// emailCheck checks an e-mailed registration code: a right one lets the
// session register; a wrong one counts toward the second-factor lockout.
func (p *Portal) emailCheck(q *request) error {
	e, ctx, user := p.engine, q.r.Context(), q.data.User
	to, _, ok, err := p.emailForm(q)
	if !ok {
		return err
	}
	if ok, err := p.codeAllowed(q); !ok {
		return err
	}
	err = e.CheckEmailCode(ctx, user, to, p.sessionTag(q), strings.TrimSpace(q.r.PostFormValue("code")))
	switch {
	case errors.Is(err, challenge.ErrBadCode), errors.Is(err, challenge.ErrCodeExpired):
		errID := ui.ErrBadEmailCode
		if errors.Is(err, challenge.ErrCodeExpired) {
			errID = ui.ErrCodeExpired
		}
		q.r = q.r.WithContext(context.WithoutCancel(ctx))
		if err := p.secondFactorFailed(q, "email"); err != nil {
			return err
		}
		return p.renderRegister(q, http.StatusUnauthorized, ui.Register{EmailError: errID})
	case err != nil:
		return err
	}
	if err := e.Regulation.CodeOK(ctx, LimitKey(user)); err != nil {
		return err
	}
	if err := e.KV.Delete(ctx, emailSentKey(p.sessionTag(q))); err != nil {
		return err
	}
	p.events.Write(q.r, events.RegistrationEmailVerified, user)
	if err := p.grantRegistration(q, grantedByEmail); err != nil {
		return err
	}
	return p.redirect(q, p.prefix+"setup")
}

// language is the catalogue language the request of q is answered in.
func (p *Portal) language(q *request) string {
	if _, lang, err := p.renderer.Localize(q.r, ui.TitleRegister, nil); err == nil && lang != "" {
		return lang
	}
	return "en"
}
