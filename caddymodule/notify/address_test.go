package notify

import (
	"context"
	"net/mail"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/internal/smtptest"
)

// Display names as directories and users files hold them (quotes,
// backslashes, parentheses) reach the user: the header is written with
// the quoting RFC 5322 asks for, not pasted into quotes; and a name that
// tries to add an address still cannot.
func TestDisplayNamesOfEveryShapeDeliver(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "smtp-pass-123"})
	m := testMailer(t, s, TLSStartTLS)
	names := []string{`O"Brien`, `Back\slash\`, `Robert "Bob" Smith`, `Alice (Admin)`, `x" <evil@attacker.example>`}
	for _, name := range names {
		n := sampleNotice(MethodAdded, "en")
		n.Name = name
		if err := m.Send(context.Background(), n); err != nil {
			t.Errorf("name %q: %v", name, err)
		}
	}
	msgs := s.Messages()
	if len(msgs) != len(names) {
		t.Fatalf("%d messages received for %d names", len(msgs), len(names))
	}
	for i, msg := range msgs {
		if len(msg.To) != 1 || msg.To[0] != sampleNotice(MethodAdded, "en").To {
			t.Errorf("name %q: envelope recipients %v", names[i], msg.To)
		}
		r := decodeMessage(t, msg)
		to, err := mail.ParseAddress(r.To)
		if err != nil || to.Name != names[i] || to.Address != sampleNotice(MethodAdded, "en").To {
			t.Errorf("name %q: To header %q reads as %+v (%v)", names[i], r.To, to, err)
		}
	}
}

// tls none to "localhost" dials 127.0.0.1 itself, never a lookup of the
// name (which /etc/hosts or a search domain could point elsewhere).
func TestPlainSMTPToLocalhostDialsLoopback(t *testing.T) {
	host, port, err := CheckAddress("localhost:25", TLSNone)
	if err != nil || host != "127.0.0.1" || port != 25 {
		t.Fatalf("localhost:25 with tls none: %q %d %v, want 127.0.0.1", host, port, err)
	}
	if host, _, err := CheckAddress("localhost:587", TLSStartTLS); err != nil || host != "localhost" {
		t.Fatalf("localhost:587 with starttls: %q %v (the name is kept for the certificate)", host, err)
	}
}
