package caddymodule

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/portal"
)

// One case per registration option.
func TestRegistrationCaddyfile(t *testing.T) {
	for _, tc := range []struct {
		name, block string
		want        *RegistrationConfig
	}{
		{"require", "registration {\n\trequire temporary_pass\n}", &RegistrationConfig{Require: []string{"temporary_pass"}}},
		{"require several", "registration {\n\trequire trusted_networks temporary_pass\n\trequire verified_email\n\tnetworks 10.0.0.0/8\n}",
			&RegistrationConfig{Require: []string{"trusted_networks", "temporary_pass", "verified_email"}, Networks: []string{"10.0.0.0/8"}}},
		{"networks", "registration {\n\trequire trusted_networks\n\tnetworks 10.0.0.0/8 192.0.2.7 {env.OFFICE}\n}",
			&RegistrationConfig{Require: []string{"trusted_networks"}, Networks: []string{"10.0.0.0/8", "192.0.2.7", "{env.OFFICE}"}}},
		{"until", "registration {\n\trequire open\n\tuntil 2027-01-31T00:00:00Z\n}", &RegistrationConfig{Require: []string{"open"}, Until: "2027-01-31T00:00:00Z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a App
			if err := a.UnmarshalCaddyfile(caddyfile.NewTestDispenser("mfa {\n" + tc.block + "\n}")); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a.Registration, tc.want) {
				t.Errorf("global: %+v, want %+v", a.Registration, tc.want)
			}
		})
	}
}

