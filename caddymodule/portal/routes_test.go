package portal

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/session"
)

// TestEveryRouteHasAGuard: a route without a guard, or a page that
// changes security info or registers a method without the guard that
// needs a recent second factor, fails here.
func TestEveryRouteHasAGuard(t *testing.T) {
	p := testPortal(t)
	if len(p.routes) == 0 {
		t.Fatal("no routes")
	}
	// The registration pages of a method are offered only when it is.
	methodOf := map[string]string{"setup/totp": challenge.MethodTOTP, "setup/key": challenge.MethodWebAuthn,
		"setup/push": challenge.MethodPush, "setup/phone": phoneNamed, "setup/phone/code": challenge.MethodSMS,
		"setup/phone/wait": challenge.MethodVoice}
	for rel, rt := range p.routes {
		if rel != "setup" && strings.HasPrefix(rel, "setup/") {
			base := strings.TrimSuffix(strings.TrimSuffix(rel, "/qr.png"), "/wait")
			if rel == "setup/phone/wait" {
				base = rel
			}
			if m, ok := methodOf[base]; !ok || rt.guard.method != m {
				t.Errorf("%q registers a method: its guard must name method %q, has %q", rel, m, rt.guard.method)
			}
		}
		if rt.get == nil && rt.post == nil {
			t.Errorf("%q has no handler", rel)
		}
		if rt.guard.who == 0 {
			t.Errorf("%q has no guard", rel)
		}
		switch {
		case strings.HasPrefix(rel, "setup"):
			if rt.guard.who != enroller || !rt.guard.recent {
				t.Errorf("%q registers a method: its guard %+v must be enroller with a recent second factor", rel, rt.guard)
			}
		case strings.HasPrefix(rel, "security/") && rel != signedOutPath:
			// A change is a POST with a recent second factor; a GET
			// (a result page, a confirmation, a redirect to the
			// page) changes nothing and needs a signed-in user.
			if rt.post != nil && (rt.guard.who != signedIn || !rt.guard.recent) {
				t.Errorf("%q changes security info: its POST guard %+v must be signedIn with a recent second factor", rel, rt.guard)
			}
			if g := rt.guardFor(http.MethodGet); rt.get != nil && g != view {
				t.Errorf("%q shows a page of security info: its GET guard %+v must be signedIn", rel, g)
			}
		case strings.HasPrefix(rel, "challenge"):
			if rt.guard.who != challenger {
				t.Errorf("%q asks for the second factor: its guard %+v must be challenger", rel, rt.guard)
			}
		}
	}
}

// TestRouterRunsTheGuards: every route's handler is replaced by one that
// records being reached; then, for every route and method, in every state
// of a session, the router reaches the handler exactly when the route's
// guard lets the request through, and otherwise answers with a redirect,
// the step-up page or a 403, never a page of the handler.
func TestRouterRunsTheGuards(t *testing.T) {
	p := testPortal(t)
	reached := ""
	for rel, rt := range p.routes {
		if rt.get != nil {
			rt.get = func(q *request) error { reached = "GET " + rel; return nil }
		}
		if rt.post != nil {
			rt.post = func(q *request) error { reached = "POST " + rel; return nil }
		}
		p.routes[rel] = rt
	}
	stale := staleAge
	states := sessionStates()
	// want is whether the guard lets s through to a route with g.
	want := func(g guard, s sessionState) bool {
		switch g.who {
		case anyone:
			return true
		case challenger:
			return s.level == session.OneFactor && s.user == "bob"
		case signedIn:
			return s.level == session.TwoFactor && (!g.recent || s.age < stale)
		case registrant:
			return false // registration is open in the fixture: nobody waits for it
		case passHolder:
			return s.level == session.OneFactor
		case enroller:
			offered := g.method == "" || g.method == challenge.MethodTOTP // the fixture offers the app only
			switch {
			case s.level == session.OneFactor && s.user == "alice":
				return offered
			case s.level == session.TwoFactor:
				return offered && (!g.recent || s.age < stale)
			}
		}
		return false
	}
	rels := make([]string, 0, len(p.routes))
	for rel := range p.routes {
		rels = append(rels, rel)
	}
	slices.Sort(rels)
	for _, s := range states {
		for _, rel := range rels {
			rt := p.routes[rel]
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				if rt.handler(method) == nil {
					continue
				}
				r := httptest.NewRequest(method, p.prefix+rel, nil)
				r.Header.Set("Accept", "text/html")
				if s.user != "" {
					cookie, id := testSession(t, p, s.user, s.level, s.age)
					r.AddCookie(cookie)
					if method == http.MethodPost {
						body := url.Values{"csrf": {p.mac("s:" + id)}}.Encode()
						r = httptest.NewRequest(method, p.prefix+rel, strings.NewReader(body))
						r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
						r.Header.Set("Accept", "text/html")
						r.AddCookie(cookie)
					}
				}
				r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
				reached = ""
				w := httptest.NewRecorder()
				if err := p.Serve(w, r); err != nil {
					t.Errorf("%s: %s %s: %v", s.name, method, rel, err)
					continue
				}
				through := reached == method+" "+rel
				if through != want(rt.guardFor(method), s) {
					t.Errorf("%s: %s %s (guard %+v): handler reached %v, want %v (answer %d %s)", s.name, method, rel,
						rt.guardFor(method), through, !through, w.Code, w.Header().Get("Location"))
				}
				if !through && rt.guardFor(method).who != anyone && w.Code != http.StatusFound && w.Code != http.StatusSeeOther &&
					w.Code != http.StatusOK && w.Code != http.StatusForbidden {
					t.Errorf("%s: %s %s refused with %d; want a redirect, the step-up page or 403", s.name, method, rel, w.Code)
				}
			}
		}
	}
}

