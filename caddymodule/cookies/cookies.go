// Package cookies is the gateway's one cookie policy. Every cookie the gateway sets is made
// here, and read back only under the name made here:
//   - Secure under TLS, or on every request with secure_cookies (behind a
//     proxy that terminates TLS);
//   - then named with the __Host- prefix unless it carries a Domain, so a
//     sibling subdomain or a plain-http hop cannot plant or overwrite it
//     (a browser accepts a __Host- cookie only if Secure, from a secure
//     origin, with Path=/ and no Domain); only the session cookie takes the
//     configured cookie_domain, every other cookie stays on its host;
//   - HttpOnly, Path=/, SameSite=Lax (Strict for the push claim), and a
//     lifetime given by the caller.
//
// Under TLS only the prefixed name is read: a plain-named copy planted by
// a sibling is never looked at.
package cookies

import (
	"net/http"
	"strings"
	"unicode"
)

// hostPrefix is the cookie-name prefix that binds a cookie to its host.
const hostPrefix = "__Host-"

// Base names of the cookies the gateway owns, besides the session cookie
// (session cookie_name, default caddy_mfa).
const (
	// deviceCookie holds the browser's remembered-device tokens.
	deviceCookie = "caddy_mfa_device"
	// preCookie binds CSRF tokens before there is a session.
	preCookie = "caddy_mfa_pre"
	// claimCookie holds the claim of the phone that opened a push prompt.
	claimCookie = "caddy_mfa_push"
	// familiarCookie is smart lockout's "familiar browser" cookie: where
	// the user signed in fully before (portal/familiar.go).
	familiarCookie = "caddy_mfa_familiar"
)

// Kind is one cookie of the gateway: its names and what sets it
// apart from the others.
type Kind struct {
	base, host string
	// shared: the cookie takes the configured cookie domain (the session
	// only, for single sign-on across subdomains).
	shared bool
	// strict: SameSite=Strict rather than Lax.
	strict bool
	// secureIfPublic: Secure also on plain requests when public_url is
	// https (the push claim: phones reach it through public_url).
	secureIfPublic bool
}

func newKind(base string) Kind { return Kind{base: base, host: hostPrefix + base} }

// Policy is the one rule by which the gateway names, sets and reads
// its cookies.
type Policy struct {
	// domain is session.cookie_domain ("" for host-only).
	domain string
	// always is session.secure_cookies.
	always bool
	// publicHTTPS: public_url is an https URL.
	publicHTTPS bool

	// Session, Device (remembered-device tokens), Pre (CSRF binding before
	// a session), Claim (push-approval claim) and Familiar (smart lockout's
	// familiar browser) are the gateway's cookies.
	Session, Device, Pre, Claim, Familiar Kind
	// owned is every name, plain and prefixed, of every cookie the
	// gateway owns: none of them goes upstream.
	owned []string
	// needles are substrings of every owned name (caddy_mfa, and the
	// session cookie's name if it lacks it): a Cookie header with none of
	// them is passed over with a fast search, without parsing it.
	needles []string
}

// ownedStem is the stem of every name of the gateway's cookies but a
// configured session cookie name.
const ownedStem = "caddy_mfa"

// New makes the policy; sessionName "" means caddy_mfa.
func New(sessionName, domain string, always, publicHTTPS bool) *Policy {
	if sessionName == "" {
		sessionName = "caddy_mfa"
	}
	p := &Policy{domain: domain, always: always, publicHTTPS: publicHTTPS,
		Session: newKind(sessionName), Device: newKind(deviceCookie), Pre: newKind(preCookie), Claim: newKind(claimCookie),
		Familiar: newKind(familiarCookie)}
	p.Session.shared = true
	p.Claim.strict, p.Claim.secureIfPublic = true, true
	for _, base := range []string{sessionName, deviceCookie, preCookie, claimCookie, familiarCookie} {
		p.owned = append(p.owned, base, hostPrefix+base)
	}
	p.needles = []string{ownedStem}
	if !strings.Contains(sessionName, ownedStem) {
		p.needles = append(p.needles, sessionName)
	}
	return p
}

// secure reports whether k's cookie is Secure on the response to r.
func (p *Policy) secure(r *http.Request, k *Kind) bool {
	return r.TLS != nil || p.always || k.secureIfPublic && p.publicHTTPS
}

// name is k's cookie name for r: __Host- prefixed when Secure and host-only.
func (p *Policy) name(r *http.Request, k *Kind) string {
	if p.secure(r, k) && (!k.shared || p.domain == "") {
		return k.host
	}
	return k.base
}

