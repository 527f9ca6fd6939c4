package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

func intPtr(n int) *int { return &n }

func TestAppUnmarshalCaddyfile(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  App
	}{
		{
			name:  "bare option",
			input: "mfa",
			want:  App{},
		},
		{
			name:  "empty block",
			input: "mfa {\n}",
			want:  App{},
		},
		{
			name:  "users_file",
			input: "mfa {\n\tusers_file /etc/caddy/users.yml\n}",
			want:  App{UsersFile: "/etc/caddy/users.yml"},
		},
		{
			name:  "storage_key literal",
			input: "mfa {\n\tstorage_key 0123456789abcdef0123456789abcdef\n}",
			want:  App{StorageKey: "0123456789abcdef0123456789abcdef"},
		},
		{
			name:  "storage_key placeholder kept verbatim",
			input: "mfa {\n\tstorage_key {env.MFA_STORAGE_KEY}\n}",
			want:  App{StorageKey: "{env.MFA_STORAGE_KEY}"},
		},
		{
			name:  "data_dir",
			input: "mfa {\n\tdata_dir /var/lib/caddy-mfa\n}",
			want:  App{DataDir: "/var/lib/caddy-mfa"},
		},
		{
			name:  "users_end_after",
			input: "mfa {\n\tusers_end_after 5m\n}",
			want:  App{UsersEndAfter: caddy.Duration(5 * time.Minute)},
		},
		{
			name:  "organization quoted with spaces",
			input: "mfa {\n\torganization \"Acme Widgets, Inc.\"\n}",
			want:  App{Organization: "Acme Widgets, Inc."},
		},
		{
			name:  "help_url",
			input: "mfa {\n\thelp_url https://help.example.com/mfa\n}",
			want:  App{HelpURL: "https://help.example.com/mfa"},
		},
		{
			name:  "portal_prefix",
			input: "mfa {\n\tportal_prefix /_auth/\n}",
			want:  App{PortalPrefix: "/_auth/"},
		},
		{
			name:  "methods one",
			input: "mfa {\n\tmethods totp\n}",
			want:  App{Methods: []string{"totp"}},
		},
		{
			name:  "methods several",
			input: "mfa {\n\tmethods totp webauthn\n}",
			want:  App{Methods: []string{"totp", "webauthn"}},
		},
		{
			name:  "session idle_timeout",
			input: "mfa {\n\tsession {\n\t\tidle_timeout 15m\n\t}\n}",
			want:  App{Session: SessionConfig{IdleTimeout: caddy.Duration(15 * time.Minute)}},
		},
		{
			name:  "session lifetime in days",
			input: "mfa {\n\tsession {\n\t\tlifetime 1d\n\t}\n}",
			want:  App{Session: SessionConfig{Lifetime: caddy.Duration(24 * time.Hour)}},
		},
		{
			name:  "session lifetime exactly 1s",
			input: "mfa {\n\tsession {\n\t\tlifetime 1s\n\t}\n}",
			want:  App{Session: SessionConfig{Lifetime: caddy.Duration(time.Second)}},
		},
		{
			name:  "session cookie_name",
			input: "mfa {\n\tsession {\n\t\tcookie_name my_mfa\n\t}\n}",
			want:  App{Session: SessionConfig{CookieName: "my_mfa"}},
		},
		{
			name:  "session cookie_domain",
			input: "mfa {\n\tsession {\n\t\tcookie_domain example.com\n\t}\n}",
			want:  App{Session: SessionConfig{CookieDomain: "example.com"}},
		},
		{
			name:  "session empty block",
			input: "mfa {\n\tsession {\n\t}\n}",
			want:  App{},
		},
		{
			name:  "totp algorithm",
			input: "mfa {\n\ttotp {\n\t\talgorithm SHA256\n\t}\n}",
			want:  App{TOTP: TOTPConfig{Algorithm: "SHA256"}},
		},
		{
			name:  "totp digits",
			input: "mfa {\n\ttotp {\n\t\tdigits 8\n\t}\n}",
			want:  App{TOTP: TOTPConfig{Digits: 8}},
		},
		{
			name:  "totp period",
			input: "mfa {\n\ttotp {\n\t\tperiod 60s\n\t}\n}",
			want:  App{TOTP: TOTPConfig{Period: caddy.Duration(time.Minute)}},
		},
		{
			name:  "totp skew",
			input: "mfa {\n\ttotp {\n\t\tskew 2\n\t}\n}",
			want:  App{TOTP: TOTPConfig{Skew: intPtr(2)}},
		},
		{
			name:  "totp skew 0",
			input: "mfa {\n\ttotp {\n\t\tskew 0\n\t}\n}",
			want:  App{TOTP: TOTPConfig{Skew: intPtr(0)}},
		},
		{
			name: "everything",
			input: `mfa {
	users_file /u.yml
	storage_key {env.MFA_STORAGE_KEY}
	data_dir /data
	organization "Demo Corp"
	portal_prefix /.auth/
	methods totp
	session {
		idle_timeout 30m
		lifetime 12h
		cookie_name sso
		cookie_domain example.org
	}
	totp {
		algorithm SHA512
		digits 6
		period 30s
		skew 1
	}
}`,
			want: App{
				UsersFile:    "/u.yml",
				StorageKey:   "{env.MFA_STORAGE_KEY}",
				DataDir:      "/data",
				Organization: "Demo Corp",
				PortalPrefix: "/.auth/",
				Methods:      []string{"totp"},
				Session: SessionConfig{
					IdleTimeout:  caddy.Duration(30 * time.Minute),
					Lifetime:     caddy.Duration(12 * time.Hour),
					CookieName:   "sso",
					CookieDomain: "example.org",
				},
				TOTP: TOTPConfig{
					Algorithm: "SHA512",
					Digits:    6,
					Period:    caddy.Duration(30 * time.Second),
					Skew:      intPtr(1),
				},
			},
		},
		{
			name:  "later line wins",
			input: "mfa {\n\tusers_file /a\n\tusers_file /b\n}",
			want:  App{UsersFile: "/b"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got App
			if err := got.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input)); err != nil {
				t.Fatalf("UnmarshalCaddyfile: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %s\nwant %s", mustJSON(t, got), mustJSON(t, tc.want))
			}
			if tc.want.TOTP.Skew != nil {
				if got.TOTP.Skew == nil {
					t.Fatalf("TOTP.Skew is nil, want %d", *tc.want.TOTP.Skew)
				}
				if *got.TOTP.Skew != *tc.want.TOTP.Skew {
					t.Errorf("TOTP.Skew = %d, want %d", *got.TOTP.Skew, *tc.want.TOTP.Skew)
				}
			}
		})
	}
}

