package caddymodule_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/caddymodule"
	"github.com/caddy-mfa/caddy-mfa/caddymodule/metrics"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// A text provider from another plugin, as a third party would write it
// (Vonage, MessageBird, ...): a module in namespace mfa.sms that
// implements phone.TextSender, with Caddyfile syntax. Nothing in caddy-mfa
// names it.
func init() {
	caddy.RegisterModule(testSMS{})
}

// testSMS is module mfa.sms.test: `sms test <sender>`. It keeps each text
// instead of sending it.
type testSMS struct {
	// Sender is the name texts come from, to show that the Caddyfile and
	// the JSON reach the module.
	Sender string `json:"sender,omitempty"`

	texts chan phone.Text
}

// CaddyModule returns the Caddy module information.
func (testSMS) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "mfa.sms.test", New: func() caddy.Module { return new(testSMS) }}
}

// Provision makes the box of texts.
func (s *testSMS) Provision(caddy.Context) error {
	s.texts = make(chan phone.Text, 8)
	return nil
}

// SendText implements phone.TextSender.
func (s *testSMS) SendText(_ context.Context, t phone.Text) error {
	s.texts <- t
	return nil
}

// UnmarshalCaddyfile reads `test <sender>`.
func (s *testSMS) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the provider's name
	if !d.NextArg() {
		return d.ArgErr()
	}
	s.Sender = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

var (
	_ caddy.Provisioner     = (*testSMS)(nil)
	_ caddyfile.Unmarshaler = (*testSMS)(nil)
	_ phone.TextSender      = (*testSMS)(nil)
)

// A provider plugged in from outside is configured with the Caddyfile,
// loaded when Caddy starts the config, and sends the texts: the code it is
// given is the one the engine then accepts.
func TestPluginProviderSendsTexts(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	hash, err := users.HashPassword("pw", users.DefaultArgon2)
	if err != nil {
		t.Fatal(err)
	}
	usersFile := filepath.Join(dir, "users.yml")
	if err := os.WriteFile(usersFile, []byte("users:\n  alice:\n    displayname: Alice\n    password: \""+hash+"\"\n    email: alice@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf("{\n\tadmin off\n\tpersist_config off\n\tmfa {\n\t\tusers_file %s\n\t\tdata_dir %s\n\t\tstorage_key 0123456789abcdef0123456789abcdef-test\n\t\tsms test Acme\n\t}\n}\n",
		usersFile, filepath.Join(dir, "mfa"))
	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(src), nil)
	if err != nil {
		t.Fatalf("adapt: %v", err)
	}
	if !strings.Contains(string(cfg), `"sms":{"provider":"test","sender":"Acme"}`) {
		t.Fatalf("the adapted config does not name the plugin's module:\n%s", cfg)
	}
	if err := caddy.Load(cfg, true); err != nil {
		t.Fatalf("starting the config: %v", err)
	}
	t.Cleanup(func() {
		if err := caddy.Stop(); err != nil {
			t.Errorf("stopping: %v", err)
		}
	})
	app, err := caddy.ActiveContext().App("mfa")
	if err != nil {
		t.Fatal(err)
	}
	e := caddymodule.EngineOf(app.(*caddymodule.App))
	sms, ok := metrics.Unwrap(e.Phone.Text).(*testSMS)
	if !ok || sms.Sender != "Acme" {
		t.Fatalf("text provider = %T %+v, want the plugin's, with its setting", e.Phone.Text, e.Phone.Text)
	}
	if !e.MethodEnabled(challenge.MethodSMS) {
		t.Errorf("methods %q lack sms, which a configured provider enables", e.Methods)
	}

	ctx := context.Background()
	to, err := phone.Parse("", "+16502530000", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SendCode(ctx, "alice", challenge.PurposeEnrol, "session-tag", "203.0.113.7", to, func(code string) string { return "Your code is " + code }); err != nil {
		t.Fatalf("SendCode: %v", err)
	}
	var text phone.Text
	select {
	case text = <-sms.texts:
	case <-time.After(5 * time.Second):
		t.Fatal("the plugin's provider was given no text")
	}
	code, found := strings.CutPrefix(text.Body, "Your code is ")
	if text.To.E164 != to.E164 || !found || len(code) != 6 {
		t.Fatalf("the provider was given %q for %s; want a six-digit code for %s", text.Body, text.To.E164, to.E164)
	}
	got, err := e.CheckCode(ctx, "alice", challenge.PurposeEnrol, "session-tag", code)
	if err != nil || got.E164 != to.E164 {
		t.Fatalf("CheckCode(%q) = %s, %v; want the texted code accepted for %s", code, got.E164, err, to.E164)
	}
}