// TestGuardsWantTheCSRFTokenBeforeAStepUp: a change of security info
// without the CSRF token is refused (403) before anything else, fresh or
// stale second factor alike, and the handler is not reached.
func TestGuardsWantTheCSRFTokenBeforeAStepUp(t *testing.T) {
	p := testPortal(t)
	reached := false
	for rel, rt := range p.routes {
		if rt.post != nil {
			rt.post = func(*request) error { reached = true; return nil }
			p.routes[rel] = rt
		}
	}
	for _, age := range []int64{60, int64(challenge.StepUpAge.Seconds()) + 60} {
		for rel, rt := range p.routes {
			if rt.guard != change {
				continue
			}
			cookie, id := testSession(t, p, "bob", session.TwoFactor, age)
			r := httptest.NewRequest(http.MethodPost, p.prefix+rel, strings.NewReader("csrf=wrong"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Accept", "text/html")
			r.AddCookie(cookie)
			r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
			reached = false
			w := httptest.NewRecorder()
			_ = p.Serve(w, r)
			if reached || w.Code != http.StatusForbidden {
				t.Errorf("POST %s with a wrong token, second factor %d s old: %d, handler reached %v; want 403 and not reached", rel, age, w.Code, reached)
			}
			raw, err := p.engine.KV.Get(context.Background(), "session:"+id)
			if err != nil {
				t.Fatal(err)
			}
			var d session.Data
			if err := d.UnmarshalBinary(raw); err != nil || d.Level != session.TwoFactor {
				t.Errorf("POST %s with a wrong token changed the session: level %v (%v)", rel, d.Level, err)
			}
		}
	}
}

// noText is a text sender that the guard tests only look at, never use.
type noText struct{}

func (noText) SendText(context.Context, phone.Text) error { return errors.New("not in these tests") }

// TestEnrolGuardsWantTheMethodReady: a registration page is reached only
// when its method is enabled and can work: texts with a text provider,
// calls with a voice provider, app notifications with a notifier; the
// phone form by the method its own request names (the query of a GET,
// the form of a POST, never the other).
func TestEnrolGuardsWantTheMethodReady(t *testing.T) {
	p := testPortal(t)
	p.engine.Methods = []string{challenge.MethodTOTP, challenge.MethodSMS, challenge.MethodVoice, challenge.MethodPush}
	p.engine.Phone.Text = noText{} // texts can be sent; calls and notifications cannot; keys are not enabled
	reached := ""
	for rel, rt := range p.routes {
		if rt.get != nil {
			rt.get = func(*request) error { reached = "GET " + rel; return nil }
		}
		if rt.post != nil {
			rt.post = func(*request) error { reached = "POST " + rel; return nil }
		}
		p.routes[rel] = rt
	}
	for _, c := range []struct {
		method, target, body string
		want                 bool
	}{
		{"GET", "setup/phone?method=sms", "", true},
		{"GET", "setup/phone?method=voice", "", false},
		{"GET", "setup/phone", "", false},
		{"POST", "setup/phone?method=voice", "method=sms", true},
		{"POST", "setup/phone?method=sms", "method=voice", false},
		{"GET", "setup/phone/code", "", true},
		{"GET", "setup/phone/wait", "", false},
		{"GET", "setup/push", "", false},
		{"GET", "setup/push/qr.png", "", false},
		{"GET", "setup/key", "", false},
		{"GET", "setup/totp", "", true},
	} {
		cookie, id := testSession(t, p, "alice", session.OneFactor, 0)
		body := c.body
		if c.method == http.MethodPost {
			body += "&csrf=" + url.QueryEscape(p.mac("s:"+id))
		}
		r := httptest.NewRequest(c.method, p.prefix+c.target, strings.NewReader(body))
		if c.method == http.MethodPost {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		r.AddCookie(cookie)
		r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
		reached = ""
		w := httptest.NewRecorder()
		if err := p.Serve(w, r); err != nil {
			t.Fatal(err)
		}
		rel, _, _ := strings.Cut(c.target, "?")
		if got := reached == c.method+" "+rel; got != c.want {
			t.Errorf("%s %s (%s): handler reached %v, want %v (answer %d %s)", c.method, c.target, c.body, got, c.want, w.Code, w.Header().Get("Location"))
		}
		if !c.want && w.Header().Get("Location") != p.prefix+"setup" {
			t.Errorf("%s %s: sent to %q, want the choice of methods", c.method, c.target, w.Header().Get("Location"))
		}
	}
}

// TestRequestedReturnIsNeverAStepUp: a return path a request carries (a
// link's rd) never names a step-up's confirmation page, which only the
// server sets as a session's way back; the server's own still does.
func TestRequestedReturnIsNeverAStepUp(t *testing.T) {
	p := testPortal(t)
	kept := p.prefix + stepUpContinuePath + "?id=0123456789abcdef0123456789abcdef"
	if !p.isStepUpReturn(kept) || p.returnPath(kept) != kept {
		t.Fatalf("the fixture's step-up path %q is not one", kept)
	}
	if got := p.requestedReturn(kept); got == kept {
		t.Fatalf("requestedReturn(%q) = %q: a link could bind a kept change to a session", kept, got)
	}
	if got := p.requestedReturn("/app/page?x=1"); got != "/app/page?x=1" {
		t.Fatalf("requestedReturn of an app path = %q", got)
	}
}
