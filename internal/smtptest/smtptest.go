// Package smtptest is a real SMTP receiver for tests, built on
// github.com/emersion/go-smtp: it speaks the protocol on a loopback port
// with STARTTLS (or implicit TLS, or none) under a certificate made for
// the test, requires AUTH PLAIN when given credentials, and records each
// message as received (envelope and raw bytes). It can be stopped and
// started again on the same port, and made slow (a delay before it
// answers DATA).
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TLS modes of a Server.
const (
	StartTLS = "starttls"
	Implicit = "implicit"
	NoTLS    = "none"
)

// Options configure a Server.
type Options struct {
	// TLS is StartTLS (the default), Implicit or NoTLS.
	TLS string
	// Username and Password, if set, are required through AUTH PLAIN
	// before MAIL; without them any sender is accepted.
	Username, Password string
}

// Message is one message as received.
type Message struct {
	// From is the envelope sender (MAIL FROM).
	From string
	// To are the envelope recipients (RCPT TO).
	To []string
	// Raw is the message as the client sent it after DATA.
	Raw []byte
	// TLS reports whether the session was under TLS.
	TLS bool
	// User is the name the client authenticated as ("" if none).
	User string
}

// Server is a running SMTP receiver.
type Server struct {
	// Addr is host:port, on 127.0.0.1.
	Addr string
	// CAFile is a PEM file holding the certificate the server presents
	// (self-signed, for 127.0.0.1 and localhost): trust it with
	// SSL_CERT_FILE or CertPool.
	CAFile string

	t    testing.TB
	opts Options
	cert tls.Certificate
	pool *x509.CertPool

	mu       sync.Mutex
	srv      *smtp.Server
	ln       net.Listener
	messages []Message
	delay    time.Duration
	auths    int
	notify   chan struct{}
}

// Start starts a Server on a free loopback port; it stops when the test
// ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.TLS == "" {
		o.TLS = StartTLS
	}
	s := &Server{t: t, opts: o, notify: make(chan struct{}, 1)}
	if err := s.makeCert(t.TempDir()); err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	s.Addr = l.Addr().String()
	s.serve(l)
	t.Cleanup(s.Stop)
	return s
}

// CertPool is a pool holding the server's certificate.
func (s *Server) CertPool() *x509.CertPool { return s.pool }

func (s *Server) makeCert(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	s.cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	s.pool = x509.NewCertPool()
	s.pool.AddCert(leaf)
	s.CAFile = filepath.Join(dir, "smtptest-ca.pem")
	return os.WriteFile(s.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
}

func (s *Server) serve(l net.Listener) {
	srv := smtp.NewServer(backend{s})
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.MaxRecipients = 10
	srv.AllowInsecureAuth = s.opts.TLS == NoTLS
	tc := &tls.Config{Certificates: []tls.Certificate{s.cert}, MinVersion: tls.VersionTLS12}
	switch s.opts.TLS {
	case StartTLS:
		srv.TLSConfig = tc
	case Implicit:
		l = tls.NewListener(l, tc)
	}
	s.mu.Lock()
	s.srv, s.ln = srv, l
	s.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

// Stop closes the listener and every connection. A stopped server can be
// started again with Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, ln := s.srv, s.ln
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if ln != nil {
		// Closed here as well: Serve may not have taken it yet.
		_ = ln.Close()
	}
	if srv != nil {
		_ = srv.Close()
	}
}

// Restart starts a stopped server again on the same port.
func (s *Server) Restart() {
	s.t.Helper()
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may take a moment to be free again
		if l, err = net.Listen("tcp", s.Addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("smtptest: restart on %s: %v", s.Addr, err)
	}
	s.serve(l)
}

// SetDelay makes the server wait d after the message's data arrives
// before it answers DATA (0: answer at once).
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// Messages are the messages received so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Auths is how many AUTH PLAIN attempts succeeded.
func (s *Server) Auths() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auths
}

// Wait waits up to timeout until at least n messages have arrived and
// returns them; it fails the test otherwise.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := s.Messages(); len(m) >= n {
			return m
		}
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("smtptest: %d messages within %v, want %d", len(s.Messages()), timeout, n)
		}
		select {
		case <-s.notify:
		case <-time.After(min(left, 50*time.Millisecond)):
		}
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, conn: c}, nil
}

type session struct {
	s    *Server
	conn *smtp.Conn
	user string
	from string
	to   []string
}

var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}

func (x *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (x *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if x.s.opts.Username == "" || user != x.s.opts.Username || pass != x.s.opts.Password {
			return errors.New("invalid credentials")
		}
		x.user = user
		x.s.mu.Lock()
		x.s.auths++
		x.s.mu.Unlock()
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.opts.Username != "" && x.user == "" {
		return errAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return fmt.Errorf("reading data: %w", err)
	}
	x.s.mu.Lock()
	d := x.s.delay
	x.s.mu.Unlock()
	if d > 0 {
		time.Sleep(d)
	}
	_, isTLS := x.conn.TLSConnectionState()
	x.s.mu.Lock()
	x.s.messages = append(x.s.messages, Message{From: x.from, To: x.to, Raw: buf.Bytes(), TLS: isTLS, User: x.user})
	x.s.mu.Unlock()
	select {
	case x.s.notify <- struct{}{}:
	default:
	}
	return nil
}

func (x *session) Reset() { x.from, x.to = "", nil }

func (x *session) Logout() error { return nil }
