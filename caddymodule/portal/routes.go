package portal

import (
	"net/http"

	"github.com/caddy-mfa/caddy-mfa/challenge"
)

// The portal's one route table. Every page names its handlers by method
// and its guard; the router (serveRoute) runs the guard once, before the
// handler, so that no handler checks who may reach it by itself. The
// forms' CSRF tokens are checked by the handlers, which answer a missing
// or wrong token with their own form again (and 403).

// audience is who may reach a route.
type audience int

const (
	// anyone: the login page, sign-out, the status polls; the handler
	// looks at the session itself (a poll answers only for its own
	// session's prompt or call).
	anyone audience = iota + 1
	// challenger: a user who gave the password and has a second factor
	// to give. Others are sent where they belong: to the login page, back
	// to the app, or to registration.
	challenger
	// enroller: a user who gave the password and has no second factor
	// yet (registering a first one), or a fully signed-in user adding
	// another one from the security-info page.
	enroller
	// registrant: a user who gave the password, has no second factor,
	// and may not register one yet under the registration policy.
	registrant
	// passHolder: a user who gave the password and no second factor yet,
	// with or without a method (a temporary access pass stands for it).
	passHolder
	// signedIn: a fully signed-in user (password and second factor);
	// others sign in first and come back to the security-info page.
	signedIn
)

// Method values of a guard beyond the method names.
const (
	// phoneNamed: the phone method (sms or voice) the request names in
	// its "method" value.
	phoneNamed = "phone"
)

// guard is what a route needs before its handler runs.
type guard struct {
	// who may reach the route.
	who audience
	// recent: a fully signed-in user needs a second factor from the last
	// challenge.StepUpAge (a stale one is asked for again first, then the
	// user comes back to the security-info page). On signedIn POST routes
	// it also checks the CSRF token first, since the step-up changes the
	// session.
	recent bool
	// method, if set, must be offered by the operator (configured and
	// enabled), else the user is sent to the choice of methods.
	method string
}

// route is one portal page: its handlers by method and its guard.
type route struct {
	get, post func(*request) error
	guard     guard
	// read, if set, is the guard of get instead: an action's address
	// whose GET only shows a page (its confirmation, or a redirect to
	// where the action lives) is open to every signed-in user, while its
	// POST needs the CSRF token and a recent second factor.
	read guard
}

// guardFor is the guard of rt's handler for method.
func (rt route) guardFor(method string) guard {
	if rt.read.who != 0 && method != http.MethodPost {
		return rt.read
	}
	return rt.guard
}

// handler is the route's handler for method, nil if it has none.
func (rt route) handler(method string) func(*request) error {
	switch method {
	case http.MethodGet, http.MethodHead:
		return rt.get
	case http.MethodPost:
		return rt.post
	}
	return nil
}

// allow is the route's Allow header.
func (rt route) allow() string {
	switch {
	case rt.get != nil && rt.post != nil:
		return "GET, HEAD, POST"
	case rt.post != nil:
		return "POST"
	}
	return "GET, HEAD"
}

var (
	public    = guard{who: anyone}
	signIn    = guard{who: challenger}
	view      = guard{who: signedIn}
	change    = guard{who: signedIn, recent: true}
	enrolAny  = guard{who: enroller, recent: true}
	gate      = guard{who: registrant}
	usePass   = guard{who: passHolder}
	enrolTOTP = guard{who: enroller, recent: true, method: challenge.MethodTOTP}
	enrolKey  = guard{who: enroller, recent: true, method: challenge.MethodWebAuthn}
	enrolPush = guard{who: enroller, recent: true, method: challenge.MethodPush}
	enrolSMS  = guard{who: enroller, recent: true, method: challenge.MethodSMS}
	enrolCall = guard{who: enroller, recent: true, method: challenge.MethodVoice}
	enrolTel  = guard{who: enroller, recent: true, method: phoneNamed}
)

