package portal

import (
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// Registration is who may register a first second factor right after the
// password. Any one of its ways suffices; a temporary access pass issued
// by an administrator always does (also after Until).
type Registration struct {
	// Open lets anyone who gave the password register (the behaviour
	// without a registration policy).
	Open bool
	// Networks lets those register whose client address (Caddy's, with
	// trusted_proxies honoured) is in one of them.
	Networks []netip.Prefix
	// VerifiedEmail lets those register who type a code e-mailed to the
	// address the directory has for them.
	VerifiedEmail bool
	// Until, if set, ends self-registration (Open, Networks,
	// VerifiedEmail) at that time: from then on only a temporary access
	// pass lets a user without a method register.
	Until time.Time
}

// selfOpen reports whether self-registration is still open at now.
func (g Registration) selfOpen(now time.Time) bool { return g.Until.IsZero() || now.Before(g.Until) }

// fromHere reports whether the policy lets a request from ip (unmapped;
// the zero address when it cannot be trusted) register without further
// proof at now.
func (g Registration) fromHere(now time.Time, ip netip.Addr) bool {
	if !g.selfOpen(now) {
		return false
	}
	if g.Open {
		return true
	}
	for _, n := range g.Networks {
		if ip.IsValid() && n.Contains(ip) {
			return true
		}
	}
	return false
}

// byEmail reports whether a code e-mailed to the user lets them register at now.
func (g Registration) byEmail(now time.Time) bool { return g.VerifiedEmail && g.selfOpen(now) }

// How a session earned the right to register (the value of its grant).
const (
	grantedByPass  = "temporary_pass"
	grantedByEmail = "verified_email"
)

// registerGrantTTL is how long a session may take to register after a
// temporary access pass or an e-mailed code let it.
const registerGrantTTL = 30 * time.Minute

// registerGrantKey is the store key of the grant of session tag.
func registerGrantKey(tag string) string { return "register-grant:" + tag }

// grantRegistration lets the session of q register for the next
// registerGrantTTL, because of how (grantedByPass or grantedByEmail).
func (p *Portal) grantRegistration(q *request, how string) error {
	v := []byte(how + "\x00" + q.data.User)
	if err := p.engine.KV.Set(q.r.Context(), registerGrantKey(p.sessionTag(q)), v, registerGrantTTL); err != nil {
		return errors.Join(store.ErrUnavailable, err)
	}
	return nil
}

// registrationGrant is how the session of q earned the right to register
// ("" if it did not, or for another user).
func (p *Portal) registrationGrant(q *request) (string, error) {
	v, err := p.engine.KV.Get(q.r.Context(), registerGrantKey(p.sessionTag(q)))
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", errors.Join(store.ErrUnavailable, err)
	}
	how, user, ok := strings.Cut(string(v), "\x00")
	if !ok || user != q.data.User {
		return "", nil
	}
	if how == grantedByPass {
		// Revoked meanwhile: what the pass allowed and was not done yet
		// ends with it.
		if revoked, err := p.engine.TemporaryPassRevoked(q.r.Context(), user); err != nil || revoked {
			return "", err
		}
	}
	return how, nil
}

// mayRegister reports whether the user of q, who gave the password and has
// no method, may register one now: the policy lets this request, or a
// temporary access pass or an e-mailed code let this session.
func (p *Portal) mayRegister(q *request) (bool, error) {
	g := p.opts.Registration
	if g == nil {
		return true, nil
	}
	ip, loose := events.NetworkIP(q.r)
	if loose && len(g.Networks) > 0 {
		p.looseOnce.Do(func() { p.logger.Warn(events.LooseProxiesWarning) })
	}
	if g.fromHere(p.engine.Now(), ip) {
		return true, nil
	}
	how, err := p.registrationGrant(q)
	return how != "", err
}

// registeredBy ends the grant of the session of q once a method is
// registered, and logs a registration a temporary access pass let in
// (its user hears of it).
func (p *Portal) registeredBy(q *request, method string) error {
	how, err := p.registrationGrant(q)
	if err != nil || how == "" {
		return err
	}
	if err := p.engine.KV.Delete(q.r.Context(), registerGrantKey(p.sessionTag(q))); err != nil {
		return errors.Join(store.ErrUnavailable, err)
	}
	if how == grantedByPass {
		p.events.Write(q.r, events.RegisteredWithTemporaryPass, q.data.User, events.Method(method))
	}
	return nil
}

// toRegister sends a GET of a registration action to its page.
func (p *Portal) toRegister(q *request) error { return p.redirect(q, p.prefix+registerPath) }

// registerPath is the page a user without a method reaches when the policy
// does not let them register straight away.
const registerPath = "register"
