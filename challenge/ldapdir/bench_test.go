package ldapdir

import (
	"context"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/internal/slapdtest"
)

// BenchmarkFirstFactor is a sign-in's first factor over LDAP against a
// real slapd on loopback: the canonical-name search, then the user search
// and bind (and the group read) of Authenticate, on pooled connections.
func BenchmarkFirstFactor(b *testing.B) {
	s := slapdtest.Start(b, slapdtest.Options{})
	d := newDir(b, testConfig(s))
	ctx := context.Background()
	for b.Loop() {
		if _, err := d.CanonicalName(ctx, "alice"); err != nil {
			b.Fatal(err)
		}
		if u, err := d.Authenticate(ctx, "alice", slapdtest.AlicePassword); err != nil || u == nil {
			b.Fatal(u, err)
		}
	}
}

// BenchmarkLookup is the hot path's look-up of a signed-in directory user:
// memory only.
func BenchmarkLookup(b *testing.B) {
	s := slapdtest.Start(b, slapdtest.Options{})
	d := newDir(b, testConfig(s))
	if signIn(b, d, "alice", slapdtest.AlicePassword) != "alice" {
		b.Fatal("alice")
	}
	s.Stop()
	b.ReportAllocs()
	for b.Loop() {
		if d.Lookup("alice") == nil {
			b.Fatal("alice")
		}
	}
}
