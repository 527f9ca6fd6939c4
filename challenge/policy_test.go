package challenge

import (
	"testing"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

func TestPolicyAllows(t *testing.T) {
	alice := &users.User{Name: "alice", Groups: []string{"admins", "staff"}}
	bob := &users.User{Name: "bob", Groups: []string{"guests"}}
	carol := &users.User{Name: "carol"}
	tests := []struct {
		name   string
		p      Policy
		allows []*users.User
		denies []*users.User
	}{
		{"no lists: every signed-in user", Policy{}, []*users.User{alice, bob, carol}, nil},
		{"empty lists: every signed-in user", Policy{AllowUsers: []string{}, AllowGroups: []string{}}, []*users.User{alice, bob, carol}, nil},
		{"users only", Policy{AllowUsers: []string{"bob", "carol"}}, []*users.User{bob, carol}, []*users.User{alice}},
		{"groups only", Policy{AllowGroups: []string{"staff"}}, []*users.User{alice}, []*users.User{bob, carol}},
		{"either list is enough", Policy{AllowUsers: []string{"carol"}, AllowGroups: []string{"guests"}}, []*users.User{bob, carol}, []*users.User{alice}},
		{"names are exact", Policy{AllowUsers: []string{"Alice", "alic"}, AllowGroups: []string{"Staff", "staf", "admins "}}, nil, []*users.User{alice}},
		// A user named like a group is not a member of it, and the reverse.
		{"users and groups are not mixed up", Policy{AllowUsers: []string{"staff"}, AllowGroups: []string{"alice"}}, nil, []*users.User{alice}},
	}
	for _, tt := range tests {
		for _, u := range tt.allows {
			if !tt.p.Allows(u) {
				t.Errorf("%s: %s refused", tt.name, u.Name)
			}
		}
		for _, u := range tt.denies {
			if tt.p.Allows(u) {
				t.Errorf("%s: %s allowed", tt.name, u.Name)
			}
		}
	}
}
