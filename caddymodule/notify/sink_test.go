package notify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"gopkg.in/yaml.v3"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/internal/smtptest"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// catalogue reads ui/locales/<lang>.yaml.
func catalogue(t *testing.T, lang string) map[string]string {
	t.Helper()
	raw, err := readLocale(lang)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// eventCase is an event written as the portal writes it, and the notice
// it must give.
type eventCase struct {
	kind   Kind
	event  events.Event
	fields []zap.Field
	admin  bool // written outside a request
}

var eventCases = []eventCase{
	{MethodAdded, events.MethodAdded, []zap.Field{events.Method("totp")}, false},
	{MethodRemoved, events.MethodRemoved, []zap.Field{events.Method("webauthn")}, false},
	{PhoneChanged, events.MethodRemoved, []zap.Field{events.Method("sms"), events.Reason("number_changed")}, false},
	{RecoveryCodesCreated, events.RecoveryCodesCreated, nil, false},
	{AppPasswordCreated, events.AppPasswordCreated, []zap.Field{zap.String("app_password", "Thunderbird")}, false},
	{NewBrowser, events.SignedIn, []zap.Field{events.Method("totp"), zap.Bool(NewBrowserField, true)}, false},
	{FraudReported, events.FraudReported, []zap.Field{events.Method("push")}, false},
	{LockedOut, events.LockedOut, nil, false},
	{TemporaryPassIssued, events.TemporaryPassIssued, []zap.Field{zap.Duration("for", 8*time.Hour), zap.Int("uses", 1),
		events.Expires(passExpires), zap.String("by", "admin")}, true},
	{RegisteredWithTemporaryPass, events.TemporaryPassUsed, nil, false},
	{BypassUsed, events.BypassUsed, nil, false},
}

// passExpires is the expiry of the temporary access pass of eventCases.
var passExpires = time.Date(2026, 12, 2, 4, 30, 0, 0, time.UTC)

func request(lang string) *http.Request {
	r := httptest.NewRequest("POST", "/.mfa/security?code=123456", strings.NewReader("password=hunter2-secret&phone=%2B819012345678"))
	r.RemoteAddr = "203.0.113.9:4444"
	r.Header.Set("Accept-Language", lang)
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0")
	return r
}

// Every notice event, in English and Japanese, read as received: From,
// To, Subject and both parts in the user's language, what, when, where
// and what to do, and no secret.
func TestEveryNoticeAsReceived(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "smtp-pass-123"})
	renderer, err := ui.New()
	if err != nil {
		t.Fatal(err)
	}
	kv := store.NewMemoryKV()
	o := &Outbox{KV: kv, PerUserHour: 100}
	m := testMailer(t, s, TLSStartTLS)
	w := fastWorker(o, m, zap.NewNop())
	sink := &Sink{Outbox: o, Mail: true, Languages: renderer, Logger: zap.NewNop(), Wake: w.Wake,
		Lookup: func(user string) (string, string, bool) {
			switch user {
			case "nomail":
				return "", "", true
			case "nobody":
				return "", "", false
			}
			return user + "@example.com", "Alice Liddell", true
		}}
	writer := events.New(zap.NewNop())
	writer.SetSink(sink)
	runWorker(t, w)
	total := 0
	for _, lang := range []string{"en", "ja"} {
		cat := catalogue(t, lang)
		user := "alice-" + lang
		// The user signed in last in lang: an administrator's action later
		// is written in it.
		writer.Write(request(lang), events.SignedIn, user, events.Method("totp"))
		for _, c := range eventCases {
			r := request(lang)
			if c.admin {
				r = nil
			}
			writer.Write(r, c.event, user, c.fields...)
			total++
			msgs := s.Wait(t, total, 5*time.Second)
			got := decodeMessage(t, msgs[total-1])
			if got.Subject != cat["notice."+string(c.kind)+".subject"] {
				t.Errorf("%s %s: subject %q", lang, c.kind, got.Subject)
			}
			if got.To != `"Alice Liddell" <`+user+`@example.com>` || got.From != `"Example Sign-in" <mfa@example.com>` {
				t.Errorf("%s %s: from %q to %q", lang, c.kind, got.From, got.To)
			}
			what := strings.NewReplacer("{{.Org}}", "Example Corp", "{{.Method}}", "", "{{.Until}}", FormatTime(lang, passExpires)).
				Replace(cat["notice."+string(c.kind)+".what"])
			what, _, _ = strings.Cut(what, ":")
			date := map[string]string{"en": "December 2026", "ja": "2026年12月"}[lang]
			for _, part := range []string{got.Text, got.HTML} {
				for _, want := range []string{what, date, "https://login.example.com/.mfa/security", "https://help.example.com/mfa"} {
					if !strings.Contains(part, want) {
						t.Errorf("%s %s: a part lacks %q:\n%s", lang, c.kind, want, part)
					}
				}
				if !c.admin && (!strings.Contains(part, "203.0.113.9") || !strings.Contains(part, "Firefox")) {
					t.Errorf("%s %s: a part lacks the address or browser:\n%s", lang, c.kind, part)
				}
				for _, secret := range []string{"hunter2", "123456", "9012345678", "smtp-pass-123"} {
					if strings.Contains(part, secret) {
						t.Errorf("%s %s: a part shows %q", lang, c.kind, secret)
					}
				}
			}
			if strings.Contains(got.Raw, "hunter2") || strings.Contains(got.Raw, "9012345678") {
				t.Errorf("%s %s: the raw message holds a secret", lang, c.kind)
			}
		}
	}
	// A sign-in from a familiar browser, and events with no notice, send nothing.
	writer.Write(request("en"), events.SignedIn, "alice-en", events.Method("totp"), zap.Bool(NewBrowserField, false))
	writer.Write(request("en"), events.SignInFailed, "alice-en")
	writer.Write(request("en"), events.MethodAdded, "nomail", events.Method("totp")) // no address
	writer.Write(request("en"), events.LockedOut, "nobody")                          // no such user
	time.Sleep(300 * time.Millisecond)
	if n := len(s.Messages()); n != total {
		last := decodeMessage(t, s.Messages()[n-1])
		t.Errorf("%d messages, want %d; last %q to %q", n, total, last.Subject, last.To)
	}
	if ids, _ := o.IDs(context.Background()); len(ids) != 0 {
		t.Errorf("outbox holds %d notices for users without an address or unknown", len(ids))
	}
}

