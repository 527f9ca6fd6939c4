package ldapdir

import (
	"context"
	"fmt"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// Found is what the gateway would see of a user: the entry's DN and the
// user made of it (Disabled set when the directory disables them).
type Found struct {
	DN   string
	User *users.User
}

// Check connects and binds as the service account (the first steps of
// every sign-in), bounded by Timeout.
func (d *Directory) Check(ctx context.Context) error {
	c, err := d.pool.get(ctx)
	if err != nil {
		return d.unavailable(err)
	}
	d.pool.put(c, false)
	return nil
}

// Describe searches for typed as a sign-in would, without a password, and
// returns what the gateway would see, or nil when no single entry matches.
func (d *Directory) Describe(ctx context.Context, typed string) (*Found, error) {
	if !validInput(typed) {
		return nil, fmt.Errorf("ldap: %q is not a user name the gateway sends to the directory", typed)
	}
	c, err := d.pool.get(ctx)
	if err != nil {
		return nil, d.unavailable(err)
	}
	e, err := d.find(c, typed)
	if err != nil || e == nil {
		d.pool.put(c, err != nil && isNetwork(err))
		if err != nil {
			return nil, d.unavailable(err)
		}
		return nil, nil
	}
	groups, err := d.groups(c, e, typed)
	d.pool.put(c, err != nil && isNetwork(err))
	if err != nil {
		return nil, d.unavailable(err)
	}
	u := d.user(e, groups)
	if u == nil {
		return nil, fmt.Errorf("ldap: entry %s has no usable %s", e.DN, d.cfg.Attributes.Username)
	}
	return &Found{DN: e.DN, User: u}, nil
}
