package caddymodule

import (
	"context"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/metrics"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

// Modules the app must refuse or treat with care, as another plugin could
// register them.
func init() {
	caddy.RegisterModule(unsignedVoice{})
	caddy.RegisterModule(silentPush{})
	caddy.RegisterModule(silentVoice{})
}

// unsignedVoice (mfa.voice.unsigned) places calls but cannot check that
// their callbacks come from its provider.
type unsignedVoice struct{}

func (unsignedVoice) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "mfa.voice.unsigned", New: func() caddy.Module { return new(unsignedVoice) }}
}

func (*unsignedVoice) PlaceCall(context.Context, phone.Call) (string, error) { return "CA1", nil }

// silentPush (mfa.push.silent) sends no notifications.
type silentPush struct{}

func (silentPush) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "mfa.push.silent", New: func() caddy.Module { return new(silentPush) }}
}

// silentVoice (mfa.voice.silent) places no calls.
type silentVoice struct{}

func (silentVoice) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "mfa.voice.silent", New: func() caddy.Module { return new(silentVoice) }}
}

func TestProviderModulesRefused(t *testing.T) {
	expectProvisionErrors(t, []provisionErrorCase{
		{"voice with unchecked callbacks", func(a *App) { a.VoiceRaw = rawJSON(`{"provider":"unsigned"}`) },
			[]string{"voice unsigned", "callbacks", "development"}},
		{"push module that is no notifier", func(a *App) { a.PushRaw = rawJSON(`{"notifier":"silent"}`) },
			[]string{"push", "mfa.push.silent", "cannot send notifications"}},
		{"voice module that places no calls", func(a *App) { a.VoiceRaw = rawJSON(`{"provider":"silent"}`) },
			[]string{"voice: this provider cannot place calls"}},
		{"sms provider not an object", func(a *App) { a.SMSRaw = rawJSON(`"twilio"`) }, []string{"sms"}},
	})
}

// In development a voice provider without signed callbacks is answered on
// the unsigned (log) path, as the log provider is.
func TestUnsignedVoiceInDevelopment(t *testing.T) {
	a := phoneApp(t)
	a.VoiceRaw, a.Development = rawJSON(`{"provider":"unsigned"}`), true
	if err := provision(t, a); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if err := a.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if _, ok := metrics.Unwrap(a.engine.Phone.Voice).(*unsignedVoice); !ok || a.voiceCallbacks != nil {
		t.Errorf("voice = %T, callbacks = %v; want the module, with no callback check", a.engine.Phone.Voice, a.voiceCallbacks)
	}
}

// The log providers are loaded with `development`, and the voice log has
// no callbacks to check.
func TestLogProvidersInDevelopment(t *testing.T) {
	a := phoneApp(t)
	a.SMSRaw, a.VoiceRaw, a.Development = rawJSON(`{"provider":"log"}`), rawJSON(`{"provider":"log"}`), true
	if err := provision(t, a); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if err := a.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if a.engine.Phone.Text == nil || a.engine.Phone.Voice == nil || a.voiceCallbacks != nil {
		t.Errorf("text %T, voice %T, callbacks %v", a.engine.Phone.Text, a.engine.Phone.Voice, a.voiceCallbacks)
	}
}

func TestOrList(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, ""}, {[]string{"a"}, "a"}, {[]string{"a", "b"}, "a or b"}, {[]string{"a", "b", "c"}, "a, b or c"},
	} {
		if got := orList(tc.in); got != tc.want {
			t.Errorf("orList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
