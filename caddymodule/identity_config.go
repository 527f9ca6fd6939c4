package caddymodule

import (
	"fmt"
	"net/textproto"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// The identity header names a route sends when its headers block does not
// rename them (Authelia's, which many apps already read).
const (
	defaultUserHeader   = "Remote-User"
	defaultGroupsHeader = "Remote-Groups"
	defaultNameHeader   = "Remote-Name"
	defaultEmailHeader  = "Remote-Email"
)

// IdentityHeaders renames the headers that tell the upstream who the user
// is, for apps that read other names (Grafana's and Gitea's auth proxy read
// X-WEBAUTH-USER). Each field left empty keeps its default. Whatever the
// names, every client-sent copy of them and of the default Remote-* names
// (in any case, with '_' or '.' for '-') is removed before the gateway's own
// are set, so a client can smuggle in neither.
type IdentityHeaders struct {
	// User carries the user name. Default: Remote-User.
	User string `json:"user,omitempty"`
	// Groups carries the user's groups, joined with commas. Default:
	// Remote-Groups.
	Groups string `json:"groups,omitempty"`
	// Name carries the user's display name. Default: Remote-Name.
	Name string `json:"name,omitempty"`
	// Email carries the user's e-mail address. Default: Remote-Email.
	Email string `json:"email,omitempty"`
}

// resolved returns the four names in use (user, groups, name, email), the
// defaults where c or a field of it is empty, in Go's canonical form.
func (c *IdentityHeaders) resolved() [4]string {
	n := [4]string{defaultUserHeader, defaultGroupsHeader, defaultNameHeader, defaultEmailHeader}
	if c != nil {
		for i, v := range [4]string{c.User, c.Groups, c.Name, c.Email} {
			if v != "" {
				n[i] = textproto.CanonicalMIMEHeaderKey(v)
			}
		}
	}
	return n
}

// identityHeaderFields are the names of IdentityHeaders' fields in the
// configuration, in the order of resolved.
var identityHeaderFields = [4]string{"user", "groups", "name", "email"}

// reservedHeaders may not carry an identity: the hop-by-hop headers (a
// proxy removes them), the ones that frame or route the request, the
// credentials, and the forwarding headers Caddy's reverse proxy writes.
// Keys are in the folded form of foldHeaderName.
var reservedHeaders = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-connection": true, "proxy-authenticate": true,
	"proxy-authorization": true, "te": true, "trailer": true, "transfer-encoding": true, "upgrade": true,
	"host": true, "cookie": true, "authorization": true, "content-length": true, "content-type": true,
	"content-encoding": true, "expect": true, "forwarded": true, "x-forwarded-for": true,
	"x-forwarded-host": true, "x-forwarded-proto": true, "x-real-ip": true,
}

// check reports a name that is not an HTTP token, is reserved, or is used
// twice (names equal once case, '_' and '.' are folded count as the same,
// since back ends such as PHP read them as one).
func (c *IdentityHeaders) check() error {
	if c == nil {
		return nil
	}
	for i, v := range [4]string{c.User, c.Groups, c.Name, c.Email} {
		if v == "" {
			continue
		}
		if !isToken(v) {
			return fmt.Errorf("headers: %s %q is not a header name (letters, digits and !#$%%&'*+-.^_`|~ only)", identityHeaderFields[i], v)
		}
		if reservedHeaders[foldHeaderName(v)] {
			return fmt.Errorf("headers: %s %q is a header HTTP or the proxy needs for itself; choose another name, e.g. X-Forwarded-User", identityHeaderFields[i], v)
		}
	}
	names := c.resolved()
	for i := range names {
		for j := range i {
			if foldHeaderName(names[i]) == foldHeaderName(names[j]) {
				return fmt.Errorf("headers: %s and %s would both be %q; give each its own name", identityHeaderFields[j], identityHeaderFields[i], names[i])
			}
		}
	}
	return nil
}

// isToken reports whether s is an HTTP token (RFC 9110, section 5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// foldHeaderName is name in lower case with '_' and '.' made '-': the
// names a CGI, PHP or nginx back end reads as one.
func foldHeaderName(name string) string {
	b := []byte(name)
	for i, c := range b {
		b[i] = foldByte(c)
	}
	return string(b)
}

// foldByte folds one byte of a header name as foldHeaderName does.
func foldByte(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c + ('a' - 'A')
	case c == '_' || c == '.':
		return '-'
	}
	return c
}

// unmarshalIdentityHeaders reads the handler's headers block:
//
//	headers {
//		user   <name>   # default Remote-User
//		groups <name>   # default Remote-Groups
//		name   <name>   # default Remote-Name
//		email  <name>   # default Remote-Email
//	}
func unmarshalIdentityHeaders(d *caddyfile.Dispenser, dst **IdentityHeaders) error {
	if *dst != nil {
		return d.Err("headers may be given only once")
	}
	if d.NextArg() {
		return d.Errf("headers takes a block, e.g. headers { user X-Forwarded-User }, not %q", d.Val())
	}
	c := new(IdentityHeaders)
	fields := map[string]*string{"user": &c.User, "groups": &c.Groups, "name": &c.Name, "email": &c.Email}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		field, ok := fields[d.Val()]
		if !ok {
			return d.Errf("unknown headers option %q; use user, groups, name or email", d.Val())
		}
		if *field != "" {
			return d.Errf("headers: %s may be given only once", d.Val())
		}
		key := d.Val()
		if !d.NextArg() {
			return d.Errf("headers: %s needs a header name, e.g. %s X-Forwarded-%s", key, key, strings.ToUpper(key[:1])+key[1:])
		}
		*field = d.Val()
		if d.NextArg() {
			return d.ArgErr()
		}
		if *field == "" {
			return d.Errf("headers: %s needs a header name", key)
		}
	}
	if *c == (IdentityHeaders{}) {
		return d.Err("headers needs at least one of user, groups, name, email")
	}
	if err := c.check(); err != nil {
		return d.Err(err.Error())
	}
	*dst = c
	return nil
}