// The skew pointer must survive the JSON round trip Caddy does between the
// adapter and Provision: skew 0 must not turn into "the default".
func TestAppSkewZeroJSONRoundTrip(t *testing.T) {
	var a App
	if err := a.UnmarshalCaddyfile(caddyfile.NewTestDispenser("mfa {\n\ttotp {\n\t\tskew 0\n\t}\n}")); err != nil {
		t.Fatal(err)
	}
	raw := caddyconfig.JSON(a, nil)
	if !bytes.Contains(raw, []byte(`"skew":0`)) {
		t.Fatalf("JSON %s lacks \"skew\":0", raw)
	}
	var back App
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if back.TOTP.Skew == nil || *back.TOTP.Skew != 0 {
		t.Fatalf("after round trip Skew = %v, want pointer to 0", back.TOTP.Skew)
	}
}

func TestAppUnmarshalCaddyfileErrors(t *testing.T) {
	tests := []globalErrorCase{
		{"unknown option", "mfa {\n\tuser_file /x\n}", []string{`unknown mfa option "user_file"`, "Testfile:2"}},
		{"args after mfa", "mfa /x {\n}", []string{"wrong argument count"}},
		{"args after mfa without block", "mfa users_file /x", []string{"wrong argument count"}},
		{"missing value users_file", "mfa {\n\tusers_file\n}", []string{"users_file needs a value"}},
		{"missing value storage_key", "mfa {\n\tstorage_key\n}", []string{"storage_key needs a value"}},
		{"missing value data_dir", "mfa {\n\tdata_dir\n}", []string{"data_dir needs a value"}},
		{"missing value organization", "mfa {\n\torganization\n}", []string{"organization needs a value"}},
		{"missing value help_url", "mfa {\n\thelp_url\n}", []string{"help_url needs a value"}},
		{"missing value portal_prefix", "mfa {\n\tportal_prefix\n}", []string{"portal_prefix needs a value"}},
		{"extra value users_file", "mfa {\n\tusers_file /a /b\n}", []string{"users_file takes one value"}},
		{"extra value organization unquoted", "mfa {\n\torganization Demo Corp\n}", []string{"organization takes one value"}},
		{"extra value data_dir", "mfa {\n\tdata_dir /a /b\n}", []string{"data_dir takes one value"}},
		{"users_end_after below a second", "mfa {\n\tusers_end_after 0s\n}", []string{"users_end_after", "at least 1s"}},
		{"empty methods", "mfa {\n\tmethods\n}", []string{"methods needs at least one method"}},
		{"session args", "mfa {\n\tsession 30m\n}", []string{"wrong argument count"}},
		{"unknown session option", "mfa {\n\tsession {\n\t\ttimeout 5m\n\t}\n}", []string{`unknown session option "timeout"`, "Testfile:3"}},
		{"bad duration idle_timeout", "mfa {\n\tsession {\n\t\tidle_timeout soon\n\t}\n}", []string{"idle_timeout", `"soon" is not a duration`}},
		{"bad duration lifetime", "mfa {\n\tsession {\n\t\tlifetime 12\n\t}\n}", []string{"lifetime", `"12" is not a duration`}},
		{"bad duration period", "mfa {\n\ttotp {\n\t\tperiod thirty\n\t}\n}", []string{"period", `"thirty" is not a duration`}},
		{"duration under 1s", "mfa {\n\tsession {\n\t\tidle_timeout 500ms\n\t}\n}", []string{"idle_timeout", "must be at least 1s"}},
		{"duration zero", "mfa {\n\tsession {\n\t\tlifetime 0s\n\t}\n}", []string{"lifetime", "must be at least 1s"}},
		{"duration negative", "mfa {\n\tsession {\n\t\tlifetime -5m\n\t}\n}", []string{"lifetime", "must be at least 1s"}},
		{"period under 1s", "mfa {\n\ttotp {\n\t\tperiod 999ms\n\t}\n}", []string{"period", "must be at least 1s"}},
		{"missing duration", "mfa {\n\tsession {\n\t\tidle_timeout\n\t}\n}", []string{"idle_timeout needs a value"}},
		{"extra duration", "mfa {\n\tsession {\n\t\tidle_timeout 5m 10m\n\t}\n}", []string{"idle_timeout takes one value"}},
		{"missing cookie_name", "mfa {\n\tsession {\n\t\tcookie_name\n\t}\n}", []string{"cookie_name needs a value"}},
		{"totp args", "mfa {\n\ttotp SHA1\n}", []string{"wrong argument count"}},
		{"unknown totp option", "mfa {\n\ttotp {\n\t\tsteps 2\n\t}\n}", []string{`unknown totp option "steps"`}},
		{"non-numeric digits", "mfa {\n\ttotp {\n\t\tdigits six\n\t}\n}", []string{"digits", `"six" is not a whole number`}},
		{"non-numeric skew", "mfa {\n\ttotp {\n\t\tskew 1.5\n\t}\n}", []string{`"1.5" is not a whole number`}},
		{"missing digits", "mfa {\n\ttotp {\n\t\tdigits\n\t}\n}", []string{"digits needs a value"}},
		{"extra skew", "mfa {\n\ttotp {\n\t\tskew 1 2\n\t}\n}", []string{"skew takes one value"}},
		{"missing algorithm", "mfa {\n\ttotp {\n\t\talgorithm\n\t}\n}", []string{"algorithm needs a value"}},
	}
	expectGlobalErrors(t, tests)
}

