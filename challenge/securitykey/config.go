// Package securitykey makes the gateway a WebAuthn relying party, on
// github.com/go-webauthn/webauthn: it starts and checks the registration
// and sign-in ceremonies of security keys and passkeys. It keeps no state:
// the engine stores the ceremonies under way and the registered keys.
package securitykey

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
)

// DefaultTimeout is how long a browser waits for the key, and how long a
// ceremony under way is kept.
const DefaultTimeout = 5 * time.Minute

// Config is how the gateway acts as a relying party, for every site.
type Config struct {
	// RPID is the relying-party id, a domain such as example.com: keys
	// registered on any site under it work on all of them. "" means each
	// site's own host name.
	RPID string
	// Origins are the origins (https://a.example.com) whose pages may use
	// the keys. Empty means the origin of the site the request reached.
	Origins []string
	// UserVerification is required, preferred or discouraged. "" is preferred.
	UserVerification string
	// Attestation is none, indirect or direct. "" is none.
	Attestation string
	// Timeout bounds a ceremony. 0 is DefaultTimeout.
	Timeout time.Duration
}

// Validate checks the configuration and fills in the defaults.
func (c *Config) Validate() error {
	c.RPID = strings.ToLower(strings.TrimSpace(c.RPID))
	if c.RPID != "" {
		if err := protocol.ValidateRPID(c.RPID); err != nil || strings.Contains(c.RPID, ":") || net.ParseIP(c.RPID) != nil {
			return fmt.Errorf("rp_id %q must be a domain name such as example.com, without scheme or port", c.RPID)
		}
	}
	for i, o := range c.Origins {
		canon, host, err := parseOrigin(o)
		if err != nil {
			return err
		}
		if c.RPID != "" && !within(host, c.RPID) {
			return fmt.Errorf("origin %q is not on %s or a subdomain of it (rp_id)", o, c.RPID)
		}
		c.Origins[i] = canon
	}
	switch c.UserVerification {
	case "":
		c.UserVerification = string(protocol.VerificationPreferred)
	case string(protocol.VerificationRequired), string(protocol.VerificationPreferred), string(protocol.VerificationDiscouraged):
	default:
		return fmt.Errorf("user_verification %q must be required, preferred or discouraged", c.UserVerification)
	}
	switch c.Attestation {
	case "":
		c.Attestation = string(protocol.PreferNoAttestation)
	case string(protocol.PreferNoAttestation), string(protocol.PreferIndirectAttestation), string(protocol.PreferDirectAttestation):
	default:
		return fmt.Errorf("attestation %q must be none, indirect or direct", c.Attestation)
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Timeout < 30*time.Second || c.Timeout > 10*time.Minute {
		return fmt.Errorf("timeout %s must be between 30s and 10m", c.Timeout)
	}
	return nil
}

// parseOrigin checks that o is an origin (scheme://host[:port], http or
// https, nothing after) and returns it in canonical form and its host name.
func parseOrigin(o string) (string, string, error) {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("origin %q must be a scheme and host such as https://login.example.com, with no path", o)
	}
	host := strings.ToLower(u.Hostname())
	if net.ParseIP(host) != nil {
		return "", "", fmt.Errorf("origin %q must name its host: browsers use security keys only on sites reached by a domain name", o)
	}
	if u.Scheme == "http" && !isLocal(host) {
		return "", "", fmt.Errorf("origin %q must be https: browsers use security keys over plain http only on localhost", o)
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), host, nil
}

// isLocal reports a host name that browsers treat as secure over plain
// http (addresses are too, but cannot use security keys at all).
func isLocal(host string) bool {
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// within reports whether host is domain or one of its subdomains.
func within(host, domain string) bool {
	return host == domain || strings.HasSuffix(host, "."+domain)
}

// Site is the relying party as one request sees it.
type Site struct {
	// RPID is the relying-party id the keys are bound to.
	RPID string
	// Origins are the origins allowed to answer.
	Origins []string
	// Name is the relying party's name, which some browsers show.
	Name string
}

// OriginError is a ceremony from a page whose origin may not use the keys
// of the relying-party id: a site left out of the configured origins, or
// one outside the relying-party id.
type OriginError struct {
	// Origin is the page's origin (or the site's host, before a ceremony).
	Origin string
	// RPID is the relying-party id of the keys.
	RPID string
	// Address is set when the site was reached by an IP address, which
	// cannot be a relying-party id.
	Address bool
}

func (e *OriginError) Error() string {
	if e.Address {
		return fmt.Sprintf("%s is an address: security keys need a site reached by a domain name", e.Origin)
	}
	return fmt.Sprintf("%s may not use security keys of %s (see webauthn rp_id and origins)", e.Origin, e.RPID)
}

// Site is the relying party for a request to host (host[:port], as in the
// Host header) of the organisation name. Without configured origins, the
// site's own origin is allowed, under https (and, on localhost, http:
// browsers use keys over plain http nowhere else). A host outside the relying-party id is an
// *OriginError: browsers would refuse it anyway, with a less helpful error.
func (c *Config) Site(host, name string) (Site, error) {
	host = strings.ToLower(host)
	hostname := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		hostname = h
	}
	rpid := c.RPID
	if rpid == "" {
		rpid = hostname
	}
	if net.ParseIP(strings.Trim(hostname, "[]")) != nil && c.RPID == "" {
		// Browsers take only a domain name as relying-party id, never an address.
		return Site{}, &OriginError{Origin: hostname, RPID: rpid, Address: true}
	}
	if !within(hostname, rpid) || protocol.ValidateRPID(rpid) != nil {
		return Site{}, &OriginError{Origin: hostname, RPID: rpid}
	}
	origins := c.Origins
	if len(origins) == 0 {
		origins = []string{"https://" + host}
		if isLocal(hostname) {
			origins = append(origins, "http://"+host)
		}
	}
	return Site{RPID: rpid, Origins: origins, Name: name}, nil
}

// ErrRejected is an answer from the browser that does not verify: made
// up, for another ceremony, or from a key the user does not have.
var ErrRejected = errors.New("the security key's answer was not accepted")

// ErrCloned is a sign-in whose signature counter did not grow: the key
// may have been copied.
var ErrCloned = errors.New("the signature counter of the security key went back: it may have been copied")