func TestRegistrationCaddyfileErrors(t *testing.T) {
	for _, tc := range []struct{ name, block, says string }{
		{"twice", "registration {\n\trequire open\n}\nregistration {\n\trequire open\n}", "only once"},
		{"argument", "registration open", "wrong argument count"},
		{"no require", "registration {\n\tuntil 2027-01-31T00:00:00Z\n}", "registration needs require"},
		{"empty require", "registration {\n\trequire\n}", "require needs one or more"},
		{"unknown requirement", "registration {\n\trequire office\n}", `require "office"`},
		{"bad network", "registration {\n\trequire trusted_networks\n\tnetworks office\n}", `"office" is not a CIDR`},
		{"no networks", "registration {\n\trequire trusted_networks\n\tnetworks\n}", "networks needs at least one"},
		{"bad until", "registration {\n\trequire open\n\tuntil 31/01/2027\n}", "RFC 3339"},
		{"until two values", "registration {\n\trequire open\n\tuntil 2027-01-31 00:00\n}", "until needs one"},
		{"unknown option", "registration {\n\trequire open\n\tfrom 10.0.0.0/8\n}", `unknown registration option "from"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a App
			err := a.UnmarshalCaddyfile(caddyfile.NewTestDispenser("mfa {\n" + tc.block + "\n}"))
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("global: %v, want %q", err, tc.says)
			}
		})
	}
}

// A route's own registration block is refused: a method registered on one
// site signs in on all, so a policy of one route would be bypassed on
// another (registering there).
func TestRegistrationIsGlobalOnly(t *testing.T) {
	var h Handler
	err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser("mfa {\n\tregistration {\n\t\trequire temporary_pass\n\t}\n}"))
	if err == nil || !strings.Contains(err.Error(), "belongs in the global mfa block") {
		t.Errorf("a route's registration: %v", err)
	}
}

// The checked policy: what each requirement turns into, placeholders
// replaced, and the combinations that mean nothing refused.
func TestRegistrationPolicy(t *testing.T) {
	t.Setenv("MFA_TEST_OFFICE", "198.51.100.0/24")
	repl := caddy.NewReplacer()
	g, err := (*RegistrationConfig)(nil).policy(repl, false)
	if err != nil || !g.Open {
		t.Fatalf("no policy: %+v, %v; want open", g, err)
	}
	g, err = (&RegistrationConfig{Require: []string{"trusted_networks", "verified_email", "temporary_pass"},
		Networks: []string{"10.0.0.0/8", "{env.MFA_TEST_OFFICE}"}, Until: "2027-01-31T00:00:00Z"}).policy(repl, true)
	if err != nil {
		t.Fatal(err)
	}
	want := &portal.Registration{VerifiedEmail: true, Until: time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC),
		Networks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("198.51.100.0/24")}}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("policy %+v, want %+v", g, want)
	}
	for _, c := range []struct {
		c    RegistrationConfig
		mail bool
		says string
	}{
		{RegistrationConfig{}, false, "require needs at least one"},
		{RegistrationConfig{Require: []string{"verified_email"}}, false, "needs smtp"},
		{RegistrationConfig{Require: []string{"trusted_networks"}}, false, "needs networks"},
		{RegistrationConfig{Require: []string{"open", "verified_email"}}, true, "keep open alone"},
		{RegistrationConfig{Require: []string{"temporary_pass"}, Networks: []string{"10.0.0.0/8"}}, false, "does not list trusted_networks"},
		{RegistrationConfig{Require: []string{"trusted_networks"}, Networks: []string{"{env.MFA_TEST_NOWHERE}"}}, false, "not a CIDR"},
		{RegistrationConfig{Require: []string{"open"}, Until: "soon"}, false, "RFC 3339"},
		{RegistrationConfig{Require: []string{"sometimes"}}, false, `unknown requirement "sometimes"`},
		{RegistrationConfig{Require: []string{"trusted_networks"}, Networks: []string{"private_ranges"}}, false, "explicit networks"},
		{RegistrationConfig{Require: []string{"trusted_networks"}, Networks: []string{"127.0.0.1"}}, false, "loopback"},
		{RegistrationConfig{Require: []string{"trusted_networks"}, Networks: []string{"0.0.0.0/0"}}, false, "loopback"},
		{RegistrationConfig{Require: []string{"trusted_networks"}, Networks: []string{"::/0"}}, false, "loopback"},
		{RegistrationConfig{Require: []string{"trusted_networks"}, Networks: []string{"127.1.0.0/16"}}, false, "loopback"},
		{RegistrationConfig{Require: []string{"trusted_networks"}, Networks: []string{"127.0.0.2"}}, false, "loopback"},
		{RegistrationConfig{Require: []string{"trusted_networks"}, Networks: []string{"2000::/3"}}, false, "too wide"},
		{RegistrationConfig{Require: []string{"trusted_networks"}, Networks: []string{"10.0.0.0/7"}}, false, "too wide"},
		{RegistrationConfig{Require: []string{"open"}, Until: "{env.MFA_TEST_UNSET_UNTIL}"}, false, "until"},
	} {
		if _, err := c.c.policy(repl, c.mail); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%+v: %v, want %q", c.c, err, c.says)
		}
	}
}

// What the start-up log warns of: an open registration (until when), and
// an e-mailed code with a directory, whose mailbox usually takes the same
// password.
func TestRegistrationWarnings(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name      string
		g         portal.Registration
		directory bool
		want      []string
	}{
		{"open", portal.Registration{Open: true}, false, []string{"registration is open: whoever"}},
		{"open until later", portal.Registration{Open: true, Until: now.Add(time.Hour)}, false, []string{"registration is open until 2026-12-01T01:00:00Z"}},
		{"open, ended", portal.Registration{Open: true, Until: now}, false, nil},
		{"pass", portal.Registration{}, true, nil},
		{"e-mail, users file", portal.Registration{VerifiedEmail: true}, false, nil},
		{"e-mail, directory", portal.Registration{VerifiedEmail: true}, true, []string{"verified_email with ldap"}},
	} {
		got := registrationWarnings(&c.g, c.directory, now)
		if len(got) != len(c.want) {
			t.Errorf("%s: %q, want %d warnings", c.name, got, len(c.want))
			continue
		}
		for i := range got {
			if !strings.Contains(got[i], c.want[i]) {
				t.Errorf("%s: %q, want %q", c.name, got[i], c.want[i])
			}
		}
	}
}

// The same in JSON: a route's registration is refused with the reason.
func TestRegistrationIsGlobalOnlyInJSON(t *testing.T) {
	h := Handler{Registration: []byte(`{"require":["temporary_pass"]}`)}
	if err := h.Validate(); err == nil || !strings.Contains(err.Error(), "belongs in the mfa app") {
		t.Errorf("a route's registration in JSON: %v", err)
	}
}
