package ldapdir

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/internal/slapdtest"
)

func TestLDAPSAndStartTLSWithTestCA(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{TLS: true})
	wrong := slapdtest.NewCA(t, t.TempDir())
	for _, tc := range []struct {
		name     string
		url      string
		startTLS bool
	}{{"ldaps", s.LDAPSURL, false}, {"starttls", s.URL, true}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(s)
			cfg.URL, cfg.StartTLS, cfg.CAFile = tc.url, tc.startTLS, s.CA.CertFile
			if n := signIn(t, newDir(t, cfg), "alice", slapdtest.AlicePassword); n != "alice" {
				t.Fatalf("sign-in over %s: %q", tc.name, n)
			}
			cfg.CAFile = wrong.CertFile
			_, err := newDir(t, cfg).Authenticate(context.Background(), "alice", slapdtest.AlicePassword)
			if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("a server certificate from another CA: %v; want refused (certificate)", err)
			}
			cfg.CAFile, cfg.ServerName = s.CA.CertFile, "ldap.other.example"
			if _, err := newDir(t, cfg).Authenticate(context.Background(), "alice", slapdtest.AlicePassword); err == nil {
				t.Fatal("a server name the certificate does not hold was accepted")
			}
		})
	}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	_ = os.WriteFile(bad, []byte("not pem"), 0o600)
	cfg := testConfig(s)
	cfg.URL, cfg.CAFile = s.LDAPSURL, bad
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "ca_file") {
		t.Fatalf("a CA file without a certificate: %v", err)
	}
}

// TestSlowDirectoryBoundedByTimeout: a server that accepts connections and
// never answers holds a sign-in for the timeout, not longer.
func TestSlowDirectoryBoundedByTimeout(t *testing.T) {
	addr := slapdtest.Silent(t)
	var err error
	for _, tc := range []struct {
		name     string
		scheme   string
		startTLS bool
	}{{"ldap", "ldap", false}, {"ldaps", "ldaps", false}, {"starttls", "ldap", true}} {
		t.Run(tc.name, func(t *testing.T) {
			timeout := 300 * time.Millisecond
			d := newDir(t, Config{URL: tc.scheme + "://" + addr, StartTLS: tc.startTLS, BindDN: "cn=x,dc=example,dc=org",
				BindPassword: "x", BaseDN: "dc=example,dc=org", Timeout: timeout})
			for _, step := range []string{"CanonicalName", "Authenticate"} {
				start := time.Now()
				if step == "CanonicalName" {
					_, err = d.CanonicalName(context.Background(), "alice")
				} else {
					_, err = d.Authenticate(context.Background(), "alice", "pw")
				}
				took := time.Since(start)
				if !errors.Is(err, store.ErrUnavailable) {
					t.Fatalf("%s: %v; want ErrUnavailable", step, err)
				}
				if took < timeout-50*time.Millisecond || took > timeout+250*time.Millisecond {
					t.Fatalf("%s took %v with timeout %v; want the timeout (+250ms at most)", step, took, timeout)
				}
				t.Logf("%s answered in %v (timeout %v)", step, took, timeout)
			}
		})
	}
}
