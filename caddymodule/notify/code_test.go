package notify

import (
	"context"
	"strings"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/internal/smtptest"
)

// A registration code e-mail, read as received: the code in both parts
// (not in the subject, which lock screens and previews show),
// in the user's language, with what to do if it was not them; a display
// name or browser with CR/LF injects no header.
func TestMailerSendsCodes(t *testing.T) {
	s := smtptest.Start(t, smtptest.Options{Username: "gw", Password: "smtp-pass-123"})
	m := testMailer(t, s, TLSStartTLS)
	for _, lang := range []string{"en", "ja"} {
		n := sampleNotice("email_code", lang)
		n.ID = ""
		n.Name = "Eve\r\nBcc: victim@example.net"
		n.Browser = "Evil\r\nX-Injected: 1"
		if err := m.SendCode(context.Background(), n, "493817"); err != nil {
			t.Fatal(err)
		}
	}
	msgs := s.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	for i, want := range []struct{ subject, notYou string }{
		{"Your code to add a sign-in method", "someone else knows your password"},
		{"サインイン方法を追加するためのコード", "他の人があなたのパスワードを知っています"},
	} {
		r := decodeMessage(t, msgs[i])
		if r.Subject != want.subject {
			t.Errorf("subject %q, want %q", r.Subject, want.subject)
		}
		for _, part := range []string{r.Text, r.HTML} {
			if !strings.Contains(part, "493817") || !strings.Contains(part, want.notYou) {
				t.Errorf("a part lacks the code or what to do:\n%s", part)
			}
		}
		if r.Header.Get("Bcc") != "" || r.Header.Get("X-Injected") != "" || len(msgs[i].To) != 1 || msgs[i].To[0] != "alice@example.com" {
			t.Errorf("injected header or recipient: %v %v", r.Header, msgs[i].To)
		}
		if r.MessageID == "" {
			t.Error("no Message-ID")
		}
	}
}