// routeTable is every portal page under the prefix, by path. (The static
// assets, the voice provider's callbacks and the push approval page, which
// phones open without a session, are served before it: Serve.)
func (p *Portal) routeTable() map[string]route {
	return map[string]route{
		"":                              {get: p.root, guard: public},
		"login":                         {get: p.loginPage, post: p.loginSubmit, guard: public},
		"logout":                        {get: p.toRoot, post: p.logout, guard: public},
		signedOutPath:                   {get: p.signedOutPage, guard: public},
		"challenge":                     {get: p.challengePage, post: p.challengeSubmit, guard: signIn},
		"challenge/send":                {get: p.toChallenge, post: p.challengeSend, guard: signIn},
		"challenge/wait":                {get: p.challengeWaitPage, post: p.challengeWaitSubmit, guard: signIn},
		"challenge/push":                {get: p.challengePushPage, post: p.challengePushSubmit, guard: signIn},
		"call/status":                   {get: p.callStatus, guard: public},
		"push/status":                   {get: p.pushStatus, guard: public},
		registerPath:                    {get: p.registerPage, guard: gate},
		"register/pass":                 {get: p.toRegister, post: p.passSubmit, guard: usePass},
		"register/email":                {get: p.toRegister, post: p.emailSend, guard: gate},
		"register/email/code":           {get: p.toRegister, post: p.emailCheck, guard: gate},
		"pass":                          {get: p.passPage, guard: signIn},
		"setup":                         {get: p.setupPage, guard: enrolAny},
		"setup/totp":                    {get: p.totpPage, post: p.totpSubmit, guard: enrolTOTP},
		"setup/totp/qr.png":             {get: p.totpQR, guard: enrolTOTP},
		"setup/phone":                   {get: p.phoneFormPage, post: p.phoneFormSubmit, guard: enrolTel},
		"setup/phone/code":              {get: p.phoneCodePage, post: p.phoneCodeSubmit, guard: enrolSMS},
		"setup/phone/wait":              {get: p.phoneWaitPage, post: p.phoneWaitSubmit, guard: enrolCall},
		"setup/key":                     {get: p.keySetupPage, post: p.keySetupSubmit, guard: enrolKey},
		"setup/push":                    {get: p.pushSetupPage, post: p.pushSetupSubmit, guard: enrolPush},
		"setup/push/qr.png":             {get: p.pushQR, guard: enrolPush},
		"setup/push/wait":               {get: p.pushSetupWaitPage, post: p.pushSetupWaitSubmit, guard: enrolPush},
		securityPath:                    {get: p.securityPage, guard: view},
		recoveryLeftPath:                {get: p.recoveryLeftPage, guard: view},
		"security/verify":               {get: p.toSecurity, post: p.securityVerify, guard: change, read: view},
		"security/remove":               {get: p.confirmRemove, post: p.securityRemove, guard: change, read: view},
		"security/recovery":             {get: p.confirmRecovery, post: p.securityRecovery, guard: change, read: view},
		recoveryCodesPath:               {get: p.recoveryCodesPage, guard: view},
		"security/signout":              {get: p.confirmSignOut, post: p.securitySignOut, guard: change, read: view},
		"security/default":              {get: p.toSecurity, post: p.securityDefault, guard: change, read: view},
		"security/keys/rename":          {get: p.toSecurity, post: p.securityRenameKey, guard: change, read: view},
		"security/devices/forget":       {get: p.confirmForget, post: p.securityForgetDevice, guard: change, read: view},
		"security/app-passwords":        {get: p.toSecurity, post: p.securityAppPassword, guard: change, read: view},
		newAppPasswordPath:              {get: p.newAppPasswordPage, guard: view},
		"security/app-passwords/revoke": {get: p.confirmRevoke, post: p.securityAppPasswordRevoke, guard: change, read: view},
		stepUpContinuePath:              {get: p.stepUpContinue, guard: view},
	}
}

// pass runs g for q; if it does not let q through, it has answered (a
// redirect, the step-up page, a 403) and ok is false.
func (p *Portal) pass(q *request, g guard) (ok bool, err error) {
	switch g.who {
	case anyone:
		ok = true
	case challenger:
		ok, err = p.mayChallenge(q)
	case enroller:
		ok, err = p.mayEnrol(q, g.recent)
	case registrant:
		ok, err = p.mayAskToRegister(q)
	case passHolder:
		ok, err = p.mayUsePass(q)
	case signedIn:
		if g.recent {
			ok, err = p.securityChange(q)
		} else if ok = p.maySecurity(q); !ok {
			err = p.toSecurityAfterSignIn(q)
		}
	}
	if !ok || g.method == "" {
		return ok, err
	}
	if !p.offered(q, g.method) {
		return false, p.redirect(q, p.prefix+"setup")
	}
	return true, nil
}

// offered reports whether the operator offers method m (configured and
// enabled); phoneNamed is the phone method q names.
func (p *Portal) offered(q *request, m string) bool {
	switch m {
	case phoneNamed:
		m = q.value("method")
		return (m == challenge.MethodSMS || m == challenge.MethodVoice) && p.engine.PhoneMethodReady(m)
	case challenge.MethodSMS, challenge.MethodVoice:
		return p.engine.PhoneMethodReady(m)
	case challenge.MethodPush:
		return p.engine.PushReady()
	}
	return p.engine.MethodEnabled(m)
}

// toSecurityAfterSignIn sends a user who is not fully signed in to the
// login page, and from there back to the security-info page.
func (p *Portal) toSecurityAfterSignIn(q *request) error {
	return p.redirect(q, p.prefix+"login?rd="+p.prefix+securityPath)
}
