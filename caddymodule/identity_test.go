package caddymodule

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// serveHeaders runs a signed-in request of alice with the client's
// headers through h and returns the headers the upstream got.
func serveHeaders(t *testing.T, h *Handler, client map[string]string) http.Header {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.AddCookie(signedInCookie(t, h, "alice"))
	for k, v := range client {
		req.Header[k] = []string{v}
	}
	return passedHeaders(t, h, req)
}

// expectOnly checks that each of want's names reached the upstream once
// with its value, and that no other name folding to an identity name did.
func expectOnly(t *testing.T, got http.Header, want map[string]string, identity ...string) {
	t.Helper()
	for k, v := range want {
		if vs := got[k]; len(vs) != 1 || vs[0] != v {
			t.Errorf("%s = %q, want %q", k, vs, v)
		}
	}
	for k, vs := range got {
		if _, ok := want[k]; ok {
			continue
		}
		for _, name := range identity {
			if foldHeaderName(k) == foldHeaderName(name) {
				t.Errorf("the client's %s: %q reached the upstream", k, vs)
			}
		}
	}
}

// TestHandlerRenamedHeaders: with headers { ... } the identity goes out
// under the configured names (Grafana's X-WEBAUTH-USER), and no client-sent
// copy of them, nor of the default Remote-* names, reaches the upstream, in
// any case, with underscores or with dots.
func TestHandlerRenamedHeaders(t *testing.T) {
	h := testHandler(t, &Handler{Headers: &IdentityHeaders{User: "X-WEBAUTH-USER", Groups: "X-Webauth-Groups", Name: "x-webauth-name", Email: "X-Webauth-Email"}})
	got := serveHeaders(t, h, map[string]string{
		"X-Webauth-User": "mallory", "X-WEBAUTH-USER": "mallory", "x_webauth_user": "mallory", "X.Webauth.User": "mallory",
		"X-Webauth-Groups": "admins", "X_WEBAUTH_NAME": "Mallory", "x-webauth_email": "m@example.com",
		"Remote-User": "mallory", "Remote_Groups": "admins", "REMOTE-NAME": "Mallory", "remote.email": "m@example.com",
		"X-Webauth-Role": "kept", "Remote-Address": "kept",
	})
	expectOnly(t, got, map[string]string{
		"X-Webauth-User": "alice", "X-Webauth-Groups": "staff", "X-Webauth-Name": "Alice", "X-Webauth-Email": "a@example.com",
		"X-Webauth-Role": "kept", "Remote-Address": "kept",
	}, "X-Webauth-User", "X-Webauth-Groups", "X-Webauth-Name", "X-Webauth-Email", "Remote-User", "Remote-Groups", "Remote-Name", "Remote-Email")
}

// TestHandlerRenamedHeaderOne: renaming one header keeps the others'
// defaults; the old name of the renamed one is still stripped, never set.
func TestHandlerRenamedHeaderOne(t *testing.T) {
	h := testHandler(t, &Handler{Headers: &IdentityHeaders{User: "X-Forwarded-User"}})
	got := serveHeaders(t, h, map[string]string{"Remote-User": "mallory", "X-Forwarded-User": "mallory", "remote_groups": "admins"})
	expectOnly(t, got, map[string]string{"X-Forwarded-User": "alice", "Remote-Groups": "staff", "Remote-Name": "Alice", "Remote-Email": "a@example.com"},
		"X-Forwarded-User", "Remote-User", "Remote-Groups", "Remote-Name", "Remote-Email")
}

// TestHandlerRenamedHeadersAppPassword: an app-password request gets the
// renamed headers too, and the client's copies go.
func TestHandlerRenamedHeadersAppPassword(t *testing.T) {
	h := testHandler(t, &Handler{AppPasswords: true, Headers: &IdentityHeaders{User: "X-WEBAUTH-USER"}})
	secret, err := h.app.engine.CreateAppPassword(t.Context(), "alice", "dav")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/dav", nil)
	req.SetBasicAuth("alice", secret)
	req.Header["X-Webauth-User"] = []string{"mallory"}
	req.Header["Remote-User"] = []string{"mallory"}
	var got http.Header
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error { got = r.Header.Clone(); return nil })
	if err := h.ServeHTTP(httptest.NewRecorder(), req, next); err != nil {
		t.Fatal(err)
	}
	if got == nil {
		t.Fatal("app-password request not passed on")
	}
	expectOnly(t, got, map[string]string{"X-Webauth-User": "alice", "Remote-Groups": "staff"}, "X-Webauth-User", "Remote-User", "Authorization")
}

// TestHandlerRenamedHeaderTrailers: trailers under the configured names
// and the default ones are removed when the body ends; others stay.
func TestHandlerRenamedHeaderTrailers(t *testing.T) {
	h := testHandler(t, &Handler{Headers: &IdentityHeaders{User: "X-WEBAUTH-USER"}})
	req := httptest.NewRequest(http.MethodPost, "/upload", strings.NewReader("hello"))
	req.ContentLength = -1
	req.AddCookie(signedInCookie(t, h, "alice"))
	req.Trailer = http.Header{"X-Webauth-User": nil, "X-Checksum": nil}
	var trailer http.Header
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if _, ok := r.Trailer["X-Webauth-User"]; ok {
			t.Error("declared trailer X-Webauth-User kept")
		}
		// As Go's server does at the body's end: every trailer the client
		// sent arrives, declared or not.
		body := r.Body
		r.Trailer["X_Webauth_User"] = []string{"mallory"}
		r.Trailer["Remote-User"] = []string{"mallory"}
		r.Trailer["X-Checksum"] = []string{"abc"}
		if _, err := io.ReadAll(body); err != nil {
			return err
		}
		trailer = r.Trailer.Clone()
		return nil
	})
	if err := h.ServeHTTP(httptest.NewRecorder(), req, next); err != nil {
		t.Fatal(err)
	}
	expectOnly(t, trailer, map[string]string{"X-Checksum": "abc"}, "X-Webauth-User", "Remote-User")
}

