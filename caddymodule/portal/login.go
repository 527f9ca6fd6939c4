package portal

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// loginPage shows the user name and password form, or moves a visitor who
// is further along to their next step.
func (p *Portal) loginPage(q *request) error {
	switch q.data.Level {
	case session.TwoFactor:
		return p.redirect(q, p.requestedReturn(q.r.URL.Query().Get("rd")))
	case session.OneFactor:
		if oneFactorOK(q.r.URL.Query().Get("level")) {
			// From a route where the password is enough: back there.
			return p.redirect(q, p.requestedReturn(q.r.URL.Query().Get("rd")))
		}
		// Sent here from another page of the app: a GET never changes the
		// session, so the challenge carries that page along (see
		// return.go).
		next, err := p.nextStep(q)
		if err != nil {
			return err
		}
		if next == p.prefix+"challenge" {
			next = p.withReturn(q, next)
		}
		return p.redirect(q, next)
	}
	pg := p.page(q, ui.TitleLogin)
	pg.Return = p.requestedReturn(q.r.URL.Query().Get("rd"))
	pg.OneFactor = oneFactorOK(q.r.URL.Query().Get("level"))
	return p.render(q, http.StatusOK, "login", pg)
}

// oneFactorOK reads the hint of a route where the password is enough (see
// oneFactorHint); the route itself still checks.
func oneFactorOK(level string) bool { return level == "1" }

// loginSubmit checks the first factor.
func (p *Portal) loginSubmit(q *request) error {
	rd := p.requestedReturn(q.r.PostFormValue("rd"))
	username := q.r.PostFormValue("username")
	if !p.csrfOK(q.r, q.sess) {
		pg := p.page(q, ui.TitleLogin)
		pg.Return, pg.Username, pg.Error, pg.OneFactor = rd, username, ui.ErrCSRF, oneFactorOK(q.r.PostFormValue("level"))
		p.events.Write(q.r, events.CSRFRejected, p.TypedName(p.engine.Users.Canonical(username)))
		return p.render(q, http.StatusForbidden, "login", pg)
	}
	e, ctx := p.engine, q.r.Context()
	if events.ViaLooseProxy(q.r) {
		p.looseOnce.Do(func() { p.logger.Warn(events.LooseProxiesWarning) })
	}
	// The address's rate first, before the name is looked up anywhere
	// costly (a directory search, through the bounded gate): a flood from
	// one address is refused without a lookup. The source is judged for
	// the user the name stands for as far as memory knows.
	known := e.Users.Canonical(username) // from memory: no I/O before the rate
	if v, err := e.Regulation.BeforeSource(ctx, p.passwordSource(q.r, LimitKey(known))); err != nil {
		return err
	} else if !v.Allowed {
		p.events.Write(q.r, events.SignInRefused, p.TypedName(known), events.Reason(v.Reason.String()))
		p.pages.Refused(q.w, q.r, v)
		return nil
	}
	// The user the typed name stands for (exact, or by email and case
	// with search_email / case_insensitive, or the directory's name for
	// it): what limits and lockouts count, what is checked and what the
	// upstream gets, so that Alice, alice and alice@example.com are one
	// user.
	name, err := e.Users.CanonicalName(ctx, username)
	if p.pages.HashBusy(q.w, q.r, err) {
		p.events.Write(q.r, events.SignInRefused, p.TypedName(known), events.Reason("busy"))
		return nil
	} else if err != nil {
		return err
	}
	key := LimitKey(name)
	v, attempt, err := e.Regulation.BeforeUser(ctx, key, p.passwordSource(q.r, key))
	if err != nil {
		return err
	}
	if !v.Allowed {
		// Refused before the costly hash, whatever the password: the answer
		// is the same for a right and a wrong one, for known and unknown
		// names, so it says nothing the status does not; and a locked
		// source (even a familiar browser, which login_per_ip does not
		// hold) cannot fill the bounded hash gate.
		p.events.Write(q.r, events.SignInRefused, p.TypedName(name), events.Reason(v.Reason.String()), zapSource(attempt))
		if v.Reason == regulation.ReasonLocked || v.Reason == regulation.ReasonUnfamiliar {
			p.pages.PasswordLocked(q.w, q.r, v.RetryAfter)
			return nil
		}
		p.pages.Refused(q.w, q.r, v)
		return nil
	}
	u, err := e.Users.Authenticate(ctx, name, q.r.PostFormValue("password"))
	if errors.Is(err, users.ErrPasswordExpired) {
		// The directory said so to the right password only (AD).
		p.events.Write(q.r, events.SignInRefused, p.TypedName(name), events.Reason("password_expired"), zapSource(attempt))
		pg := p.page(q, ui.TitleLogin)
		pg.Return, pg.Username, pg.Error, pg.OneFactor = rd, username, ui.ErrPasswordExpired, oneFactorOK(q.r.PostFormValue("level"))
		return p.render(q, http.StatusUnauthorized, "login", pg)
	}
	if p.pages.HashBusy(q.w, q.r, err) {
		p.events.Write(q.r, events.SignInRefused, p.TypedName(name), events.Reason("busy"))
		return nil
	} else if err != nil {
		return err
	}
	if u == nil {
		// A blocked or locked-out user's wrong password is answered as any
		// wrong password, an unknown name's too: only the right password
		// is told of the block (below).
		p.events.Write(q.r, events.SignInFailed, p.TypedName(name), events.Reason("password"), zapSource(attempt))
		// Counted even if the client has hung up meanwhile: a guess must
		// not go uncounted because its answer was not awaited.
		if locked, err := e.Regulation.PasswordFailed(context.WithoutCancel(ctx), attempt); err != nil {
			return err
		} else if locked != "" {
			p.events.Write(q.r, events.LockedOut, p.TypedName(name), zapLocked(locked), zapSource(attempt))
		}
		pg := p.page(q, ui.TitleLogin)
		pg.Return, pg.Username, pg.Error, pg.OneFactor = rd, username, ui.ErrBadCredentials, oneFactorOK(q.r.PostFormValue("level"))
		return p.render(q, http.StatusUnauthorized, "login", pg)
	}
	// The right password: a fraud block or a lockout after wrong codes
	// stops it here, and is told.
	if av, err := e.Regulation.AccountVerdict(ctx, key); err != nil {
		return err
	} else if !av.Allowed {
		p.events.Write(q.r, events.SignInRefused, u.Name, events.Reason(av.Reason.String()))
		p.pages.Refused(q.w, q.r, av)
		return nil
	}
	if err := e.Regulation.PasswordOK(ctx, attempt); err != nil {
		return err
	}
	q.data.Return = rd
	if err := p.promote(q, u.Name, session.OneFactor); err != nil {
		return err
	}
	p.events.Write(q.r, events.FirstFactorPassed, u.Name)
	if oneFactorOK(q.r.PostFormValue("level")) {
		return p.redirect(q, rd)
	}
	next, err := p.nextStep(q)
	if err != nil {
		return err
	}
	if next == p.prefix+"challenge" {
		in, err := p.withoutSecondFactor(q, u.Name)
		if err != nil {
			return err
		}
		if in {
			return p.redirect(q, p.returnPath(q.data.Return))
		}
	}
	return p.redirect(q, next)
}

