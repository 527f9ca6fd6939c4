package ldapdir

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// conn is one connection to the directory; asService records whether its
// last bind was the service account's (a user's bind changes that).
type conn struct {
	*ldap.Conn
	asService bool
}

// pool keeps up to size connections bound as the service account, so that
// a sign-in does not pay for a dial and a TLS handshake.
type pool struct {
	cfg   *Config
	tls   *tls.Config
	addr  string
	ldaps bool
	idle  chan *conn
	// closed is set by close: a connection given back after it (by a
	// sign-in still under way) is closed, not kept.
	closed atomic.Bool
}

func newPool(cfg *Config) (*pool, error) {
	u, _ := url.Parse(cfg.URL) // checked by Config.check
	port := u.Port()
	if port == "" {
		port = map[string]string{"ldap": "389", "ldaps": "636"}[u.Scheme]
	}
	t := &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify}
	if cfg.ServerName != "" {
		t.ServerName = cfg.ServerName
	}
	if cfg.CAFile != "" {
		b, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ldap: tls ca_file: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("ldap: tls ca_file %s holds no PEM certificate", cfg.CAFile)
		}
		t.RootCAs = roots
	}
	return &pool{cfg: cfg, tls: t, addr: net.JoinHostPort(u.Hostname(), port), ldaps: u.Scheme == "ldaps",
		idle: make(chan *conn, cfg.PoolSize)}, nil
}

// get returns a connection bound as the service account: an idle one, or
// a new one. Its setup (dial, TLS, StartTLS, bind) is bounded by Timeout.
func (p *pool) get(ctx context.Context) (*conn, error) {
	for {
		var c *conn
		select {
		case c = <-p.idle:
		default:
			return p.dial(ctx)
		}
		if c.IsClosing() {
			_ = c.Close()
			continue
		}
		if !c.asService {
			if err := c.Bind(p.cfg.BindDN, p.cfg.BindPassword); err != nil {
				_ = c.Close()
				if isNetwork(err) {
					continue // a connection the server dropped: dial afresh
				}
				return nil, fmt.Errorf("service account bind as %s: %w", p.cfg.BindDN, err)
			}
			c.asService = true
		}
		return c, nil
	}
}

// dial opens a connection and binds it as the service account.
func (p *pool) dial(ctx context.Context) (*conn, error) {
	deadline := time.Now().Add(p.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	d := net.Dialer{Deadline: deadline}
	raw, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	// Every step of the setup, TLS handshakes included, ends by deadline.
	if err := raw.SetDeadline(deadline); err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("dial: %w", err)
	}
	nc := raw
	if p.ldaps {
		tc := tls.Client(raw, p.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = raw.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		nc = tc
	}
	l := ldap.NewConn(nc, p.ldaps)
	l.Start()
	l.SetTimeout(p.cfg.Timeout)
	if p.cfg.StartTLS {
		if err := l.StartTLS(p.tls); err != nil {
			_ = l.Close()
			return nil, fmt.Errorf("StartTLS: %w", err)
		}
	}
	if err := l.Bind(p.cfg.BindDN, p.cfg.BindPassword); err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("service account bind as %s: %w", p.cfg.BindDN, err)
	}
	if err := raw.SetDeadline(time.Time{}); err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("dial: %w", err)
	}
	return &conn{Conn: l, asService: true}, nil
}

// put gives c back for reuse, or closes it if the pool is full or it
// failed (broken).
func (p *pool) put(c *conn, broken bool) {
	if broken || c.IsClosing() || p.closed.Load() {
		_ = c.Close()
		return
	}
	select {
	case p.idle <- c:
	default:
		_ = c.Close()
	}
}

// close closes the idle connections, and those given back later.
func (p *pool) close() {
	p.closed.Store(true)
	for {
		select {
		case c := <-p.idle:
			_ = c.Close()
		default:
			return
		}
	}
}

// isNetwork reports an error of the connection (not an LDAP answer): the
// connection is not reused.
func isNetwork(err error) bool {
	var le *ldap.Error
	if errors.As(err, &le) {
		return le.ResultCode == ldap.ErrorNetwork || le.ResultCode == ldap.LDAPResultTimeout ||
			le.ResultCode == ldap.LDAPResultServerDown || le.ResultCode == ldap.LDAPResultUnavailable ||
			le.ResultCode == ldap.LDAPResultBusy || le.ResultCode >= 80
	}
	return true
}
