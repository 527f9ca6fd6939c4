package portal

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// Registering a phone (a first second factor, another one, or a new
// number for a registered phone): the number is saved only once a code
// texted to it is entered, or a call to it is approved with #.

func (p *Portal) renderPhoneForm(q *request, status int, method, region, number, ext, errID string, data map[string]any) error {
	old, oldNumber, replacing, err := p.replacedPhone(q)
	if err != nil {
		return err
	}
	title := ui.TitleSetupPhone
	if replacing {
		title = ui.TitleChangePhone
	}
	pg := p.page(q, title)
	pg.Method, pg.Enrol, pg.Adding = method, true, p.adding(q)
	var def string
	pg.Regions, def = p.regionsFor(q.r)
	if replacing && slices.ContainsFunc(pg.Regions, func(r phone.Region) bool { return r.Code == oldNumber.Region }) {
		def = oldNumber.Region // a new number is most likely in the same country
	}
	pg.Region = region
	if pg.Region == "" {
		pg.Region = def
	}
	pg.Number, pg.Ext, pg.Error, pg.MessageData = number, ext, errID, data
	if replacing {
		pg.Replace, pg.ReplaceMasked = q.value("replace"), old.Masked
	}
	return p.render(q, status, "setup_phone", pg)
}

// replacedPhone is the registered phone that the number being entered
// replaces: the one the request's "replace" names (phone-<index>, from the
// security-info page's "Change number"), for a fully signed-in user, with
// its number opened (zero if it does not open). What the page shows of it
// comes from the account, never from the request.
func (p *Portal) replacedPhone(q *request) (store.Phone, phone.Number, bool, error) {
	id := q.value("replace")
	i, err := strconv.Atoi(strings.TrimPrefix(id, "phone-"))
	if !p.adding(q) || !strings.HasPrefix(id, "phone-") || err != nil || i < 0 {
		return store.Phone{}, phone.Number{}, false, nil
	}
	a, err := p.engine.Account(q.r.Context(), q.data.User)
	if err != nil {
		return store.Phone{}, phone.Number{}, false, err
	}
	if a == nil || i >= len(a.Phones) {
		return store.Phone{}, phone.Number{}, false, nil
	}
	ph := a.Phones[i]
	n, err := p.engine.OpenNumber(a.User, ph.Number)
	if err != nil {
		n = phone.Number{}
	}
	return ph, n, true, nil
}

// rememberReplace keeps, for a change of number, which phone the new one
// replaces ("replace" and "masked" of the form, the masked number as the
// form showed it, from the account: a list changed meanwhile removes
// nothing else), until it is proved.
func (p *Portal) rememberReplace(q *request) error {
	key := phoneReplaceKey(p.sessionTag(q))
	id, masked := q.r.PostFormValue("replace"), q.r.PostFormValue("masked")
	var err error
	if p.adding(q) && strings.HasPrefix(id, "phone-") {
		err = p.engine.KV.Set(q.r.Context(), key, []byte(id+"\x00"+masked), 15*time.Minute)
	} else {
		err = p.engine.KV.Delete(q.r.Context(), key)
	}
	if err != nil {
		return fmt.Errorf("%w: saving the number to replace: %w", store.ErrUnavailable, err)
	}
	return nil
}

// phoneFormPage asks for the number to register.
func (p *Portal) phoneFormPage(q *request) error {
	m := q.r.URL.Query().Get("method")
	return p.renderPhoneForm(q, http.StatusOK, m, "", "", "", "", nil)
}

