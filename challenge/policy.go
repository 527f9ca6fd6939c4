package challenge

import (
	"slices"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// Policy is what one protected route requires beyond a signed-in user.
type Policy struct {
	// AllowUsers, if set, lists the users allowed.
	AllowUsers []string
	// AllowGroups, if set, lists groups whose members are allowed.
	AllowGroups []string
}

// Allows reports whether u may use the route. With neither list set every
// signed-in user may; with both, being in either list is enough.
func (p *Policy) Allows(u *users.User) bool {
	if len(p.AllowUsers) == 0 && len(p.AllowGroups) == 0 {
		return true
	}
	if slices.Contains(p.AllowUsers, u.Name) {
		return true
	}
	for _, g := range p.AllowGroups {
		if u.InGroup(g) {
			return true
		}
	}
	return false
}
