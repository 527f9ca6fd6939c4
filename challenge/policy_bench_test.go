package challenge

import (
	"testing"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// BenchmarkPolicy is the route's allow_users/allow_groups check.
func BenchmarkPolicy(b *testing.B) {
	p := Policy{AllowUsers: []string{"root"}, AllowGroups: []string{"ops", "staff"}}
	u := &users.User{Name: "alice", Groups: []string{"admins", "dev", "staff"}}
	b.ReportAllocs()
	for b.Loop() {
		if !p.Allows(u) {
			b.Fatal("denied")
		}
	}
}
