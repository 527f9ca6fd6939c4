package caddymodule

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// tripwire is a request body that records being read.
type tripwire struct{ read *bool }

func (t tripwire) Read([]byte) (int, error) {
	*t.read = true
	return 0, errors.New("tripwire: the body of a GET was read")
}
func (t tripwire) Close() error { return nil }

// getSession saves a session of user at level, with its second factor
// given secondFactorAge seconds ago, and returns its cookie and id.
func getSession(t *testing.T, h *Handler, user string, level session.Level, secondFactorAge int64) (*http.Cookie, string) {
	t.Helper()
	st := h.app.engine.Sessions
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	sess, err := st.New(req, "mfa")
	if err != nil {
		t.Fatal(err)
	}
	d := session.DataOf(sess)
	d.User, d.Level, d.Return = user, level, "/first"
	if level == session.TwoFactor {
		d.SecondFactorAt = st.Now().Unix() - secondFactorAge
	}
	rec := httptest.NewRecorder()
	if err := st.Save(req, rec, sess); err != nil {
		t.Fatal(err)
	}
	return rec.Result().Cookies()[0], sess.ID
}

// TestPortalGETsReadNoBodyAndChangeNoSession walks the route table: for
// every GET route (and the pages served before it), in every state of a
// session, a GET with a multipart body neither reads the body nor changes
// the session record or its cookie. A new GET route is covered by itself.
func TestPortalGETsReadNoBodyAndChangeNoSession(t *testing.T) {
	h := testHandler(t, &Handler{})
	p := h.portal
	var rels []string
	for rel, rt := range p.routes {
		if rt.get != nil {
			rels = append(rels, rel, rel+"?rd=/elsewhere&method=sms&replace=phone-1")
		}
	}
	slices.Sort(rels)
	rels = append(rels, "static/", "static/style.css", "push/approve", "voice/log?call=x&event=gather")

	type state struct {
		name  string
		user  string
		level session.Level
		age   int64
	}
	states := []state{
		{name: "anonymous"},
		{name: "one factor", user: "alice", level: session.OneFactor},
		{name: "two factors", user: "alice", level: session.TwoFactor, age: 60},
		{name: "stale second factor", user: "alice", level: session.TwoFactor, age: int64(challenge.StepUpAge.Seconds()) + 60},
	}
	ctx := context.Background()
	for _, s := range states {
		for _, rel := range rels {
			var cookie *http.Cookie
			var before []byte
			var id string
			if s.user != "" {
				cookie, id = getSession(t, h, s.user, s.level, s.age)
				var err error
				if before, err = h.app.engine.KV.Get(ctx, "session:"+id); err != nil {
					t.Fatal(err)
				}
			}
			read := false
			r := httptest.NewRequest(http.MethodGet, h.app.prefix+rel, nil)
			r.Body = tripwire{&read}
			r.ContentLength = 64 << 20
			r.Header.Set("Content-Type", "multipart/form-data; boundary=x")
			r.Header.Set("Accept", "text/html")
			if cookie != nil {
				r.AddCookie(cookie)
			}
			r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
			w := httptest.NewRecorder()
			_ = h.ServeHTTP(w, r, caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil }))
			// Nor can any later form read of this request reach the body.
			if r.FormValue("replace") != r.URL.Query().Get("replace") || r.PostFormValue("replace") != "" {
				t.Errorf("%s: GET %s: form values do not come from the query alone", s.name, rel)
			}
			if read {
				t.Errorf("%s: GET %s read the request body", s.name, rel)
			}
			for _, c := range w.Result().Cookies() {
				if c.Name == h.app.engine.Sessions.CookieName(r) {
					t.Errorf("%s: GET %s set the session cookie", s.name, rel)
				}
			}
			if s.user == "" {
				continue
			}
			after, err := h.app.engine.KV.Get(ctx, "session:"+id)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatal(err)
			}
			if string(after) != string(before) {
				var b, a session.Data
				_ = b.UnmarshalBinary(before)
				_ = a.UnmarshalBinary(after)
				t.Errorf("%s: GET %s (%d %s) changed the session:\nbefore %+v\nafter  %+v", s.name, rel, w.Code,
					strings.TrimSpace(w.Header().Get("Location")), b, a)
			}
		}
	}
}

// TestPortalReadsNoFormOutsideTheGuard: no portal code parses a request's
// form in a way that could read a multipart body, or reads a GET's values
// from anywhere but the query (FormValue merges the body in); only
// portal_body.go touches MultipartForm.
func TestPortalReadsNoFormOutsideTheGuard(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "portal_body.go" {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{".FormValue(", "ParseMultipartForm(", "MultipartForm", "MultipartReader(", ".Form.Get(", ".Form["} {
			if strings.Contains(string(src), bad) {
				t.Errorf("%s uses %s: read GET values with q.value or r.URL.Query(), POST values from r.PostForm", f, bad)
			}
		}
	}
}
