package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLS modes of a Mailer.
const (
	TLSImplicit = "implicit"
	TLSStartTLS = "starttls"
	TLSNone     = "none"
)

// Mailer sends notices as e-mail through one SMTP server.
type Mailer struct {
	// Host and Port are the server's.
	Host string
	Port int
	// Username and Password, if set, authenticate with AUTH PLAIN.
	Username, Password string
	// From is the sender, "Name <address>" or an address.
	From *mail.Address
	// TLS is TLSImplicit, TLSStartTLS or TLSNone.
	TLS string
	// Timeout bounds a connection and each of its steps.
	Timeout time.Duration
	// TLSConfig, if set, replaces the default (the system's roots).
	TLSConfig *tls.Config
	Composer  *Composer
}

// errHeader is returned for a name or address that would break a header.
var errHeader = errors.New("notify: a line break or control character in an e-mail header field")

// checkHeader refuses s if it holds a line break or another control
// character (go-mail encodes non-ASCII names itself).
func checkHeader(s string) error {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == '\u0085' {
			return errHeader
		}
	}
	return nil
}

// ParseFrom reads the from option: an address, or "Name <address>".
func ParseFrom(s string) (*mail.Address, error) {
	if err := checkHeader(s); err != nil {
		return nil, err
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("from %q is not an e-mail address such as \"Sign-in <mfa@example.com>\": %w", s, err)
	}
	return a, nil
}

// CheckAddress checks the address:port of the smtp option and whether tls
// none is allowed there: only to this machine.
func CheckAddress(address, mode string) (string, int, error) {
	host, p, err := net.SplitHostPort(address)
	if err != nil || host == "" {
		return "", 0, fmt.Errorf("smtp address %q must be host:port, such as smtp.example.com:587", address)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("smtp address %q: port must be 1 to 65535", address)
	}
	switch mode {
	case TLSImplicit, TLSStartTLS:
	case TLSNone:
		if !loopback(host) {
			return "", 0, fmt.Errorf("smtp tls none sends passwords and notices in clear: allowed only to this machine (127.0.0.1, ::1, localhost), not %q", host)
		}
		if host == "localhost" {
			// Dialled as the address, not looked up: /etc/hosts or a
			// search domain could make "localhost" another machine.
			host = "127.0.0.1"
		}
	default:
		return "", 0, fmt.Errorf("smtp tls %q: want implicit, starttls or none", mode)
	}
	return host, port, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send implements Sender.
func (m *Mailer) Send(ctx context.Context, n Notice) error {
	msg, err := m.message(n, "")
	if err != nil {
		return err
	}
	return m.send(ctx, n, msg)
}

// SendCode e-mails a registration code (verified_email) at once, outside
// the outbox: the code is a secret the store must not hold, and worth
// nothing once its ten minutes are over. n says to whom, in which
// language, and where the request came from.
func (m *Mailer) SendCode(ctx context.Context, n Notice, code string) error {
	if n.ID == "" {
		n.ID = NewID()
	}
	msg, err := m.message(n, code)
	if err != nil {
		return err
	}
	return m.send(ctx, n, msg)
}

func (m *Mailer) send(ctx context.Context, n Notice, msg *gomail.Msg) error {
	c, err := m.client()
	if err != nil {
		return err
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("notify: sending notice %s: %w", n.ID, err)
	}
	return nil
}

// message builds the e-mail of n. An address with a line break is
// refused, a display name with one left out; non-ASCII names are encoded (RFC 2047) by go-mail.
func (m *Mailer) message(n Notice, code string) (*gomail.Msg, error) {
	if checkHeader(n.Name) != nil {
		// A name that would break the header: the notice goes out
		// without it (the user still hears of the event).
		n.Name = ""
	}
	if err := checkHeader(n.To); err != nil || strings.ContainsAny(n.To, "<>\" ,") {
		return nil, fmt.Errorf("notify: e-mail address of %q is not a plain address", n.User)
	}
	body, err := m.Composer.compose(n, code)
	if err != nil {
		return nil, err
	}
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	// Addresses as net/mail writes them: a display name with quotes or
	// backslashes is quoted as RFC 5322 asks (go-mail's *Format pastes it
	// between quotes, which such a name breaks), and errors never carry
	// the address.
	msg.FromMailAddress(m.From)
	msg.ToMailAddress(&mail.Address{Name: n.Name, Address: n.To})
	msg.Subject(body.Subject)
	domain := m.From.Address[strings.LastIndexByte(m.From.Address, '@')+1:]
	msg.SetMessageIDWithValue(n.ID + "@" + domain)
	msg.SetDateWithValue(n.Time)
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetUserAgent("caddy-mfa")
	msg.SetBodyString(gomail.TypeTextPlain, body.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, body.HTML)
	return msg, nil
}

func (m *Mailer) client() (*gomail.Client, error) {
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	opts := []gomail.Option{gomail.WithPort(m.Port), gomail.WithTimeout(timeout), gomail.WithHELO("localhost")}
	tc := m.TLSConfig
	if tc == nil {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tc = tc.Clone()
	tc.ServerName = m.Host
	opts = append(opts, gomail.WithTLSConfig(tc))
	switch m.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if m.Username != "" {
		auth := gomail.SMTPAuthPlain
		if m.TLS == TLSNone {
			auth = gomail.SMTPAuthPlainNoEnc // allowed to this machine only (CheckAddress)
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(m.Username), gomail.WithPassword(m.Password))
	}
	c, err := gomail.NewClient(m.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("notify: SMTP client: %w", err)
	}
	return c, nil
}
