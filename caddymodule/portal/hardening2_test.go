package portal

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/session"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
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
	p := testPortal(t)
	e := p.engine
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
		cookie, id := testSession(t, p, "alice", s.level, s.age)
		_, sealed, err := e.BeginTOTP("alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.KV.Set(ctx, pendingTOTPKey(e.SessionTag(id)), sealed, pendingTOTPTTL); err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodGet, p.prefix+"setup/totp/qr.png", nil)
		r.AddCookie(cookie)
		r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
		w := httptest.NewRecorder()
		_ = p.Serve(w, r)
		if got := w.Header().Get("Content-Type") == "image/png"; got != s.png {
			t.Errorf("%s: qr.png answered %d %s; want a QR code: %v", s.name, w.Code, w.Header().Get("Content-Type"), s.png)
		}
	}
}

// raceKV holds the first two reads of key until both have arrived: two
// pages opened at once, each finding nothing stored yet.
type raceKV struct {
	store.KV
	key   string
	reads atomic.Int32
	both  sync.WaitGroup
}

func (k *raceKV) Get(ctx context.Context, key string) ([]byte, error) {
	if key == k.key && k.reads.Add(1) <= 2 {
		k.both.Done()
		k.both.Wait()
	}
	return k.KV.Get(ctx, key)
}

// TestPendingPushTopicOnePerSession (review item 3, its kind): two pages
// of the phone registration that find no topic at once still show one
// topic (create-if-absent, the loser shows the winner's), so the phone
// subscribes to the topic its test prompt goes to.
func TestPendingPushTopicOnePerSession(t *testing.T) {
	p := testPortal(t)
	e := p.engine
	kv := &raceKV{KV: e.KV, key: "push-enrol:tag-1"}
	kv.both.Add(2)
	e.KV = kv
	var topics [2]string
	var wg sync.WaitGroup
	for i := range topics {
		wg.Go(func() {
			var err error
			if topics[i], err = e.PendingPushTopic(context.Background(), "alice", "tag-1"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if topics[0] != topics[1] {
		t.Fatalf("two pages at once show topics %q and %q", topics[0], topics[1])
	}
}