// A change of phone number, written as the portal writes it (the old
// number removed, the new one added), gives one notice: phone_changed.
// A phone method added later gives its own.
func TestPhoneChangeIsOneNotice(t *testing.T) {
	o := &Outbox{KV: store.NewMemoryKV()}
	sink := &Sink{Outbox: o, Mail: true, Logger: zap.NewNop(),
		Lookup: func(string) (string, string, bool) { return "a@example.com", "", true }}
	sink.Event(request("en"), events.MethodRemoved, "alice", []zap.Field{events.Method("sms"), events.Reason("number_changed")})
	sink.Event(request("en"), events.MethodAdded, "alice", []zap.Field{events.Method("sms")})
	if ids, _ := o.IDs(context.Background()); len(ids) != 1 {
		t.Fatalf("%d notices for a change of number, want 1", len(ids))
	}
	sink.Event(request("en"), events.MethodAdded, "alice", []zap.Field{events.Method("voice")})
	if ids, _ := o.IDs(context.Background()); len(ids) != 2 {
		t.Fatalf("%d notices after a phone method added, want 2", len(ids))
	}
}

// notify { events ... } picks notices: the others are not sent.
func TestSinkKinds(t *testing.T) {
	o := &Outbox{KV: store.NewMemoryKV()}
	sink := &Sink{Outbox: o, Mail: true, Webhook: true, Kinds: map[Kind]bool{LockedOut: true}, Logger: zap.NewNop(),
		Lookup: func(string) (string, string, bool) { return "a@example.com", "", true }}
	sink.Event(request("en"), events.MethodAdded, "alice", nil)
	sink.Event(request("en"), events.LockedOut, "alice", nil)
	ids, _ := o.IDs(context.Background())
	if len(ids) != 2 { // one lockout notice, on mail and webhook
		t.Fatalf("%d notices queued, want 2", len(ids))
	}
}