// phoneFormSubmit checks the number and texts or calls it.
func (p *Portal) phoneFormSubmit(q *request) error {
	m := q.r.PostFormValue("method")
	region, raw, ext := q.r.PostFormValue("region"), q.r.PostFormValue("number"), q.r.PostFormValue("ext")
	if m == challenge.MethodSMS {
		ext = ""
	}
	if !p.csrfOK(q.r, q.sess) {
		p.events.Write(q.r, events.CSRFRejected, q.data.User)
		return p.renderPhoneForm(q, http.StatusForbidden, m, region, raw, ext, ui.ErrCSRF, nil)
	}
	n, err := phone.Parse(region, raw, ext)
	var perr *phone.Error
	if errors.As(err, &perr) {
		return p.renderPhoneForm(q, http.StatusUnprocessableEntity, m, region, raw, ext, "error.phone."+perr.Reason, nil)
	}
	if err != nil {
		return err
	}
	e, ctx, ip := p.engine, q.r.Context(), IPKey(events.ClientIP(q.r))
	if m == challenge.MethodSMS {
		err = e.SendCode(ctx, q.data.User, challenge.PurposeEnrol, p.sessionTag(q), ip, n, p.smsBody(q))
	} else {
		_, err = e.StartCall(ctx, q.data.User, challenge.PurposeEnrol, p.sessionTag(q), ip, n, p.signInInfo(q), p.buildCall(q, challenge.PurposeEnrol, n))
	}
	sent, err := p.sendResult(q, m, err)
	if err != nil {
		return err
	}
	if sent.errID != "" {
		return p.renderPhoneForm(q, sent.status(), m, region, raw, ext, sent.errID, sent.data)
	}
	if err := p.rememberReplace(q); err != nil {
		return err
	}
	p.events.Write(q.r, map[string]events.Event{challenge.MethodSMS: events.CodeSent, challenge.MethodVoice: events.CallPlaced}[m], q.data.User, events.Method(m))
	if m == challenge.MethodSMS {
		return p.redirect(q, p.prefix+"setup/phone/code")
	}
	return p.redirect(q, p.prefix+"setup/phone/wait")
}

// renderPhoneCode asks for the code texted to the number being registered.
func (p *Portal) renderPhoneCode(q *request, status int, masked, errID string) error {
	pg := p.page(q, ui.TitlePhoneCode)
	pg.Method, pg.Enrol, pg.Masked, pg.Error = challenge.MethodSMS, true, masked, errID
	pg.Adding = p.adding(q)
	var err error
	if pg.Replace, err = p.pendingReplace(q); err != nil {
		return err
	}
	return p.render(q, status, "phone_code", pg)
}

// phoneCodePage asks for the code texted to the number being registered.
func (p *Portal) phoneCodePage(q *request) error {
	masked, ok, err := p.engine.PendingCode(q.r.Context(), q.data.User, challenge.PurposeEnrol, p.sessionTag(q))
	if err != nil {
		return err
	}
	if !ok {
		return p.redirect(q, p.prefix+"setup/phone?method=sms")
	}
	return p.renderPhoneCode(q, http.StatusOK, masked, "")
}

// phoneCodeSubmit registers the number once its code is right.
func (p *Portal) phoneCodeSubmit(q *request) error {
	e, ctx, user := p.engine, q.r.Context(), q.data.User
	masked, _, err := e.PendingCode(ctx, user, challenge.PurposeEnrol, p.sessionTag(q))
	if err != nil {
		return err
	}
	if !p.csrfOK(q.r, q.sess) {
		p.events.Write(q.r, events.CSRFRejected, user)
		return p.renderPhoneCode(q, http.StatusForbidden, masked, ui.ErrCSRF)
	}
	if ok, err := p.codeAllowed(q); !ok {
		return err
	}
	n, err := e.CheckCode(ctx, user, challenge.PurposeEnrol, p.sessionTag(q), q.r.PostFormValue("code"))
	if errors.Is(err, challenge.ErrBadCode) {
		p.events.Write(q.r, events.EnrolmentCodeRejected, user, events.Method(challenge.MethodSMS))
		if err := p.codeFailed(q); err != nil {
			return err
		}
		errID := ui.ErrBadSMSCode
		if masked == "" {
			errID = ui.ErrCodeExpired
		}
		return p.renderPhoneCode(q, http.StatusUnprocessableEntity, masked, errID)
	}
	if err != nil {
		return err
	}
	return p.phoneEnrolled(q, challenge.MethodSMS, n)
}

