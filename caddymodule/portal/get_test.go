package portal

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

// TestPortalGETsReadNoBodyAndChangeNoSession walks the route table: for
// every GET route (and the pages served before it), in every state of a
// session, a GET with a multipart body neither reads the body nor changes
// the session record or its cookie. A new GET route is covered by itself.
func TestPortalGETsReadNoBodyAndChangeNoSession(t *testing.T) {
	p := testPortal(t)
	var rels []string
	for rel, rt := range p.routes {
		if rt.get != nil {
			rels = append(rels, rel, rel+"?rd=/elsewhere&method=sms&replace=phone-1")
		}
	}
	slices.Sort(rels)
	rels = append(rels, "static/", "static/style.css", "push/approve", "voice/log?call=x&event=gather")

	states := sessionStates()
	ctx := context.Background()
	for _, s := range states {
		for _, rel := range rels {
			var cookie *http.Cookie
			var before []byte
			var id string
			if s.user != "" {
				cookie, id = testSession(t, p, s.user, s.level, s.age)
				var err error
				if before, err = p.engine.KV.Get(ctx, "session:"+id); err != nil {
					t.Fatal(err)
				}
			}
			read := false
			r := httptest.NewRequest(http.MethodGet, p.prefix+rel, nil)
			r.Body = tripwire{&read}
			r.ContentLength = 64 << 20
			r.Header.Set("Content-Type", "multipart/form-data; boundary=x")
			r.Header.Set("Accept", "text/html")
			if cookie != nil {
				r.AddCookie(cookie)
			}
			r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
			w := httptest.NewRecorder()
			_ = p.Serve(w, r)
			// Nor can any later form read of this request reach the body.
			if r.FormValue("replace") != r.URL.Query().Get("replace") || r.PostFormValue("replace") != "" {
				t.Errorf("%s: GET %s: form values do not come from the query alone", s.name, rel)
			}
			if read {
				t.Errorf("%s: GET %s read the request body", s.name, rel)
			}
			for _, c := range w.Result().Cookies() {
				if c.Name == p.engine.Sessions.CookieName(r) {
					t.Errorf("%s: GET %s set the session cookie", s.name, rel)
				}
			}
			if s.user == "" {
				continue
			}
			after, err := p.engine.KV.Get(ctx, "session:"+id)
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
// body.go touches MultipartForm.
func TestPortalReadsNoFormOutsideTheGuard(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "body.go" {
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