// cookie makes k's cookie for the response to r, holding value for maxAge
// seconds (0: until the browser closes; negative: delete it).
func (p *Policy) Cookie(r *http.Request, k *Kind, value string, maxAge int) *http.Cookie {
	c := &http.Cookie{Name: p.name(r, k), Value: value, Path: "/", MaxAge: maxAge,
		Secure: p.secure(r, k), HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if k.shared {
		c.Domain = p.domain // "" unless cookie_domain is set, and then never __Host-
	}
	if k.strict {
		c.SameSite = http.SameSiteStrictMode
	}
	return c
}

// set sets k's cookie on w.
func (p *Policy) Set(w http.ResponseWriter, r *http.Request, k *Kind, value string, maxAge int) {
	http.SetCookie(w, p.Cookie(r, k, value, maxAge))
}

// value is k's cookie in r under the name the policy gives it ("" if none).
func (p *Policy) Value(r *http.Request, k *Kind) string {
	if c, err := r.Cookie(p.name(r, k)); err == nil {
		return c.Value
	}
	return ""
}

// SessionCookies is the policy as the session store asks it.
type SessionCookies struct{ p *Policy }

// SessionCookies is p as the session store asks it.
func (p *Policy) SessionCookies() SessionCookies { return SessionCookies{p} }

// Name is the session cookie's name for r.
func (s SessionCookies) Name(r *http.Request) string { return s.p.name(r, &s.p.Session) }

// Secure reports whether cookies for r are Secure.
func (s SessionCookies) Secure(r *http.Request) bool { return s.p.secure(r, &s.p.Session) }

// Cookie is the session cookie for the response to r.
func (s SessionCookies) Cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return s.p.Cookie(r, &s.p.Session, value, maxAge)
}

// StripOwn removes every cookie the gateway owns from the request's
// Cookie headers, in one pass, before the request goes upstream: the app
// has no use for them, and an app (or its logs) holding the session or a
// device token could replay them. The app's own cookies stay as they were.
// A header that carries none of them is left untouched (no allocation).
func (p *Policy) StripOwn(h http.Header) {
	vals, ok := h["Cookie"]
	if !ok {
		return
	}
	kept := vals[:0]
	for _, v := range vals {
		if p.carriesOwn(v) {
			v = p.removeOwn(v)
		}
		if v != "" {
			kept = append(kept, v)
		}
	}
	if len(kept) == 0 {
		delete(h, "Cookie")
		return
	}
	h["Cookie"] = kept
}

// carriesOwn reports whether the Cookie header value v has a pair named as
// one of the gateway's cookies.
func (p *Policy) carriesOwn(v string) bool {
	found := false
	for _, n := range p.needles {
		found = found || strings.Contains(v, n)
	}
	if !found {
		return false
	}
	for v != "" {
		var pair string
		pair, v, _ = strings.Cut(v, ";")
		if p.owns(pairName(pair)) {
			return true
		}
	}
	return false
}

// removeOwn drops the gateway's pairs (and empty ones) from v. When the
// pairs kept are one run of v (the gateway's cookie first or last, the
// common case), the result is that part of v, with no allocation.
func (p *Policy) removeOwn(v string) string {
	start, end := -1, -1 // the span of v from the first pair kept to the last
	dropped, gap := false, false
	for pos := 0; pos < len(v); {
		pair, _, found := strings.Cut(v[pos:], ";")
		at := pos
		pos += len(pair)
		if found {
			pos++
		}
		t := strings.TrimSpace(pair)
		if t == "" || p.owns(pairName(t)) {
			dropped = start >= 0
			continue
		}
		gap = gap || dropped
		at += len(pair) - len(strings.TrimLeftFunc(pair, unicode.IsSpace))
		if start < 0 {
			start = at
		}
		end = at + len(t)
	}
	if start < 0 {
		return ""
	}
	if !gap {
		return v[start:end]
	}
	var b strings.Builder
	for v != "" {
		var pair string
		pair, v, _ = strings.Cut(v, ";")
		pair = strings.TrimSpace(pair)
		if pair == "" || p.owns(pairName(pair)) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(pair)
	}
	return b.String()
}

// pairName is the name of one "name=value" pair of a Cookie header.
func pairName(pair string) string {
	name, _, _ := strings.Cut(pair, "=")
	return strings.TrimSpace(name)
}

// owns reports whether name is one of the gateway's cookie names.
func (p *Policy) owns(name string) bool {
	for _, n := range p.owned {
		if name == n {
			return true
		}
	}
	return false
}
