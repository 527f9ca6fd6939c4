package events

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// Every event is written with the same keys, under one logger name, at
// warn level exactly when an administrator should look at it.
func TestWriteUsesTheSameKeys(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	w := New(zap.New(core).Named("mfa"))
	r := httptest.NewRequest("POST", "/.mfa/login", nil)
	r.RemoteAddr = "192.0.2.1:5555"
	vars := map[string]any{caddyhttp.ClientIPVarKey: "198.51.100.7"}
	r = r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, vars))
	w.Write(r, SignInFailed, "alice", Reason("password"), Method("totp"))
	w.Write(r, LockedOut, "bob")
	w.Write(nil, UserDisabled, "carol", Reason("removed"))
	all := logs.All()
	if len(all) != 3 {
		t.Fatalf("%d entries, want 3", len(all))
	}
	for i, want := range []struct {
		level           zapcore.Level
		event, user, ip string
		reason, method  string
		hasIP           bool
	}{
		{zapcore.InfoLevel, "sign_in_failed", "alice", "198.51.100.7", "password", "totp", true},
		{zapcore.WarnLevel, "locked_out", "bob", "198.51.100.7", "", "", true},
		{zapcore.InfoLevel, "user_disabled", "carol", "", "removed", "", false},
	} {
		e := all[i]
		m := e.ContextMap()
		if e.Message != Message || e.LoggerName != "mfa."+LoggerName || e.Level != want.level {
			t.Errorf("entry %d: %q by %q at %v; want %q by mfa.%s at %v", i, e.Message, e.LoggerName, e.Level, Message, LoggerName, want.level)
		}
		if m["event"] != want.event || m["user"] != want.user {
			t.Errorf("entry %d: fields %v", i, m)
		}
		if ip, ok := m["client_ip"]; ok != want.hasIP || want.hasIP && ip != want.ip {
			t.Errorf("entry %d: client_ip %v (present %v), want %q", i, ip, ok, want.ip)
		}
		if want.reason != "" && m["reason"] != want.reason || want.method != "" && m["method"] != want.method {
			t.Errorf("entry %d: reason/method %v", i, m)
		}
	}
}

// TestNoSecurityEventWrittenByHand: outside this package, no code of the
// gateway logs a security event itself.
func TestNoSecurityEventWrittenByHand(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "events" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(src), `"security event"`) || strings.Contains(string(src), `zap.String("event",`) {
			t.Errorf("%s writes a security event by hand: use events.Writer", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

type recordingSink struct{ got []string }

func (s *recordingSink) Event(r *http.Request, e Event, user string, fields []zap.Field) {
	s.got = append(s.got, string(e)+"/"+user+"/"+fields[0].Key)
	_ = r
}

// A sink set on the writer receives each event with its fields, even when
// the log level would drop it.
func TestSinkReceivesEveryEvent(t *testing.T) {
	core, _ := observer.New(zap.ErrorLevel) // drops info and warn
	w := New(zap.New(core))
	s := &recordingSink{}
	w.SetSink(s)
	w.Write(nil, MethodAdded, "alice", Method("totp"))
	w.Write(httptest.NewRequest("GET", "/", nil), LockedOut, "bob", Reason("x"))
	if strings.Join(s.got, ",") != "method_added/alice/method,locked_out/bob/reason" {
		t.Fatalf("sink got %v", s.got)
	}
}

// panickingSink fails as a bug in a notice's lookup or store would.
type panickingSink struct{}

func (panickingSink) Event(*http.Request, Event, string, []zap.Field) { panic("sink bug") }

// A sink that panics does not take the page down with it: the event is
// still logged, and the failure is logged at error.
func TestSinkPanicDoesNotFailTheRequest(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	w := New(zap.New(core))
	w.SetSink(panickingSink{})
	w.Write(httptest.NewRequest("POST", "/.mfa/login", nil), LockedOut, "bob")
	if logs.FilterMessage(Message).Len() != 1 || logs.FilterLevelExact(zap.ErrorLevel).Len() != 1 {
		t.Fatalf("logged %v", logs.All())
	}
}

// A temporary access pass issued or used lets someone in without a
// second factor: warn level, as a bypass. Its revoke and expiry are not.
func TestTemporaryPassEventsLevel(t *testing.T) {
	for e, warn := range map[Event]bool{TemporaryPassIssued: true, TemporaryPassUsed: true, TemporaryPassExpired: false,
		TemporaryPassRevoked: false, BypassGranted: true} {
		if e.Warn() != warn {
			t.Errorf("%s.Warn() = %v, want %v", e, e.Warn(), warn)
		}
	}
	if f := Expires(time.Date(2026, 12, 1, 21, 0, 0, 0, time.FixedZone("JST", 9*3600))); f.Key != ExpiresKey || f.String != "2026-12-01T12:00:00Z" {
		t.Errorf("Expires field %q = %q", f.Key, f.String)
	}
}

// Every sink added receives every event, in the order added, and one that
// panics keeps the event from none of the others.
func TestEverySinkReceivesEveryEvent(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	w := New(zap.New(core))
	a, b := &recordingSink{}, &recordingSink{}
	w.AddSink(a)
	w.AddSink(panickingSink{})
	w.AddSink(b)
	w.Write(nil, SignedIn, "alice", Method("totp"))
	w.Write(nil, LockedOut, "bob", Reason("x"))
	want := "signed_in/alice/method,locked_out/bob/reason"
	if strings.Join(a.got, ",") != want || strings.Join(b.got, ",") != want {
		t.Fatalf("sinks got %v and %v", a.got, b.got)
	}
	if n := logs.FilterLevelExact(zap.ErrorLevel).Len(); n != 2 {
		t.Fatalf("%d sink failures logged, want 2", n)
	}
}