// globalErrorCase is a global-option Caddyfile that must be refused with an
// error containing every fragment of want.
// globalCase is a global `mfa` option and the App it must give.
type globalCase struct {
	name  string
	input string
	want  App
}

func expectGlobalApps(t *testing.T, tests []globalCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got App
			if err := got.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input)); err != nil {
				t.Fatalf("UnmarshalCaddyfile: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %s\nwant %s", mustJSON(t, got), mustJSON(t, tc.want))
			}
		})
	}
}

type globalErrorCase struct {
	name  string
	input string
	want  []string
}

func expectGlobalErrors(t *testing.T, tests []globalErrorCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var a App
			err := a.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input))
			if err == nil {
				t.Fatalf("no error; app = %s", mustJSON(t, a))
			}
			for _, frag := range tc.want {
				if !strings.Contains(err.Error(), frag) {
					t.Errorf("error %q does not contain %q", err, frag)
				}
			}
		})
	}
}

func TestHandlerUnmarshalCaddyfile(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  Handler
	}{
		{"bare directive", "mfa", Handler{}},
		{"empty block", "mfa {\n}", Handler{}},
		{"allow_users one", "mfa {\n\tallow_users alice\n}", Handler{AllowUsers: []string{"alice"}}},
		{"allow_users several", "mfa {\n\tallow_users alice bob\n}", Handler{AllowUsers: []string{"alice", "bob"}}},
		{"allow_groups several", "mfa {\n\tallow_groups staff admins\n}", Handler{AllowGroups: []string{"staff", "admins"}}},
		{
			"repeated lines append",
			"mfa {\n\tallow_users alice\n\tallow_groups staff\n\tallow_users bob carol\n\tallow_groups admins\n}",
			Handler{AllowUsers: []string{"alice", "bob", "carol"}, AllowGroups: []string{"staff", "admins"}},
		},
		{"policy one_factor", "mfa {\n\tpolicy one_factor\n}", Handler{Policy: "one_factor"}},
		{"app_passwords", "mfa {\n\tapp_passwords\n}", Handler{AppPasswords: true}},
		{"policy two_factor", "mfa {\n\tpolicy two_factor\n}", Handler{Policy: "two_factor"}},
		{"trusted_networks", "mfa {\n\ttrusted_networks 10.0.0.0/8 192.0.2.7 2001:db8::/32\n\ttrusted_networks private_ranges\n}",
			Handler{TrustedNetworks: []string{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "private_ranges"}}},
		{"headers user", "mfa {\n\theaders {\n\t\tuser X-WEBAUTH-USER\n\t}\n}", Handler{Headers: &IdentityHeaders{User: "X-WEBAUTH-USER"}}},
		{"headers groups", "mfa {\n\theaders {\n\t\tgroups X-Forwarded-Groups\n\t}\n}", Handler{Headers: &IdentityHeaders{Groups: "X-Forwarded-Groups"}}},
		{"headers name", "mfa {\n\theaders {\n\t\tname X-Forwarded-Name\n\t}\n}", Handler{Headers: &IdentityHeaders{Name: "X-Forwarded-Name"}}},
		{"headers email", "mfa {\n\theaders {\n\t\temail X-Forwarded-Email\n\t}\n}", Handler{Headers: &IdentityHeaders{Email: "X-Forwarded-Email"}}},
		{"headers all, with other options", "mfa {\n\tallow_groups staff\n\theaders {\n\t\tuser X-Forwarded-User\n\t\tgroups X-Forwarded-Groups\n\t\tname X-Forwarded-Name\n\t\temail X-Forwarded-Email\n\t}\n\tapp_passwords\n}",
			Handler{AllowGroups: []string{"staff"}, AppPasswords: true, Headers: &IdentityHeaders{User: "X-Forwarded-User", Groups: "X-Forwarded-Groups", Name: "X-Forwarded-Name", Email: "X-Forwarded-Email"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got Handler
			if err := got.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input)); err != nil {
				t.Fatalf("UnmarshalCaddyfile: %v", err)
			}
			if !reflect.DeepEqual(got.AllowUsers, tc.want.AllowUsers) {
				t.Errorf("AllowUsers = %q, want %q", got.AllowUsers, tc.want.AllowUsers)
			}
			if !reflect.DeepEqual(got.AllowGroups, tc.want.AllowGroups) {
				t.Errorf("AllowGroups = %q, want %q", got.AllowGroups, tc.want.AllowGroups)
			}
			if got.AppPasswords != tc.want.AppPasswords {
				t.Errorf("AppPasswords = %v, want %v", got.AppPasswords, tc.want.AppPasswords)
			}
			if got.Policy != tc.want.Policy || !reflect.DeepEqual(got.TrustedNetworks, tc.want.TrustedNetworks) {
				t.Errorf("Policy %q, TrustedNetworks %q; want %q, %q", got.Policy, got.TrustedNetworks, tc.want.Policy, tc.want.TrustedNetworks)
			}
			if !reflect.DeepEqual(got.Headers, tc.want.Headers) {
				t.Errorf("Headers = %+v, want %+v", got.Headers, tc.want.Headers)
			}
		})
	}
}

func TestHandlerUnmarshalCaddyfileErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"unknown option", "mfa {\n\tallow_user alice\n}", []string{`unknown mfa directive option "allow_user"`, "Testfile:2"}},
		{"allow_users without args", "mfa {\n\tallow_users\n}", []string{"allow_users needs at least one user name"}},
		{"allow_groups without args", "mfa {\n\tallow_groups\n}", []string{"allow_groups needs at least one group name"}},
		{"args after mfa", "mfa staff", []string{"wrong argument count"}},
		{"app_passwords with an argument", "mfa {\n\tapp_passwords yes\n}", []string{"wrong argument count"}},
		{"policy unknown", "mfa {\n\tpolicy three_factor\n}", []string{`policy "three_factor"`, "one_factor or two_factor"}},
		{"policy without value", "mfa {\n\tpolicy\n}", []string{"policy needs a value"}},
		{"trusted_networks without args", "mfa {\n\ttrusted_networks\n}", []string{"trusted_networks needs at least one network"}},
		{"trusted_networks bad", "mfa {\n\ttrusted_networks 10.0.0.0/33\n}", []string{`"10.0.0.0/33" is not a CIDR`}},
		{"trusted_networks name", "mfa {\n\ttrusted_networks office\n}", []string{`"office" is not a CIDR`}},
		{"args after mfa with block", "mfa staff {\n\tallow_groups staff\n}", []string{"wrong argument count"}},
		{"headers without block", "mfa {\n\theaders\n}", []string{"headers needs at least one of user, groups, name, email"}},
		{"headers empty block", "mfa {\n\theaders {\n\t}\n}", []string{"headers needs at least one of"}},
		{"headers with an argument", "mfa {\n\theaders X-User\n}", []string{`headers takes a block`, `"X-User"`}},
		{"headers twice", "mfa {\n\theaders {\n\t\tuser A\n\t}\n\theaders {\n\t\tname B\n\t}\n}", []string{"headers may be given only once", "Testfile:5"}},
		{"headers unknown option", "mfa {\n\theaders {\n\t\trole X-Role\n\t}\n}", []string{`unknown headers option "role"`, "Testfile:3"}},
		{"headers user without name", "mfa {\n\theaders {\n\t\tuser\n\t}\n}", []string{"headers: user needs a header name, e.g. user X-Forwarded-User"}},
		{"headers empty name", "mfa {\n\theaders {\n\t\tgroups \"\"\n\t}\n}", []string{"headers: groups needs a header name"}},
		{"headers two names", "mfa {\n\theaders {\n\t\tuser A B\n\t}\n}", []string{"wrong argument count"}},
		{"headers field twice", "mfa {\n\theaders {\n\t\tuser A\n\t\tuser B\n\t}\n}", []string{"headers: user may be given only once"}},
		{"headers not a token", "mfa {\n\theaders {\n\t\tname \"X Name\"\n\t}\n}", []string{`headers: name "X Name" is not a header name`}},
		{"headers colon", "mfa {\n\theaders {\n\t\temail X-Email:\n\t}\n}", []string{`headers: email "X-Email:" is not a header name`}},
		{"headers duplicate", "mfa {\n\theaders {\n\t\tuser X-User\n\t\tname x_user\n\t}\n}", []string{`headers: user and name would both be`}},
		{"headers duplicate of a default", "mfa {\n\theaders {\n\t\temail Remote-User\n\t}\n}", []string{`headers: user and email would both be "Remote-User"`}},
		{"headers hop-by-hop", "mfa {\n\theaders {\n\t\tuser Connection\n\t}\n}", []string{`headers: user "Connection" is a header HTTP or the proxy needs`}},
		{"headers host", "mfa {\n\theaders {\n\t\tuser Host\n\t}\n}", []string{`headers: user "Host" is a header`}},
		{"headers cookie", "mfa {\n\theaders {\n\t\tgroups Cookie\n\t}\n}", []string{`headers: groups "Cookie" is a header`}},
		{"headers authorization", "mfa {\n\theaders {\n\t\tname authorization\n\t}\n}", []string{`headers: name "authorization" is a header`}},
		{"headers transfer-encoding", "mfa {\n\theaders {\n\t\temail Transfer-Encoding\n\t}\n}", []string{`headers: email "Transfer-Encoding" is a header`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Handler
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input))
			if err == nil {
				t.Fatalf("no error; handler = %+v", h)
			}
			for _, frag := range tc.want {
				if !strings.Contains(err.Error(), frag) {
					t.Errorf("error %q does not contain %q", err, frag)
				}
			}
		})
	}
}

