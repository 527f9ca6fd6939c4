package providers

import (
	"context"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

func TestLogCaddyfile(t *testing.T) {
	expectCaddyfile(t, []caddyfileCase[LogSMS]{{"sms log", "log", LogSMS{}}})
	expectCaddyfile(t, []caddyfileCase[LogVoice]{{"voice log", "log", LogVoice{}}})
}

func TestLogCaddyfileErrors(t *testing.T) {
	for channel, newModule := range map[string]func() caddyfile.Unmarshaler{
		"sms":   func() caddyfile.Unmarshaler { return new(LogSMS) },
		"voice": func() caddyfile.Unmarshaler { return new(LogVoice) },
	} {
		t.Run(channel, func(t *testing.T) {
			expectCaddyfileErrors(t, newModule, []errorCase{
				{"argument", "log yes", []string{"wrong argument count"}},
				{"option", "log {\n\tfrom +1\n}", []string{`unknown ` + channel + ` log option "from"`}},
			})
		})
	}
}

// The app refuses the log providers without `development`: they say so.
func TestLogIsForDevelopmentOnly(t *testing.T) {
	for _, id := range []string{"mfa.sms.log", "mfa.voice.log"} {
		m, err := load(t, id, "")
		if err != nil {
			t.Fatal(err)
		}
		d, ok := m.(DevelopmentOnly)
		if !ok || d.DevelopmentOnly() != "the log provider writes codes to the log" {
			t.Errorf("%s is not marked for development only", id)
		}
	}
	expectLoadErrors(t, "mfa.sms.log", []errorCase{{"option", `{"from":"+1"}`, []string{"from"}}})
}

// The log providers write the text, code included, or the call with the
// command that answers it, and send nothing.
func TestLogWritesTextsAndCalls(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	to, err := phone.Parse("", "+16502530000", "")
	if err != nil {
		t.Fatal(err)
	}
	s := &LogSMS{log: logSender{zap.New(core)}}
	if err := s.SendText(context.Background(), phone.Text{To: to, Body: "Your code is 123456"}); err != nil {
		t.Fatal(err)
	}
	v := &LogVoice{log: logSender{zap.New(core)}}
	if _, err := v.PlaceCall(context.Background(), phone.Call{To: to, Say: "Press pound", GatherURL: "http://127.0.0.1/.mfa/voice/log?call=c1"}); err != nil {
		t.Fatal(err)
	}
	entries := logs.All()
	if len(entries) != 2 {
		t.Fatalf("%d log lines, want 2", len(entries))
	}
	if e := entries[0]; e.Message != "development: text message not sent" || e.ContextMap()["to"] != to.E164 || e.ContextMap()["body"] != "Your code is 123456" {
		t.Errorf("text logged as %q %v", e.Message, e.ContextMap())
	}
	if e := entries[1]; e.Message != "development: call not placed; answer it with: curl -d 'Digits=%23' 'http://127.0.0.1/.mfa/voice/log?call=c1'" || e.ContextMap()["to"] != to.E164 {
		t.Errorf("call logged as %q %v", e.Message, e.ContextMap())
	}
}
