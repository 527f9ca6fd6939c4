package providers

import (
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/push"
)

// Every module of the three namespaces does its namespace's job and reads
// the Caddyfile: the app would refuse it otherwise.
func TestModulesImplementTheirNamespace(t *testing.T) {
	want := map[string][]string{
		"mfa.sms":   {"log", "twilio", "webhook"},
		"mfa.voice": {"log", "twilio"},
		"mfa.push":  {"ntfy", "webhook"},
	}
	for ns, names := range want {
		mods := caddy.GetModules(ns)
		var got []string
		for _, info := range mods {
			got = append(got, info.ID.Name())
			m := info.New()
			var ok bool
			switch ns {
			case "mfa.sms":
				_, ok = m.(phone.TextSender)
			case "mfa.voice":
				_, ok = m.(phone.Caller)
				_, verifies := m.(phone.CallbackVerifier)
				_, dev := m.(DevelopmentOnly)
				ok = ok && (verifies || dev)
			case "mfa.push":
				_, ok = m.(push.Notifier)
			}
			if !ok {
				t.Errorf("%s does not implement the interface of %s", info.ID, ns)
			}
			if _, ok := m.(caddyfile.Unmarshaler); !ok {
				t.Errorf("%s has no Caddyfile syntax", info.ID)
			}
		}
		if len(got) != len(names) {
			t.Errorf("%s: modules %q, want %q", ns, got, names)
			continue
		}
		for i := range got {
			if got[i] != names[i] {
				t.Errorf("%s: modules %q, want %q", ns, got, names)
			}
		}
	}
}
