package caddymodule

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/portal"
)

// The ways a registration policy accepts (RegistrationConfig.Require).
const (
	requireOpen            = "open"
	requireTemporaryPass   = "temporary_pass"
	requireTrustedNetworks = "trusted_networks"
	requireVerifiedEmail   = "verified_email"
)

// RegistrationConfig is who may register a first second factor right
// after the password. Without it, anyone who has a user's password may
// (open), which the gateway warns about at start.
type RegistrationConfig struct {
	// Require lists the ways a user without a method may register one;
	// any one suffices: "open" (anyone who gave the password),
	// "temporary_pass" (a pass an administrator issued with `caddy mfa
	// temporary-pass`), "trusted_networks" (a client address in
	// Networks), "verified_email" (a code e-mailed to the address the
	// users file or directory has; needs smtp). A temporary access pass is
	// accepted whatever this lists. Default: ["open"].
	Require []string `json:"require,omitempty"`
	// Networks are the client networks (CIDRs or single addresses; not
	// "private_ranges", and none holding a loopback address) of
	// trusted_networks. The client address is the
	// one Caddy determines, honouring the server's trusted_proxies.
	Networks []string `json:"networks,omitempty"`
	// Until, an RFC 3339 time such as "2027-01-31T00:00:00Z", ends
	// self-registration (open, trusted_networks, verified_email) then:
	// from that time only a temporary access pass lets a user without a
	// method register. Default: no end.
	Until string `json:"until,omitempty"`
}

// policy checks c and makes the portal's policy of it; hasMail says
// whether smtp is set.
func (c *RegistrationConfig) policy(repl *caddy.Replacer, hasMail bool) (*portal.Registration, error) {
	if c == nil {
		return &portal.Registration{Open: true}, nil
	}
	if len(c.Require) == 0 {
		return nil, errors.New("registration: require needs at least one of open, temporary_pass, trusted_networks, verified_email")
	}
	g := &portal.Registration{}
	for _, r := range c.Require {
		switch r {
		case requireOpen:
			g.Open = true
		case requireTemporaryPass:
		case requireTrustedNetworks:
			if len(c.Networks) == 0 {
				return nil, errors.New("registration: require trusted_networks needs networks <cidr...>, e.g. networks 10.20.0.0/16")
			}
		case requireVerifiedEmail:
			if !hasMail {
				return nil, errors.New("registration: require verified_email needs smtp { ... } in the global mfa block, to send the codes")
			}
			g.VerifiedEmail = true
		default:
			return nil, fmt.Errorf("registration: unknown requirement %q; use open, temporary_pass, trusted_networks or verified_email", r)
		}
	}
	if g.Open && len(c.Require) > 1 {
		return nil, errors.New("registration: open lets everyone register, so the other requirements would change nothing; keep open alone, or drop it")
	}
	if len(c.Networks) > 0 && !slices.Contains(c.Require, requireTrustedNetworks) {
		return nil, errors.New("registration: networks are given but require does not list trusted_networks")
	}
	for _, n := range c.Networks {
		v := repl.ReplaceKnown(n, "")
		if v == "private_ranges" {
			// Loopback and the ranges of Docker and Kubernetes are in it:
			// behind a proxy on this machine or a source NAT, every
			// client on the Internet has such an address.
			return nil, errors.New("registration: networks: give explicit networks such as 10.20.0.0/16, not private_ranges (which holds loopback and the ranges of Docker and Kubernetes, where every client may appear behind a proxy or a NAT)")
		}
		p := parseNetworks(v)
		if p == nil {
			return nil, fmt.Errorf("registration: networks: %q is not a CIDR such as 10.0.0.0/8 or an address", n)
		}
		for _, q := range p {
			if err := registrationNetwork(q); err != nil {
				return nil, err
			}
		}
		g.Networks = append(g.Networks, p...)
	}
	if c.Until != "" && repl.ReplaceKnown(c.Until, "") == "" {
		return nil, fmt.Errorf("registration: until %q is empty once its placeholders are replaced: self-registration would never end", c.Until)
	}
	if u := repl.ReplaceKnown(c.Until, ""); u != "" {
		t, err := time.Parse(time.RFC3339, u)
		if err != nil {
			return nil, fmt.Errorf("registration: until %q is not an RFC 3339 time such as 2027-01-31T00:00:00Z: %w", u, err)
		}
		g.Until = t
	}
	return g, nil
}