// withoutSecondFactor signs user, whose password was just checked, in
// without the second factor when an administrator granted a pass (`caddy
// mfa bypass`, used up here) or this browser is remembered for them; false
// if neither. A remembered device does not count as a recent second factor
// for changes to security info; a pass does, so that a user who lost their
// phone can replace it.
func (p *Portal) withoutSecondFactor(q *request, user string) (bool, error) {
	ctx := q.r.Context()
	bypass, err := p.engine.TakeBypass(ctx, user)
	if err != nil {
		return false, err
	}
	remembered := false
	if !bypass && p.opts.RememberDevice > 0 {
		if remembered, err = p.engine.RememberedDevice(ctx, user, p.deviceTokens(q.r)); err != nil {
			return false, err
		}
	}
	if !bypass && !remembered {
		return false, nil
	}
	if err := p.promote(q, user, session.TwoFactor); err != nil {
		return false, err
	}
	if bypass {
		p.events.Write(q.r, events.BypassUsed, user)
		return true, nil
	}
	q.data.SecondFactorAt = 0
	p.events.Write(q.r, events.SignedIn, user, events.Method("remembered_device"))
	if err := p.signedInHere(q, user); err != nil {
		return false, err
	}
	return true, p.engine.Sessions.Save(q.r, q.w, q.sess)
}

// logout ends the session, then redirects to the page that says so.
func (p *Portal) logout(q *request) error {
	if !p.csrfOK(q.r, q.sess) {
		p.events.Write(q.r, events.CSRFRejected, q.data.User)
		p.pages.Message(q.w, q.r, http.StatusForbidden, ui.TitleBadRequest, ui.MsgBadRequest)
		return nil
	}
	user := q.data.User
	q.sess.Options.MaxAge = -1
	if err := p.engine.Sessions.Save(q.r, q.w, q.sess); err != nil {
		return err
	}
	if user != "" {
		p.events.Write(q.r, events.SignedOut, user)
	}
	if q.r.PostFormValue("another") == "1" {
		// "Sign in with another account" (the 403 page): the login page,
		// with the way back.
		return p.redirect(q, p.prefix+"login?rd="+url.QueryEscape(p.requestedReturn(q.r.PostFormValue("rd"))))
	}
	return p.redirect(q, p.prefix+signedOutPath+"?here=1")
}
