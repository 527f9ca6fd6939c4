package caddymodule

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/notify"
)

// One case per smtp and notify option.
func TestSMTPAndNotifyCaddyfile(t *testing.T) {
	for _, tc := range []struct {
		name, input string
		smtp        *SMTPConfig
		notify      *NotifyConfig
	}{
		{"smtp address and from", "mfa {\n\tsmtp {\n\t\taddress smtp.example.com:587\n\t\tfrom \"Sign-in <mfa@example.com>\"\n\t}\n}",
			&SMTPConfig{Address: "smtp.example.com:587", From: "Sign-in <mfa@example.com>"}, nil},
		{"smtp every option", "mfa {\n\tsmtp {\n\t\taddress smtp.example.com:465\n\t\tusername gw\n\t\tpassword {env.SMTP_PW}\n\t\tfrom mfa@example.com\n\t\ttls implicit\n\t\ttimeout 5s\n\t}\n}",
			&SMTPConfig{Address: "smtp.example.com:465", Username: "gw", Password: "{env.SMTP_PW}", From: "mfa@example.com", TLS: "implicit", Timeout: caddy.Duration(5 * time.Second)}, nil},
		{"smtp tls starttls", "mfa {\n\tsmtp {\n\t\taddress a:25\n\t\tfrom a@b.c\n\t\ttls starttls\n\t}\n}",
			&SMTPConfig{Address: "a:25", From: "a@b.c", TLS: "starttls"}, nil},
		{"smtp tls none", "mfa {\n\tsmtp {\n\t\taddress 127.0.0.1:25\n\t\tfrom a@b.c\n\t\ttls none\n\t}\n}",
			&SMTPConfig{Address: "127.0.0.1:25", From: "a@b.c", TLS: "none"}, nil},
		{"notify events", "mfa {\n\tnotify {\n\t\tevents method_added new_browser\n\t\tevents locked_out\n\t}\n}",
			nil, &NotifyConfig{Events: []string{"method_added", "new_browser", "locked_out"}}},
		{"notify webhook", "mfa {\n\tnotify {\n\t\twebhook https://siem.example.com/hook {\n\t\t\tsecret {env.NOTIFY_SECRET}\n\t\t}\n\t}\n}",
			nil, &NotifyConfig{Webhook: &Webhook{URL: "https://siem.example.com/hook", Secret: "{env.NOTIFY_SECRET}"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a App
			if err := a.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input)); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a.SMTP, tc.smtp) || !reflect.DeepEqual(a.Notify, tc.notify) {
				t.Errorf("smtp %+v notify %+v", a.SMTP, a.Notify)
			}
		})
	}
}

func TestSMTPAndNotifyCaddyfileErrors(t *testing.T) {
	expectGlobalErrors(t, []globalErrorCase{
		{"smtp twice", "mfa {\n\tsmtp {\n\t\taddress a:25\n\t\tfrom a@b.c\n\t}\n\tsmtp {\n\t\taddress a:25\n\t\tfrom a@b.c\n\t}\n}", []string{"smtp may be given only once"}},
		{"smtp args", "mfa {\n\tsmtp a:25\n}", []string{"wrong argument count"}},
		{"smtp unknown option", "mfa {\n\tsmtp {\n\t\thost a\n\t}\n}", []string{`unknown smtp option "host"`}},
		{"smtp without address", "mfa {\n\tsmtp {\n\t\tfrom a@b.c\n\t}\n}", []string{"smtp needs address and from"}},
		{"smtp without from", "mfa {\n\tsmtp {\n\t\taddress a:25\n\t}\n}", []string{"smtp needs address and from"}},
		{"smtp bad tls", "mfa {\n\tsmtp {\n\t\taddress a:25\n\t\tfrom a@b.c\n\t\ttls ssl\n\t}\n}", []string{`smtp tls "ssl"`, "implicit, starttls or none"}},
		{"smtp bad timeout", "mfa {\n\tsmtp {\n\t\taddress a:25\n\t\tfrom a@b.c\n\t\ttimeout soon\n\t}\n}", []string{"timeout", `"soon" is not a duration`}},
		{"smtp address without value", "mfa {\n\tsmtp {\n\t\taddress\n\t}\n}", []string{"address needs a value"}},
		{"smtp password two values", "mfa {\n\tsmtp {\n\t\tpassword a b\n\t}\n}", []string{"password takes one value"}},
		{"notify twice", "mfa {\n\tnotify {\n\t}\n\tnotify {\n\t}\n}", []string{"notify may be given only once"}},
		{"notify unknown event", "mfa {\n\tnotify {\n\t\tevents method_added sign_in\n\t}\n}", []string{`unknown notice "sign_in"`, "new_browser"}},
		{"notify empty events", "mfa {\n\tnotify {\n\t\tevents\n\t}\n}", []string{"needs at least one notice"}},
		{"notify unknown option", "mfa {\n\tnotify {\n\t\tmail x\n\t}\n}", []string{`unknown notify option "mail"`}},
		{"notify webhook without secret", "mfa {\n\tnotify {\n\t\twebhook https://x.example.com\n\t}\n}", []string{"needs a secret"}},
		{"notify webhook twice", "mfa {\n\tnotify {\n\t\twebhook https://x.example.com {\n\t\t\tsecret 0123456789abcdef\n\t\t}\n\t\twebhook https://x.example.com {\n\t\t\tsecret 0123456789abcdef\n\t\t}\n\t}\n}", []string{"notify webhook may be given only once"}},
	})
}