func TestHandlerValidate(t *testing.T) {
	ok := Handler{AllowUsers: []string{"alice"}, AllowGroups: []string{"staff"}}
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate(%+v): %v", ok, err)
	}
	for _, h := range []Handler{
		{AllowUsers: []string{""}},
		{AllowUsers: []string{"a b"}},
		{AllowGroups: []string{"x\ty"}},
	} {
		if err := h.Validate(); err == nil {
			t.Errorf("Validate(%+v): no error", h)
		}
	}
}

const adapterCaddyfile = `{
	mfa {
		users_file /tmp/u.yml
		storage_key {env.MFA_STORAGE_KEY}
	}
}

:8080 {
	mfa {
		allow_groups staff
	}
	respond "hi"
	reverse_proxy 127.0.0.1:9
}
`

func adapt(t *testing.T, text string) ([]byte, error) {
	t.Helper()
	adapter := caddyconfig.GetAdapter("caddyfile")
	if adapter == nil {
		t.Fatal("no caddyfile adapter registered")
	}
	out, warnings, err := adapter.Adapt([]byte(text), nil)
	for _, w := range warnings {
		t.Logf("adapter warning: %s", w)
	}
	return out, err
}

// adaptedConfig is the part of an adapted config the tests read.
type adaptedConfig struct {
	Apps struct {
		MFA *App `json:"mfa"`
	} `json:"apps"`
}