// TestIdentityNamesStripDefaultsAlways: the strip set always holds the
// four Remote-* names, whatever the configured ones.
func TestIdentityNamesStripDefaultsAlways(t *testing.T) {
	n := newIdentityNames(&IdentityHeaders{User: "A", Groups: "B", Name: "C", Email: "D"})
	if n.set != [4]string{"A", "B", "C", "D"} {
		t.Errorf("set %q", n.set)
	}
	hdr := http.Header{}
	for _, k := range []string{"Remote-User", "Remote-Groups", "Remote-Name", "Remote-Email", "a", "B", "c", "D", "Remote-Usr", "AB"} {
		hdr[k] = []string{"x"}
	}
	n.stripFrom(hdr)
	if len(hdr) != 2 || hdr["Remote-Usr"] == nil || hdr["AB"] == nil {
		t.Errorf("after strip: %v", hdr)
	}
	long := strings.Repeat("X", 70)
	n = newIdentityNames(&IdentityHeaders{User: long})
	hdr = http.Header{strings.ToLower(long): {"x"}, "Remote-User": {"x"}}
	n.stripFrom(hdr)
	if len(hdr) != 0 {
		t.Errorf("a name of 70 bytes: after strip %v", hdr)
	}
}

func TestIdentityHeadersCheck(t *testing.T) {
	for _, c := range []*IdentityHeaders{nil, {}, {User: "X-WEBAUTH-USER"}, {User: "X-Forwarded-User", Groups: "X-Forwarded-Groups", Name: "X-Forwarded-Name", Email: "X-Forwarded-Email"},
		{User: "Remote-Name", Name: "X-Name"}} {
		if err := c.check(); err != nil {
			t.Errorf("check(%+v): %v", c, err)
		}
	}
	for _, tc := range []struct {
		c    IdentityHeaders
		want string
	}{
		{IdentityHeaders{User: "X User"}, "is not a header name"},
		{IdentityHeaders{User: "X-User:"}, "is not a header name"},
		{IdentityHeaders{Email: "X-Ü"}, "is not a header name"},
		{IdentityHeaders{User: "Host"}, "needs for itself"},
		{IdentityHeaders{User: "cookie"}, "needs for itself"},
		{IdentityHeaders{Groups: "Authorization"}, "needs for itself"},
		{IdentityHeaders{User: "Connection"}, "needs for itself"},
		{IdentityHeaders{User: "Transfer_Encoding"}, "needs for itself"},
		{IdentityHeaders{User: "Keep-Alive"}, "needs for itself"},
		{IdentityHeaders{User: "Upgrade"}, "needs for itself"},
		{IdentityHeaders{User: "TE"}, "needs for itself"},
		{IdentityHeaders{User: "Content-Length"}, "needs for itself"},
		{IdentityHeaders{User: "X-Forwarded-For"}, "needs for itself"},
		{IdentityHeaders{User: "X-User", Groups: "x_user"}, `user and groups would both be`},
		{IdentityHeaders{User: "Remote-Groups"}, `user and groups would both be "Remote-Groups"`},
		{IdentityHeaders{Email: "Remote-Name"}, `name and email would both be`},
	} {
		err := tc.c.check()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("check(%+v) = %v, want an error with %q", tc.c, err, tc.want)
		}
	}
}

// TestHandlerValidateHeaders: Validate refuses what check refuses, as a
// JSON config is not parsed by the Caddyfile's checks.
func TestHandlerValidateHeaders(t *testing.T) {
	h := Handler{Headers: &IdentityHeaders{User: "Host"}}
	if err := h.Validate(); err == nil || !strings.Contains(err.Error(), "headers: user") {
		t.Errorf("Validate: %v", err)
	}
}

// TestCaddyfileAdapterHeaders: the headers block becomes the handler's
// "headers" JSON field.
func TestCaddyfileAdapterHeaders(t *testing.T) {
	cf := strings.Replace(adapterCaddyfile, "allow_groups staff", "allow_groups staff\n\t\theaders {\n\t\t\tuser X-WEBAUTH-USER\n\t\t\temail X-WEBAUTH-EMAIL\n\t\t}", 1)
	out, err := adapt(t, cf)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"headers":{"email":"X-WEBAUTH-EMAIL","user":"X-WEBAUTH-USER"}`; !strings.Contains(string(out), want) {
		t.Errorf("adapted config lacks %s:\n%s", want, out)
	}
}

// The identity headers share one allocation, but a handler after the
// gateway that adds to one of them changes only that one.
func TestIdentityHeadersAreIndependent(t *testing.T) {
	u := users.NewDirectoryUser("alice", "Alice", "a@example.com", []string{"staff"}, false)
	h := http.Header{}
	ids := newIdentityNames(nil)
	ids.setOn(h, u)
	h.Add("Remote-User", "mallory")
	h.Add("Remote-Groups", "admins")
	want := http.Header{
		"Remote-User":   {"alice", "mallory"},
		"Remote-Groups": {"staff", "admins"},
		"Remote-Name":   {"Alice"},
		"Remote-Email":  {"a@example.com"},
	}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("headers %v, want %v", h, want)
	}
	if n := testing.AllocsPerRun(100, func() { ids.setOn(h, u) }); n > 1 {
		t.Fatalf("%v allocations to set the headers, want 1", n)
	}
}
