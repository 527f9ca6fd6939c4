package notify

import (
	"context"
	"encoding/json"
	"testing"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// queued returns the one notice in o.
func queued(t *testing.T, o *Outbox) Notice {
	t.Helper()
	ids, err := o.IDs(context.Background())
	if err != nil || len(ids) != 1 {
		t.Fatalf("%d notices queued (%v), want 1", len(ids), err)
	}
	raw, err := o.KV.Get(context.Background(), noticeKey+ids[0])
	if err != nil {
		t.Fatal(err)
	}
	var n Notice
	if err := json.Unmarshal(raw, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A fraud report comes from the user's phone; its notice says where the
// reported sign-in came from, not where the phone is.
func TestFraudNoticeSaysWhereTheSignInCameFrom(t *testing.T) {
	o := &Outbox{KV: store.NewMemoryKV()}
	sink := &Sink{Outbox: o, Mail: true, Logger: zap.NewNop(),
		Lookup: func(string) (string, string, bool) { return "a@example.com", "", true }}
	sink.Event(request("en"), events.FraudReported, "alice", []zap.Field{events.Method("push"),
		zap.String("sign_in_ip", "192.0.2.66"), zap.String("sign_in_browser", "Chrome on Windows")})
	if n := queued(t, o); n.IP != "192.0.2.66" || n.Browser != "Chrome on Windows" {
		t.Errorf("fraud notice from %q, %q; want the reported sign-in's 192.0.2.66, Chrome on Windows", n.IP, n.Browser)
	}
}

// A lockout is caused by whoever typed the wrong codes: its notice is in
// the language of the user's last sign-in, not the request's.
func TestLockoutNoticeInTheUsersLanguage(t *testing.T) {
	renderer, err := ui.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []events.Event{events.LockedOut, events.TemporaryPassUsed} {
		o := &Outbox{KV: store.NewMemoryKV()}
		sink := &Sink{Outbox: o, Mail: true, Languages: renderer, Logger: zap.NewNop(),
			Lookup: func(string) (string, string, bool) { return "a@example.com", "", true }}
		sink.Event(request("ja"), events.SignedIn, "alice", []zap.Field{events.Method("totp")}) // her own, in Japanese
		sink.Event(request("en"), e, "alice", nil)
		if n := queued(t, o); n.Lang != "ja" {
			t.Errorf("%s notice in %q, want the user's ja", e, n.Lang)
		}
	}
}

// Every use of a temporary access pass is told once: when it is used (an
// account with methods may register nothing after it); the registration
// that follows is no second notice.
func TestTemporaryPassUseIsOneNotice(t *testing.T) {
	o := &Outbox{KV: store.NewMemoryKV()}
	sink := &Sink{Outbox: o, Mail: true, Logger: zap.NewNop(),
		Lookup: func(string) (string, string, bool) { return "a@example.com", "", true }}
	sink.Event(request("en"), events.TemporaryPassUsed, "alice", nil)
	sink.Event(request("en"), events.RegisteredWithTemporaryPass, "alice", []zap.Field{events.Method("totp")})
	if n := queued(t, o); n.Kind != RegisteredWithTemporaryPass || n.Event != events.TemporaryPassUsed {
		t.Errorf("notice %s of %s", n.Kind, n.Event)
	}
}