// adaptedApps decodes the apps of an adapted config.
func adaptedApps(t *testing.T, out []byte) adaptedConfig {
	t.Helper()
	var cfg adaptedConfig
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatalf("adapted config is not JSON: %v\n%s", err, out)
	}
	return cfg
}

func TestCaddyfileAdapter(t *testing.T) {
	out, err := adapt(t, adapterCaddyfile)
	if err != nil {
		t.Fatalf("Adapt: %v", err)
	}

	cfg := adaptedApps(t, out)
	if cfg.Apps.MFA == nil {
		t.Fatalf("no apps.mfa in %s", out)
	}
	if cfg.Apps.MFA.UsersFile != "/tmp/u.yml" {
		t.Errorf("apps.mfa.users_file = %q, want /tmp/u.yml", cfg.Apps.MFA.UsersFile)
	}
	if cfg.Apps.MFA.StorageKey != "{env.MFA_STORAGE_KEY}" {
		t.Errorf("apps.mfa.storage_key = %q, want the placeholder verbatim", cfg.Apps.MFA.StorageKey)
	}

	// The handlers, in the order they appear in the JSON (which is the
	// order of the route's handle lists, nested subroutes included).
	handlers := handlerOrder(t, out)
	idx := func(name string) int {
		for i, h := range handlers {
			if h == name {
				return i
			}
		}
		return -1
	}
	mfa, respond, proxy := idx("mfa"), idx("static_response"), idx("reverse_proxy")
	if mfa < 0 || respond < 0 || proxy < 0 {
		t.Fatalf("handlers %q lack one of mfa, static_response, reverse_proxy\n%s", handlers, out)
	}
	if mfa > respond || mfa > proxy {
		t.Errorf("mfa handler is not before respond and reverse_proxy: %q", handlers)
	}

	// The handler kept its allow_groups.
	var h Handler
	if !findHandler(t, out, "mfa", &h) {
		t.Fatalf("no mfa handler object in %s", out)
	}
	if !reflect.DeepEqual(h.AllowGroups, []string{"staff"}) {
		t.Errorf("mfa handler allow_groups = %q, want [staff]", h.AllowGroups)
	}
}

// The directive must land before content handlers wherever it is written.
func TestCaddyfileAdapterOrderWhenWrittenLast(t *testing.T) {
	out, err := adapt(t, `{
	mfa {
		users_file /tmp/u.yml
	}
}
:8080 {
	reverse_proxy 127.0.0.1:9
	file_server
	mfa
}
`)
	if err != nil {
		t.Fatalf("Adapt: %v", err)
	}
	handlers := handlerOrder(t, out)
	if len(handlers) == 0 || handlers[0] != "mfa" {
		t.Errorf("handlers = %q, want mfa first", handlers)
	}
}

func TestCaddyfileAdapterGlobalOptionTwice(t *testing.T) {
	_, err := adapt(t, `{
	mfa {
		users_file /a.yml
	}
	mfa {
		users_file /b.yml
	}
}
:8080 {
	mfa
	respond "hi"
}
`)
	if err == nil {
		t.Fatal("two global mfa options: no error")
	}
	if !strings.Contains(err.Error(), "only once") {
		t.Errorf("error %q does not say the option may be given only once", err)
	}
}

func TestCaddyfileAdapterErrors(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"bad global option", "{\n\tmfa {\n\t\tbogus 1\n\t}\n}\n:8080 {\n\trespond hi\n}\n", `unknown mfa option "bogus"`},
		{"bad directive", "{\n\tmfa {\n\t\tusers_file /u\n\t}\n}\n:8080 {\n\tmfa {\n\t\tallow_users\n\t}\n\trespond hi\n}\n", "allow_users needs at least one user name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := adapt(t, tc.text)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// handlerOrder returns the values of every "handler" key in document order.
func handlerOrder(t *testing.T, doc []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	var out []string
	// A key is a string token read right after '{' or after a value in an
	// object; tracking that exactly is overkill here: "handler" is only
	// ever a key in Caddy's config, so the string after it is its value.
	prevHandler := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading JSON: %v", err)
		}
		s, isString := tok.(string)
		if prevHandler && isString {
			out = append(out, s)
		}
		prevHandler = isString && s == "handler"
	}
	return out
}

