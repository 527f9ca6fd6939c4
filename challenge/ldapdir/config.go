// Package ldapdir is the first factor from an LDAP directory or Active
// Directory: users are found by the service account's search, passwords
// are checked by binding as the user, and users' attributes and groups are
// kept in memory for a short time (refreshed in the background) so that
// signed-in requests never wait on the directory.
package ldapdir

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
	"go.uber.org/zap"
)

// Defaults.
const (
	// DefaultTimeout bounds each dial, bind and search.
	DefaultTimeout = 5 * time.Second
	// DefaultCacheTTL is how long a user's attributes and groups are
	// trusted without the directory confirming them: a user disabled or
	// removed in the directory loses access within it. One minute matches
	// users_end_after's grace for the users file; the background refresh
	// (every half TTL) costs one search per signed-in user per 30 s.
	DefaultCacheTTL = time.Minute
	// DefaultPoolSize is how many connections the service account keeps
	// open, and how many password checks run at once.
	DefaultPoolSize = 8
	// MaxInputLength is the longest user name accepted; longer ones are
	// refused before anything is sent to the directory.
	MaxInputLength = 256
)

// Implementation names a preset of filters and attributes.
const (
	OpenLDAP        = "openldap"
	FreeIPA         = "freeipa"
	LLDAP           = "lldap"
	ActiveDirectory = "activedirectory"
)

// Attributes name the directory attributes the gateway reads.
type Attributes struct {
	// Username is the canonical user name (uid; sAMAccountName in AD).
	Username string
	// DisplayName is the name pages show (cn, displayName).
	DisplayName string
	// Mail is the e-mail address.
	Mail string
	// Groups holds the DNs of the user's groups (memberOf); the first
	// RDN's value names each group.
	Groups string
}

// Config configures a Directory. Empty fields take the preset's values.
type Config struct {
	// URL is ldap://host[:port] or ldaps://host[:port].
	URL string
	// StartTLS upgrades an ldap:// connection with StartTLS.
	StartTLS bool
	// BindDN and BindPassword are the service account's.
	BindDN, BindPassword string
	// BaseDN is where users and groups are searched.
	BaseDN string
	// UserFilter finds a user by what they typed: {input} is replaced by
	// it, escaped.
	UserFilter string
	// GroupFilter, if set, finds the groups of a user ({dn}: the user's
	// DN; {username}: the user name; {input}: as typed; all escaped),
	// named by GroupName.
	GroupFilter string
	// GroupName is the attribute that names a group found by GroupFilter.
	GroupName string
	// Attributes are the attribute names read from user entries.
	Attributes Attributes
	// Implementation is the preset: openldap (default), freeipa, lldap or
	// activedirectory.
	Implementation string
	// CAFile, ServerName and InsecureSkipVerify configure TLS.
	CAFile, ServerName string
	InsecureSkipVerify bool
	// AllowPlain allows ldap:// without StartTLS to a host that is not
	// loopback (passwords cross the network in clear).
	AllowPlain bool
	// Timeout bounds each dial (with its TLS handshake and service bind),
	// bind and search. Default: DefaultTimeout.
	Timeout time.Duration
	// CacheTTL: see DefaultCacheTTL.
	CacheTTL time.Duration
	// PoolSize: see DefaultPoolSize.
	PoolSize int
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Logger is where outages and refreshes are logged (none if nil).
	Logger *zap.Logger
	// Seen keeps the names of users who signed in (nil: none kept).
	Seen Seen

	// disabled reads whether an entry is disabled (per preset).
	disabled func(*ldap.Entry) bool
	// disabledAttr is the attribute disabled reads.
	disabledAttr string
	// nested adds the groups of GroupFilter to those of Attributes.Groups.
	nested bool
}

// preset is one implementation's defaults.
type preset struct {
	userFilter, groupFilter, groupName string
	attrs                              Attributes
	disabledAttr                       string
	disabled                           func(*ldap.Entry) bool
	nested                             bool
}

// ChainRule is Active Directory's LDAP_MATCHING_RULE_IN_CHAIN, which makes
// member match through nested groups.
const ChainRule = "1.2.840.113556.1.4.1941"

var presets = map[string]preset{
	OpenLDAP: {
		userFilter: "(&(|(uid={input})(mail={input}))(objectClass=inetOrgPerson))",
		attrs:      Attributes{Username: "uid", DisplayName: "cn", Mail: "mail", Groups: "memberOf"},
	},
	FreeIPA: {
		userFilter:   "(&(|(uid={input})(mail={input}))(objectClass=person))",
		attrs:        Attributes{Username: "uid", DisplayName: "displayName", Mail: "mail", Groups: "memberOf"},
		disabledAttr: "nsAccountLock",
		disabled:     func(e *ldap.Entry) bool { return strings.EqualFold(e.GetAttributeValue("nsAccountLock"), "TRUE") },
	},
	LLDAP: {
		userFilter: "(&(|(uid={input})(mail={input}))(objectClass=person))",
		attrs:      Attributes{Username: "uid", DisplayName: "cn", Mail: "mail", Groups: "memberOf"},
	},
	ActiveDirectory: {
		userFilter:   "(&(|(sAMAccountName={input})(userPrincipalName={input}))(sAMAccountType=805306368))",
		groupFilter:  "(member:" + ChainRule + ":={dn})",
		groupName:    "cn",
		attrs:        Attributes{Username: "sAMAccountName", DisplayName: "displayName", Mail: "mail", Groups: "memberOf"},
		disabledAttr: "userAccountControl",
		disabled:     adDisabled,
		nested:       true,
	},
}