// The smtp settings as provisioned: placeholders resolved, defaults, and
// every bad value refused with a clear error.
func TestSMTPMailer(t *testing.T) {
	t.Setenv("MFA_TEST_SMTP_PW", "pw-from-env")
	repl := caddy.NewReplacer()
	m, err := (&SMTPConfig{Address: "smtp.example.com:587", Username: "gw", Password: "{env.MFA_TEST_SMTP_PW}", From: "Sign-in <mfa@example.com>"}).mailer(repl)
	if err != nil {
		t.Fatal(err)
	}
	if m.Host != "smtp.example.com" || m.Port != 587 || m.Password != "pw-from-env" || m.TLS != notify.TLSStartTLS ||
		m.Timeout != 10*time.Second || m.From.Name != "Sign-in" || m.From.Address != "mfa@example.com" {
		t.Errorf("mailer %+v", m)
	}
	if m, err := (&SMTPConfig{Address: "[::1]:25", From: "a@b.c", TLS: "none"}).mailer(repl); err != nil || m.Host != "::1" {
		t.Errorf("tls none to ::1: %v", err)
	}
	for name, c := range map[string]SMTPConfig{
		"only to this machine":              {Address: "smtp.example.com:25", From: "a@b.c", TLS: "none"},
		"must be host:port":                 {Address: "smtp.example.com", From: "a@b.c"},
		"port must be 1 to 65535":           {Address: "smtp.example.com:0", From: "a@b.c"},
		"is not an e-mail address":          {Address: "a:25", From: "Sign-in"},
		"line break":                        {Address: "a:25", From: "Sign-in\r\nBcc: x@y.z <a@b.c>"},
		"smtp needs from":                   {Address: "a:25"},
		"username and password go together": {Address: "a:25", From: "a@b.c", Username: "gw"},
		"want implicit, starttls or none":   {Address: "a:25", From: "a@b.c", TLS: "ssl"},
		"timeout must be positive":          {Address: "a:25", From: "a@b.c", Timeout: -1},
	} {
		if _, err := c.mailer(repl); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%+v: error %v, want %q", c, err, name)
		}
	}
}

// notify alone has nothing to send its notices with: refused.
func TestNotifyNeedsAChannel(t *testing.T) {
	a := &App{Notify: &NotifyConfig{Events: []string{"locked_out"}}}
	if err := a.buildNotices(caddy.NewReplacer(), nil, nil); err == nil || !strings.Contains(err.Error(), "notify needs smtp") {
		t.Fatalf("error %v", err)
	}
	if err := (&App{}).buildNotices(caddy.NewReplacer(), nil, nil); err != nil || (&App{}).notices != nil {
		t.Fatalf("without smtp or notify: %v", err)
	}
}