// findHandler decodes into dst the first handler object named name.
func findHandler(t *testing.T, doc []byte, name string, dst any) bool {
	t.Helper()
	var root any
	if err := json.Unmarshal(doc, &root); err != nil {
		t.Fatal(err)
	}
	var found map[string]any
	var walk func(v any)
	walk = func(v any) {
		if found != nil {
			return
		}
		switch v := v.(type) {
		case map[string]any:
			if v["handler"] == name {
				found = v
				return
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(root)
	if found == nil {
		return false
	}
	b, err := json.Marshal(found)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		t.Fatal(err)
	}
	return true
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// --- Provision and Validate ---

func newTestContext(t *testing.T) caddy.Context {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	return ctx
}

// hashPW hashes once for the whole package: argon2id with the default
// parameters is slow under -race.
var hashPW = sync.OnceValues(func() (string, error) {
	return users.HashPassword("pw", users.DefaultArgon2)
})

func testHash(t *testing.T) string {
	t.Helper()
	h, err := hashPW()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func writeUsersFile(t *testing.T, dir, body string) string {
	t.Helper()
	path := filepath.Join(dir, "users.yml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func validUsersFile(t *testing.T) string {
	t.Helper()
	return writeUsersFile(t, t.TempDir(), "users:\n  alice:\n    displayname: Alice\n    password: \""+testHash(t)+"\"\n    email: alice@example.com\n    groups: [staff]\n")
}

const testStorageKey = "0123456789abcdef0123456789abcdef-test"

// provision provisions a and registers its cleanup.
func provision(t *testing.T, a *App) error {
	t.Helper()
	t.Cleanup(func() {
		if err := a.Cleanup(); err != nil {
			t.Errorf("Cleanup: %v", err)
		}
	})
	return a.Provision(newTestContext(t))
}

func TestAppProvisionMissingUsersFile(t *testing.T) {
	a := &App{DataDir: t.TempDir(), StorageKey: testStorageKey}
	err := provision(t, a)
	if err == nil {
		t.Fatal("no error without users_file")
	}
	if !strings.Contains(err.Error(), "users_file") {
		t.Errorf("error %q does not mention users_file", err)
	}
}

func TestAppProvisionUsersFileNotFound(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.yml")
	a := &App{UsersFile: missing, DataDir: t.TempDir(), StorageKey: testStorageKey}
	err := provision(t, a)
	if err == nil {
		t.Fatal("no error with a missing users file")
	}
	if !strings.Contains(err.Error(), "users file") {
		t.Errorf("error %q does not mention the users file", err)
	}
}

func TestAppProvisionBadHash(t *testing.T) {
	path := writeUsersFile(t, t.TempDir(), "users:\n  alice:\n    displayname: Alice\n    password: \"plaintext\"\n    email: alice@example.com\n")
	a := &App{UsersFile: path, DataDir: t.TempDir(), StorageKey: testStorageKey}
	err := provision(t, a)
	if err == nil {
		t.Fatal("no error with a bad hash")
	}
	for _, frag := range []string{"line 4", `"alice"`, "unsupported password hash"} {
		if !strings.Contains(err.Error(), frag) {
			t.Errorf("error %q does not contain %q", err, frag)
		}
	}
}

func TestAppProvisionShortStorageKey(t *testing.T) {
	a := &App{UsersFile: validUsersFile(t), DataDir: t.TempDir(), StorageKey: "too-short"}
	err := provision(t, a)
	if err == nil {
		t.Fatal("no error with a short storage_key")
	}
	if !strings.Contains(err.Error(), "storage_key") {
		t.Errorf("error %q does not mention storage_key", err)
	}
}

func TestAppProvisionStorageKeyPlaceholder(t *testing.T) {
	t.Setenv("MFA_TEST_STORAGE_KEY", testStorageKey)
	dir := t.TempDir()
	a := &App{UsersFile: validUsersFile(t), DataDir: dir, StorageKey: "{env.MFA_TEST_STORAGE_KEY}"}
	if err := provision(t, a); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if err := a.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "storage.key")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("storage.key written although storage_key is set (stat: %v)", err)
	}
}

func TestAppProvisionGeneratesStorageKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mfa") // not yet created
	a := &App{UsersFile: validUsersFile(t), DataDir: dir}
	if err := provision(t, a); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if err := a.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	// Provision and Validate (`caddy validate`) write nothing, not even
	// the data dir; Start writes the key and opens the accounts file.
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Provision wrote the data dir (stat: %v)", err)
	}
	if err := a.startStorageKey(); err != nil {
		t.Fatalf("startStorageKey: %v", err)
	}
	if err := a.startEmbedded(); err != nil {
		t.Fatalf("startEmbedded: %v", err)
	}
	st, err := os.Stat(filepath.Join(dir, "storage.key"))
	if err != nil {
		t.Fatalf("no storage.key in data_dir: %v", err)
	}
	if perm := st.Mode().Perm(); perm != 0o600 {
		t.Errorf("storage.key mode = %o, want 600", perm)
	}
	if _, err := os.Stat(filepath.Join(dir, "accounts.db")); err != nil {
		t.Errorf("no accounts.db in data_dir: %v", err)
	}
}

func TestAppProvisionDefaults(t *testing.T) {
	a := &App{UsersFile: validUsersFile(t), DataDir: t.TempDir(), StorageKey: testStorageKey}
	if err := provision(t, a); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if err := a.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if a.prefix != "/.mfa/" {
		t.Errorf("prefix = %q, want /.mfa/", a.prefix)
	}
	if a.org != "Caddy MFA" {
		t.Errorf("org = %q, want Caddy MFA", a.org)
	}
	tc := a.engine.TOTP
	if tc.Algorithm != "SHA1" || tc.Digits != 6 || tc.Period != 30*time.Second || tc.Skew != 1 {
		t.Errorf("TOTP defaults = %+v", tc)
	}
	if !reflect.DeepEqual(a.engine.Methods, []string{"webauthn", "totp"}) {
		t.Errorf("methods = %q, want [webauthn totp]", a.engine.Methods)
	}
	if k := a.engine.SecurityKeys; k.RPID != "" || k.Origins != nil || k.UserVerification != "preferred" || k.Attestation != "none" || k.Timeout != 5*time.Minute {
		t.Errorf("webauthn defaults = %+v, want each site its own relying party, preferred verification, no attestation, 5m", k)
	}
}

func TestAppProvisionSettings(t *testing.T) {
	a := &App{
		UsersFile: validUsersFile(t), DataDir: t.TempDir(), StorageKey: testStorageKey,
		Organization: "Acme", PortalPrefix: "/_auth",
		TOTP: TOTPConfig{Algorithm: "SHA256", Digits: 8, Period: caddy.Duration(time.Minute), Skew: intPtr(0)},
	}
	if err := provision(t, a); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if err := a.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if a.prefix != "/_auth/" {
		t.Errorf("prefix = %q, want /_auth/ (slash added)", a.prefix)
	}
	if a.org != "Acme" || a.engine.TOTP.Issuer != "Acme" {
		t.Errorf("org = %q, issuer = %q, want Acme", a.org, a.engine.TOTP.Issuer)
	}
	tc := a.engine.TOTP
	if tc.Algorithm != "SHA256" || tc.Digits != 8 || tc.Period != time.Minute {
		t.Errorf("TOTP = %+v", tc)
	}
	if tc.Skew != 0 {
		t.Errorf("TOTP skew = %d, want 0 (explicit skew 0 must not become the default)", tc.Skew)
	}
}

func TestAppValidateErrors(t *testing.T) {
	tests := []struct {
		name string
		app  App
		want string
	}{
		{"unknown method", App{Methods: []string{"totp", "email"}}, `unknown method "email"`},
		{"push without notifier", App{Methods: []string{"totp", "push"}}, "method push needs a notifier"},
		{"push without public_url", App{PushRaw: rawJSON(`{"notifier":"ntfy","url":"http://127.0.0.1:9"}`)}, "push needs public_url"},
		{"sms without a provider", App{Methods: []string{"totp", "sms"}}, "method sms needs a provider"},
		{"voice without a provider", App{Methods: []string{"voice"}}, "method voice needs a provider"},
		{"totp digits 7", App{TOTP: TOTPConfig{Digits: 7}}, "digits must be 6 or 8"},
		{"totp algorithm", App{TOTP: TOTPConfig{Algorithm: "MD5"}}, "algorithm"},
		{"totp period too short", App{TOTP: TOTPConfig{Period: caddy.Duration(5 * time.Second)}}, "period"},
		{"totp skew too large", App{TOTP: TOTPConfig{Skew: intPtr(4)}}, "skew"},
		{"totp skew negative", App{TOTP: TOTPConfig{Skew: intPtr(-1)}}, "skew"},
		{"portal_prefix root", App{PortalPrefix: "/"}, "portal_prefix"},
		{"portal_prefix relative", App{PortalPrefix: "mfa/"}, "portal_prefix"},
		{"portal_prefix query", App{PortalPrefix: "/mfa?x/"}, "portal_prefix"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.app
			a.UsersFile = validUsersFile(t)
			a.DataDir = t.TempDir()
			a.StorageKey = testStorageKey
			if err := provision(t, &a); err != nil {
				t.Fatalf("Provision: %v", err)
			}
			err := a.Validate()
			if err == nil {
				t.Fatal("Validate: no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}
