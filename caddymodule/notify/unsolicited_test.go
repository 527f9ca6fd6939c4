package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// queuedKinds counts the notices waiting in o by kind.
func queuedKinds(t *testing.T, o *Outbox) map[Kind]int {
	t.Helper()
	ids, err := o.IDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[Kind]int{}
	for _, id := range ids {
		b, err := o.KV.Get(context.Background(), noticeKey+id)
		if err != nil {
			t.Fatal(err)
		}
		var n Notice
		if err := json.Unmarshal(b, &n); err != nil {
			t.Fatal(err)
		}
		kinds[n.Kind]++
	}
	return kinds
}

// lockedOutFrom writes alice's lockout from address ip to s, as a
// guesser who knows only her name causes it.
func lockedOutFrom(s *Sink, user, ip string) {
	r := httptest.NewRequest("POST", "/.mfa/login", nil)
	r.RemoteAddr = ip + ":1234"
	s.Event(r, events.LockedOut, user, nil)
}

// A guesser who knows only a user's name cannot use up that user's
// notices: lockouts (the one notice others can cause without signing
// in) are one an hour per user and channel and count apart, so the
// notices of what a signed-in attacker then does (a method added, an
// app password) are still sent; and any notice not queued is logged at
// warn.
func TestLockoutsCannotSilenceOtherNotices(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	o := &Outbox{KV: store.NewMemoryKV()}
	s := &Sink{Outbox: o, Mail: true, Logger: zap.New(core),
		Lookup: func(user string) (string, string, bool) { return user + "@example.com", "", true }}
	for i := range DefaultPerUserHour + 5 {
		lockedOutFrom(s, "alice", fmt.Sprintf("198.51.100.%d", i+1))
	}
	r := httptest.NewRequest("POST", "/.mfa/setup", nil)
	r.RemoteAddr = "203.0.113.66:1"
	s.Event(r, events.MethodAdded, "alice", []zap.Field{events.Method("totp")})
	s.Event(r, events.AppPasswordCreated, "alice", nil)
	got := queuedKinds(t, o)
	if got[LockedOut] != 1 || got[MethodAdded] != 1 || got[AppPasswordCreated] != 1 {
		t.Fatalf("queued %v; want one lockout notice and the method and app password notices", got)
	}
	for _, e := range logs.FilterMessage("notice not queued").All() {
		if e.Level < zapcore.WarnLevel && e.ContextMap()["kind"] != string(LockedOut) {
			t.Errorf("a %v notice not queued was logged at %s", e.ContextMap()["kind"], e.Level)
		}
	}
}

// Lockouts of many users cannot fill the outbox for everyone: they stop
// at three quarters of its cap, so a user's own change still finds room.
func TestLockoutsLeaveRoomInTheOutbox(t *testing.T) {
	o := &Outbox{KV: store.NewMemoryKV(), MaxQueued: 40}
	s := &Sink{Outbox: o, Mail: true, Logger: zap.NewNop(),
		Lookup: func(user string) (string, string, bool) { return user + "@example.com", "", true }}
	for i := range 60 {
		lockedOutFrom(s, fmt.Sprintf("user%d", i), "198.51.100.7")
	}
	r := httptest.NewRequest("POST", "/.mfa/setup", nil)
	s.Event(r, events.MethodAdded, "alice", []zap.Field{events.Method("totp")})
	got := queuedKinds(t, o)
	if got[LockedOut] > 30 || got[MethodAdded] != 1 {
		t.Fatalf("queued %v with a cap of 40: want at most 30 lockouts and alice's method_added", got)
	}
}
