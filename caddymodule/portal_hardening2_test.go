package caddymodule

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/session"
)

// namedAddr is a net.Addr of neither TCP nor UDP, known only by its string.
type namedAddr string

func (a namedAddr) Network() string { return "quic" }
func (a namedAddr) String() string  { return string(a) }

// TestLocalPortOfEveryAddress (review item 2): the port a request arrived
// on is read from a UDP address (HTTP/3) and from any address by its
// string, not only from TCP.
func TestLocalPortOfEveryAddress(t *testing.T) {
	for name, c := range map[string]struct {
		addr net.Addr
		want int
	}{
		"tcp":     {&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8443}, 8443},
		"udp":     {&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8444}, 8444},
		"other":   {namedAddr("[::1]:8445"), 8445},
		"no port": {namedAddr("somewhere"), 0},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, c.addr))
		if got := localPort(r); got != c.want {
			t.Errorf("%s: localPort = %d, want %d", name, got, c.want)
		}
	}
}

// TestTOTPQRNeedsWhatThePageNeeds (review item 6): the QR code of a seed
// being registered is shown only to whom the registration page is: a
// fully signed-in user whose second factor is too old gets the step-up
// page, not the seed.
func TestTOTPQRNeedsWhatThePageNeeds(t *testing.T) {
	h := testHandler(t, &Handler{})
	e := h.app.engine
	ctx := context.Background()
	for _, s := range []struct {
		name  string
		level session.Level
		age   int64
		png   bool
	}{
		{"fresh second factor", session.TwoFactor, 60, true},
		{"stale second factor", session.TwoFactor, int64(challenge.StepUpAge.Seconds()) + 60, false},
	} {
		cookie, id := getSession(t, h, "alice", s.level, s.age)
		_, sealed, err := e.BeginTOTP("alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.KV.Set(ctx, pendingTOTPKey(e.SessionTag(id)), sealed, pendingTOTPTTL); err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodGet, h.app.prefix+"setup/totp/qr.png", nil)
		r.AddCookie(cookie)
		r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
		w := httptest.NewRecorder()
		_ = h.ServeHTTP(w, r, caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil }))
		if got := w.Header().Get("Content-Type") == "image/png"; got != s.png {
			t.Errorf("%s: qr.png answered %d %s; want a QR code: %v", s.name, w.Code, w.Header().Get("Content-Type"), s.png)
		}
	}
}
