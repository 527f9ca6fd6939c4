package ldapdir

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// validInput reports whether typed may be sent to the directory at all:
// not empty, valid UTF-8, at most MaxInputLength bytes, and free of NUL
// and other control characters. Anything else is no user, decided before
// any filter is built.
func validInput(typed string) bool {
	if typed == "" || len(typed) > MaxInputLength || !utf8.ValidString(typed) {
		return false
	}
	for _, r := range typed {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// userFilter is the user filter for typed, escaped.
func (c *Config) userFilter(typed string) string {
	return fill(c.UserFilter, map[string]string{"{input}": ldap.EscapeFilter(typed)})
}

// attrs are the attributes read from a user entry.
func (c *Config) attrs() []string {
	a := []string{c.Attributes.Username, c.Attributes.DisplayName, c.Attributes.Mail, c.Attributes.Groups}
	if c.disabledAttr != "" {
		a = append(a, c.disabledAttr)
	}
	return a
}

// find searches for the one entry typed names; nil when none does. Two or
// more matching entries are no user either (and logged): the gateway
// never guesses which one is meant.
func (d *Directory) find(c *conn, typed string) (*ldap.Entry, error) {
	req := ldap.NewSearchRequest(d.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2,
		int(d.cfg.Timeout.Seconds()+1), false, d.cfg.userFilter(typed), d.cfg.attrs(), nil)
	res, err := c.Search(req)
	if ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) || (err == nil && len(res.Entries) > 1) {
		d.cfg.Logger.Warn("ldap: a user name matches more than one entry; refused", zap.String("url", d.cfg.URL))
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("searching for a user: %w", err)
	}
	if len(res.Entries) == 0 {
		return nil, nil
	}
	return res.Entries[0], nil
}

// user is the user an entry describes (groups from its groups attribute;
// see groups for the rest), or nil when its user name is unusable.
func (d *Directory) user(e *ldap.Entry, groups []string) *users.User {
	name := e.GetAttributeValue(d.cfg.Attributes.Username)
	if name == "" || strings.ContainsAny(name, " \t\r\n:/") || !validInput(name) {
		d.cfg.Logger.Warn("ldap: an entry has no usable user name; refused", zap.String("dn", e.DN),
			zap.String("attribute", d.cfg.Attributes.Username))
		return nil
	}
	disabled := d.cfg.disabled != nil && d.cfg.disabled(e)
	return users.NewDirectoryUser(name, e.GetAttributeValue(d.cfg.Attributes.DisplayName),
		e.GetAttributeValue(d.cfg.Attributes.Mail), groups, disabled)
}

// groups are the names of the groups of the user of entry e: the first
// RDN value of each DN in the groups attribute and, with a group filter,
// the GroupName of each group it finds.
func (d *Directory) groups(c *conn, e *ldap.Entry, typed string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(g string) {
		if g != "" && !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	if d.cfg.GroupFilter == "" || d.cfg.nested {
		for _, dn := range e.GetAttributeValues(d.cfg.Attributes.Groups) {
			add(rdnValue(dn))
		}
	}
	if d.cfg.GroupFilter != "" {
		f := fill(d.cfg.GroupFilter, map[string]string{
			"{dn}": ldap.EscapeFilter(e.DN), "{input}": ldap.EscapeFilter(typed),
			"{username}": ldap.EscapeFilter(e.GetAttributeValue(d.cfg.Attributes.Username)),
		})
		req := ldap.NewSearchRequest(d.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0,
			int(d.cfg.Timeout.Seconds()+1), false, f, []string{d.cfg.GroupName}, nil)
		// Paged: a user of many (nested) groups may pass the server's
		// size limit of one page (1000 in AD).
		res, err := c.SearchWithPaging(req, 500)
		if err != nil {
			return nil, fmt.Errorf("searching for the groups of %s: %w", e.DN, err)
		}
		for _, g := range res.Entries {
			add(g.GetAttributeValue(d.cfg.GroupName))
		}
	}
	return out, nil
}

// rdnValue is the value of the first RDN of dn ("staff" of
// "cn=staff,ou=groups,..."), or "" if dn does not parse.
func rdnValue(dn string) string {
	p, err := ldap.ParseDN(dn)
	if err != nil || len(p.RDNs) == 0 || len(p.RDNs[0].Attributes) == 0 {
		return ""
	}
	return p.RDNs[0].Attributes[0].Value
}

// adDisabled reads bit 2 (ACCOUNTDISABLE) of userAccountControl.
func adDisabled(e *ldap.Entry) bool {
	v := e.GetAttributeValue("userAccountControl")
	if v == "" {
		return false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return err != nil || n&2 != 0 // unreadable: disabled, failing closed
}

// adExpired reports an Active Directory bind refusal that names an
// expired password or account, or one that must be changed: the "data"
// code of the diagnostic message (532 password expired, 701 account
// expired, 773 must change password). AD says this only to a right
// password, so telling the user reveals nothing to a guesser.
func adExpired(err error) bool {
	if !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		return false
	}
	msg := err.Error()
	for _, code := range []string{"data 532,", "data 701,", "data 773,"} {
		if strings.Contains(msg, code) {
			return true
		}
	}
	return false
}