// Implementations lists the presets.
var Implementations = []string{OpenLDAP, FreeIPA, LLDAP, ActiveDirectory}

// resolve fills the preset's values into the empty fields and checks the
// configuration.
func (c *Config) resolve() error {
	if c.Implementation == "" {
		c.Implementation = OpenLDAP
	}
	p, ok := presets[c.Implementation]
	if !ok {
		return fmt.Errorf("ldap: unknown implementation %q; known: %s", c.Implementation, strings.Join(Implementations, ", "))
	}
	or := func(s *string, def string) {
		if *s == "" {
			*s = def
		}
	}
	or(&c.UserFilter, p.userFilter)
	if c.GroupFilter == "" {
		c.GroupFilter, c.nested = p.groupFilter, p.nested
	}
	or(&c.GroupName, p.groupName)
	or(&c.GroupName, "cn")
	or(&c.Attributes.Username, p.attrs.Username)
	or(&c.Attributes.DisplayName, p.attrs.DisplayName)
	or(&c.Attributes.Mail, p.attrs.Mail)
	or(&c.Attributes.Groups, p.attrs.Groups)
	c.disabled, c.disabledAttr = p.disabled, p.disabledAttr
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = DefaultCacheTTL
	}
	if c.PoolSize == 0 {
		c.PoolSize = DefaultPoolSize
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c.check()
}

// check reports the first bad value.
func (c *Config) check() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return fmt.Errorf("ldap: url %q must be ldap://host[:port] or ldaps://host[:port]", c.URL)
	}
	if c.StartTLS && u.Scheme == "ldaps" {
		return errors.New("ldap: start_tls is for ldap:// URLs; an ldaps:// URL is encrypted already")
	}
	if u.Scheme == "ldap" && !c.StartTLS && !c.AllowPlain && !isLoopback(u.Hostname()) {
		return fmt.Errorf("ldap: url %s would send passwords in clear text: use ldaps://, or start_tls", c.URL)
	}
	if c.BindDN == "" || c.BindPassword == "" {
		return errors.New("ldap: bind_dn and bind_password (the service account that searches for users) are required")
	}
	for name, dn := range map[string]string{"bind_dn": c.BindDN, "base_dn": c.BaseDN} {
		if dn == "" {
			return fmt.Errorf("ldap: %s is required", name)
		}
		if _, err := ldap.ParseDN(dn); err != nil {
			return fmt.Errorf("ldap: %s %q is not a DN: %w", name, dn, err)
		}
	}
	if !strings.Contains(c.UserFilter, "{input}") {
		return fmt.Errorf("ldap: user_filter %q must contain {input}, where the typed user name goes", c.UserFilter)
	}
	if _, err := ldap.CompileFilter(fill(c.UserFilter, map[string]string{"{input}": "x"})); err != nil {
		return fmt.Errorf("ldap: user_filter %q is not an LDAP filter: %w", c.UserFilter, err)
	}
	if c.GroupFilter != "" {
		if !strings.Contains(c.GroupFilter, "{dn}") && !strings.Contains(c.GroupFilter, "{username}") && !strings.Contains(c.GroupFilter, "{input}") {
			return fmt.Errorf("ldap: group_filter %q must contain {dn}, {username} or {input}", c.GroupFilter)
		}
		x := fill(c.GroupFilter, map[string]string{"{dn}": "x", "{username}": "x", "{input}": "x"})
		if _, err := ldap.CompileFilter(x); err != nil {
			return fmt.Errorf("ldap: group_filter %q is not an LDAP filter: %w", c.GroupFilter, err)
		}
	}
	for _, a := range []string{c.Attributes.Username, c.Attributes.DisplayName, c.Attributes.Mail, c.Attributes.Groups, c.GroupName} {
		if !validAttr(a) {
			return fmt.Errorf("ldap: attribute name %q is not valid (letters, digits and '-', starting with a letter)", a)
		}
	}
	if c.Timeout < 10*time.Millisecond || c.Timeout > time.Minute {
		return fmt.Errorf("ldap: timeout %s must be between 10ms and 1m (default %s)", c.Timeout, DefaultTimeout)
	}
	if c.CacheTTL < time.Second || c.CacheTTL > time.Hour {
		return fmt.Errorf("ldap: cache_ttl %s must be between 1s and 1h (default %s)", c.CacheTTL, DefaultCacheTTL)
	}
	if c.PoolSize < 1 || c.PoolSize > 256 {
		return fmt.Errorf("ldap: pool size %d must be between 1 and 256", c.PoolSize)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validAttr(a string) bool {
	if a == "" || !(a[0] >= 'a' && a[0] <= 'z' || a[0] >= 'A' && a[0] <= 'Z') {
		return false
	}
	for _, r := range a {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// fill replaces each placeholder of filter by its value (already escaped).
func fill(filter string, values map[string]string) string {
	pairs := make([]string, 0, 2*len(values))
	for k, v := range values {
		pairs = append(pairs, k, v)
	}
	return strings.NewReplacer(pairs...).Replace(filter)
}
