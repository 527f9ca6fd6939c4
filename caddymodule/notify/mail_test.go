package notify

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/internal/smtptest"
	"github.com/caddy-mfa/caddy-mfa/ui"
)

// received is a notice as the SMTP server got it, decoded.
type received struct {
	smtptest.Parsed
	Raw        string
	EnvelopeTo []string
}

func decodeMessage(t *testing.T, m smtptest.Message) received {
	t.Helper()
	p, err := m.Parse()
	if err != nil {
		t.Fatalf("%v:\n%s", err, m.Raw)
	}
	return received{Parsed: p, Raw: string(m.Raw), EnvelopeTo: m.To}
}

func testComposer(t *testing.T) *Composer {
	t.Helper()
	r, err := ui.New()
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewComposer(r, "Example Corp", "https://login.example.com/.mfa/security", "https://help.example.com/mfa")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testMailer(t *testing.T, s *smtptest.Server, mode string) *Mailer {
	t.Helper()
	host, port, err := CheckAddress(s.Addr, mode)
	if err != nil {
		t.Fatal(err)
	}
	from, err := ParseFrom("Example Sign-in <mfa@example.com>")
	if err != nil {
		t.Fatal(err)
	}
	return &Mailer{Host: host, Port: port, Username: "gw", Password: "smtp-pass-123", From: from, TLS: mode,
		Timeout: 2 * time.Second, TLSConfig: &tls.Config{RootCAs: s.CertPool()}, Composer: testComposer(t)}
}

func sampleNotice(kind Kind, lang string) Notice {
	return Notice{ID: NewID(), Channel: ChannelMail, Kind: kind, Event: events.MethodAdded, User: "alice",
		To: "alice@example.com", Name: "Alice Liddell", Lang: lang,
		Time: time.Date(2026, 12, 1, 15, 4, 0, 0, time.UTC),
		IP:   "198.51.100.7", Browser: "Firefox on Linux", Method: "totp"}
}

// One notice over STARTTLS with AUTH PLAIN, read as received.
func TestMailerSendsOverStartTLS(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "smtp-pass-123"})
	m := testMailer(t, s, TLSStartTLS)
	n := sampleNotice(MethodAdded, "en")
	if err := m.Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	msgs := s.Messages()
	if len(msgs) != 1 || !msgs[0].TLS || msgs[0].User != "gw" || msgs[0].From != "mfa@example.com" {
		t.Fatalf("got %+v", msgs)
	}
	r := decodeMessage(t, msgs[0])
	if r.Subject != "A sign-in method was added to your account" || r.From != `"Example Sign-in" <mfa@example.com>` ||
		r.To != `"Alice Liddell" <alice@example.com>` || r.MessageID != "<"+n.ID+"@example.com>" {
		t.Errorf("headers: subject %q from %q to %q id %q", r.Subject, r.From, r.To, r.MessageID)
	}
	for _, want := range []string{"Authenticator app", "Tuesday 1 December 2026, 15:04 UTC", "198.51.100.7", "Firefox on Linux",
		"https://login.example.com/.mfa/security", "https://help.example.com/mfa", "Hello Alice Liddell,"} {
		if !strings.Contains(r.Text, want) || !strings.Contains(r.HTML, want) {
			t.Errorf("a part lacks %q:\ntext: %s\nhtml: %s", want, r.Text, r.HTML)
		}
	}
}

// Implicit TLS and, to this machine, none; tls none elsewhere is refused.
func TestMailerTLSModes(t *testing.T) {
	for _, mode := range []string{TLSImplicit, TLSNone} {
		s := smtptest.Start(t, smtptest.Options{TLS: map[string]string{TLSImplicit: smtptest.Implicit, TLSNone: smtptest.NoTLS}[mode],
			Username: "gw", Password: "smtp-pass-123"})
		if err := testMailer(t, s, mode).Send(context.Background(), sampleNotice(LockedOut, "en")); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if msgs := s.Messages(); len(msgs) != 1 || msgs[0].TLS != (mode == TLSImplicit) {
			t.Fatalf("%s: %+v", mode, msgs)
		}
	}
	if _, _, err := CheckAddress("smtp.example.com:25", TLSNone); err == nil || !strings.Contains(err.Error(), "only to this machine") {
		t.Errorf("tls none to another host: %v", err)
	}
}

// A wrong SMTP password fails the send (and is not in the error).
func TestMailerWrongPassword(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "other"})
	err := testMailer(t, s, TLSStartTLS).Send(context.Background(), sampleNotice(LockedOut, "en"))
	if err == nil || strings.Contains(err.Error(), "smtp-pass-123") || len(s.Messages()) != 0 {
		t.Fatalf("err %v, %d messages", err, len(s.Messages()))
	}
}

// Header injection: a display name with CR/LF is left out, a non-ASCII
// one is encoded, an address with CR/LF is refused; no injected header
// appears in the raw message.
func TestMailerHeaderInjection(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "smtp-pass-123"})
	m := testMailer(t, s, TLSStartTLS)
	bad := sampleNotice(NewBrowser, "en")
	bad.Name = "Eve\r\nBcc: victim@example.net"
	bad.Browser = "Evil\r\nX-Injected: 1"
	if err := m.Send(context.Background(), bad); err != nil {
		t.Fatal(err)
	}
	m.Composer.Org = "Evil Corp\r\nBcc: victim@example.net\r\n\r\n<script>alert(1)</script>"
	jp := sampleNotice(NewBrowser, "ja")
	jp.Name = "山田 太郎"
	if err := m.Send(context.Background(), jp); err != nil {
		t.Fatal(err)
	}
	to := sampleNotice(NewBrowser, "en")
	to.To = "a@example.com\r\nBcc: victim@example.net"
	if err := m.Send(context.Background(), to); err == nil {
		t.Error("an address with CR/LF was sent")
	}
	msgs := s.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	for _, msg := range msgs {
		r := decodeMessage(t, msg)
		if r.Header.Get("Bcc") != "" || r.Header.Get("X-Injected") != "" || len(msg.To) != 1 || msg.To[0] != "alice@example.com" {
			t.Errorf("injected header or recipient: %v %v", r.Header, msg.To)
		}
		if head, _, _ := strings.Cut(r.Raw, "\r\n\r\n"); !isASCII(head) {
			t.Errorf("non-ASCII header:\n%s", head)
		}
	}
	if r := decodeMessage(t, msgs[1]); strings.Contains(r.HTML, "<script>") || !strings.Contains(r.HTML, "&lt;script&gt;") {
		t.Errorf("the organisation is not escaped in the HTML part:\n%s", r.HTML)
	}
	if r := decodeMessage(t, msgs[1]); r.To != "山田 太郎 <alice@example.com>" || !strings.HasPrefix(strings.ToLower(r.Header.Get("To")), "=?utf-8?") {
		t.Errorf("encoded name decodes to %q (raw %q)", r.To, r.Header.Get("To"))
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
