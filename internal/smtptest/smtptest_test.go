package smtptest

import (
	"crypto/tls"
	"net/smtp"
	"strings"
	"testing"
	"time"
)

func dial(t *testing.T, s *Server) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StartTLS(&tls.Config{RootCAs: s.CertPool(), ServerName: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	return c
}

func send(c *smtp.Client, user, pass string) error {
	if user != "" {
		if err := c.Auth(smtp.PlainAuth("", user, pass, "127.0.0.1")); err != nil {
			return err
		}
	}
	if err := c.Mail("a@example.com"); err != nil {
		return err
	}
	if err := c.Rcpt("b@example.com"); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte("Subject: hi\r\n\r\nbody\r\n")); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// The receiver wants AUTH before MAIL, refuses a wrong password, records
// a message as sent, comes back on the same port, and can be slow.
func TestServer(t *testing.T) {
	s := Start(t, Options{Username: "u", Password: "p"})
	if err := send(dial(t, s), "", ""); err == nil || !strings.Contains(err.Error(), "530") {
		t.Errorf("MAIL without AUTH: %v", err)
	}
	if err := send(dial(t, s), "u", "wrong"); err == nil {
		t.Error("a wrong password was accepted")
	}
	if err := send(dial(t, s), "u", "p"); err != nil {
		t.Fatal(err)
	}
	m := s.Messages()
	if len(m) != 1 || m[0].From != "a@example.com" || m[0].To[0] != "b@example.com" || !m[0].TLS || m[0].User != "u" ||
		!strings.Contains(string(m[0].Raw), "Subject: hi") {
		t.Fatalf("messages %+v", m)
	}
	addr := s.Addr
	s.Stop()
	if _, err := smtp.Dial(addr); err == nil {
		t.Fatal("a stopped server answers")
	}
	s.Restart()
	s.SetDelay(300 * time.Millisecond)
	start := time.Now()
	if err := send(dial(t, s), "u", "p"); err != nil || s.Addr != addr {
		t.Fatalf("after restart: %v on %s", err, s.Addr)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("a slow server answered in %v", took)
	}
	if len(s.Messages()) != 2 {
		t.Errorf("%d messages, want 2", len(s.Messages()))
	}
}