// loopbackNets are the loopback networks: behind a proxy on the same
// machine (without trusted_proxies) every client has such an address.
func loopbackNets() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// registrationNetwork refuses a registration network that holds loopback
// addresses, or is wider than a /8 (IPv4) or a /16 (IPv6): such a network
// is no office.
func registrationNetwork(q netip.Prefix) error {
	for _, l := range loopbackNets() {
		if q.Overlaps(l) {
			return fmt.Errorf("registration: networks: %s holds loopback addresses: behind a proxy on this machine every client would have one", q)
		}
	}
	if q.Addr().Is4() && q.Bits() < 8 || !q.Addr().Is4() && q.Bits() < 16 {
		return fmt.Errorf("registration: networks: %s is too wide for trusted networks: give the office's networks (a /8 at most for IPv4, a /16 for IPv6)", q)
	}
	return nil
}

// warnRegistration says at start what the registration policy g leaves
// open.
func (a *App) warnRegistration(g *portal.Registration, now time.Time) {
	for _, msg := range registrationWarnings(g, a.LDAP != nil, now) {
		a.logger.Warn(msg)
	}
}

// registrationWarnings are the weaknesses of policy g at now (with users
// from a directory if directory).
func registrationWarnings(g *portal.Registration, directory bool, now time.Time) []string {
	var out []string
	if g.Open && (g.Until.IsZero() || now.Before(g.Until)) {
		msg := "registration is open: whoever first signs in with a user's password registers the second factor, so a stolen password of a user who has not registered yet is enough to take the account; set registration { require temporary_pass } (or trusted_networks, verified_email, until)"
		if !g.Until.IsZero() {
			msg = "registration is open until " + g.Until.UTC().Format(time.RFC3339) + ": until then, whoever first signs in with a user's password registers the second factor"
		}
		out = append(out, msg)
	}
	if g.VerifiedEmail && directory {
		out = append(out, "registration verified_email with ldap: the mailbox usually takes the same directory password, so whoever has the password reads the code too; prefer temporary_pass or trusted_networks")
	}
	return out
}

// unmarshalRegistration reads
//
//	registration {
//		require  open|temporary_pass|trusted_networks|verified_email...
//		networks <cidr...>
//		until    <RFC 3339 time>
//	}
func unmarshalRegistration(d *caddyfile.Dispenser, dst **RegistrationConfig) error {
	if *dst != nil {
		return d.Err("registration may be given only once")
	}
	if d.NextArg() {
		return d.ArgErr()
	}
	c := new(RegistrationConfig)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch d.Val() {
		case "require":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.Err("require needs one or more of open, temporary_pass, trusted_networks, verified_email")
			}
			for _, r := range args {
				switch r {
				case requireOpen, requireTemporaryPass, requireTrustedNetworks, requireVerifiedEmail:
				default:
					return d.Errf("require %q: use open, temporary_pass, trusted_networks or verified_email", r)
				}
			}
			c.Require = append(c.Require, args...)
		case "networks":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.Err("networks needs at least one network, e.g. 10.20.0.0/16")
			}
			for _, n := range args {
				if !strings.Contains(n, "{") && parseNetworks(n) == nil {
					return d.Errf("networks: %q is not a CIDR such as 10.20.0.0/16 or an address", n)
				}
			}
			c.Networks = append(c.Networks, args...)
		case "until":
			args := d.RemainingArgs()
			if len(args) != 1 {
				return d.Err("until needs one RFC 3339 time, e.g. until 2027-01-31T00:00:00Z")
			}
			if !strings.Contains(args[0], "{") {
				if _, err := time.Parse(time.RFC3339, args[0]); err != nil {
					return d.Errf("until %q is not an RFC 3339 time such as 2027-01-31T00:00:00Z", args[0])
				}
			}
			c.Until = args[0]
		default:
			return d.Errf("unknown registration option %q", d.Val())
		}
	}
	if len(c.Require) == 0 {
		return d.Err("registration needs require, e.g. registration { require temporary_pass }")
	}
	*dst = c
	return nil
}