// phoneWaitPage shows the call to the number being registered.
func (p *Portal) phoneWaitPage(q *request) error {
	return p.renderWait(q, http.StatusOK, challenge.PurposeEnrol, "")
}

// phoneWaitSubmit registers the number once the call was approved.
func (p *Portal) phoneWaitSubmit(q *request) error {
	if !p.csrfOK(q.r, q.sess) {
		p.events.Write(q.r, events.CSRFRejected, q.data.User)
		return p.renderWait(q, http.StatusForbidden, challenge.PurposeEnrol, ui.ErrCSRF)
	}
	if waiting, err := p.callPending(q, challenge.PurposeEnrol); waiting || err != nil {
		return err
	}
	if ok, err := p.codeAllowed(q); !ok {
		return err
	}
	n, err := p.engine.FinishCall(q.r.Context(), q.data.User, challenge.PurposeEnrol, p.sessionTag(q))
	if errors.Is(err, challenge.ErrBadCode) {
		return p.renderWait(q, http.StatusConflict, challenge.PurposeEnrol, ui.ErrCallNotApproved)
	}
	if err != nil {
		return err
	}
	return p.phoneEnrolled(q, challenge.MethodVoice, n)
}

// phoneEnrolled saves the confirmed number, completes the sign-in and
// shows the recovery codes once.
func (p *Portal) phoneEnrolled(q *request, method string, n phone.Number) error {
	user, ctx := q.data.User, q.r.Context()
	codes, err := p.engine.AddPhone(ctx, user, n, !p.adding(q))
	if errors.Is(err, challenge.ErrAlreadyEnrolled) {
		return p.redirect(q, p.prefix+"challenge")
	}
	if err != nil {
		return err
	}
	if !p.adding(q) {
		return p.firstMethodAdded(q, method, codes)
	}
	// A change of number: the old one goes once the new one is proved.
	old, err := p.engine.KV.Take(ctx, phoneReplaceKey(p.sessionTag(q)))
	if errors.Is(err, store.ErrNotFound) {
		return p.methodAdded(q, method)
	}
	if err != nil {
		return fmt.Errorf("%w: reading the number to replace: %w", store.ErrUnavailable, err)
	}
	id, masked, _ := strings.Cut(string(old), "\x00")
	err = p.engine.RemoveMethod(ctx, user, id, masked)
	if errors.Is(err, challenge.ErrNoSuchMethod) || errors.Is(err, challenge.ErrLastMethod) {
		// Gone or changed meanwhile: the new number was simply added.
		return p.methodAdded(q, method)
	}
	if err != nil {
		return err
	}
	p.events.Write(q.r, events.MethodRemoved, user, events.Method(id), events.Reason("number_changed"))
	p.events.Write(q.r, events.MethodAdded, user, events.Method(method))
	if err := p.registeredBy(q, method); err != nil {
		return err
	}
	return p.redirect(q, p.prefix+securityPath+"?added="+addedNumber)
}

// pendingReplace is the id of the phone that the number being proved
// replaces (a change of number), "" for none: the code and call pages
// carry it in their "send again" links, so that trying again still
// changes the number rather than adding one.
func (p *Portal) pendingReplace(q *request) (string, error) {
	if !p.adding(q) {
		return "", nil
	}
	v, err := p.engine.KV.Get(q.r.Context(), phoneReplaceKey(p.sessionTag(q)))
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("%w: reading the number to replace: %w", store.ErrUnavailable, err)
	}
	id, _, _ := strings.Cut(string(v), "\x00")
	return id, nil
}

// phoneReplaceKey is where a session keeps the phone that the number being
// registered replaces ("<id>\x00<masked>"), from the security page's
// "Change".
func phoneReplaceKey(session string) string { return "phone-replace:" + session }
