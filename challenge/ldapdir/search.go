package ldapdir

import (
	"errors"
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

// maxMatches is how many entries a search of one typed name reads at
// most: enough to pick out the one whose user name it is among entries
// that match it otherwise (a mail set to another's name).
const maxMatches = 8

// errAmbiguous is a name that several entries match, none of them by
// their own user name.
var errAmbiguous = errors.New("a user name matches more than one entry")

// find searches for the one entry typed names; nil when none does. Of
// several matching entries the one whose user name is typed is taken (a
// user who wrote another's name into their own mail cannot shadow them);
// otherwise several are no user (and logged): the gateway never guesses
// which one is meant.
func (d *Directory) find(c *conn, typed string) (*ldap.Entry, error) {
	e, err := d.search(c, d.cfg.userFilter(typed), typed)
	if errors.Is(err, errAmbiguous) {
		d.cfg.Logger.Warn("ldap: a user name matches more than one entry; refused", zap.String("url", d.cfg.URL))
		return nil, nil
	}
	return e, err
}

// findUser searches for the entry of the user named name (a canonical
// user name, for the refresh): user_filter and the user-name attribute
// both, so that only that user's own entry answers. errAmbiguous if
// several do: the caller keeps what it knew rather than end the user.
func (d *Directory) findUser(c *conn, name string) (*ldap.Entry, error) {
	filter := "(&" + d.cfg.userFilter(name) + "(" + d.cfg.Attributes.Username + "=" + ldap.EscapeFilter(name) + "))"
	return d.search(c, filter, name)
}

// search runs filter and returns its one entry (see find), nil for none.
func (d *Directory) search(c *conn, filter, typed string) (*ldap.Entry, error) {
	req := ldap.NewSearchRequest(d.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, maxMatches,
		int(d.cfg.Timeout.Seconds()+1), false, filter, d.cfg.attrs(), nil)
	res, err := c.Search(req)
	if ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return nil, errAmbiguous
	}
	if err != nil {
		return nil, fmt.Errorf("searching for a user: %w", err)
	}
	switch len(res.Entries) {
	case 0:
		return nil, nil
	case 1:
		return res.Entries[0], nil
	}
	var own *ldap.Entry
	for _, e := range res.Entries {
		if strings.EqualFold(e.GetAttributeValue(d.cfg.Attributes.Username), typed) {
			if own != nil {
				return nil, errAmbiguous
			}
			own = e
		}
	}
	if own == nil {
		return nil, errAmbiguous
	}
	return own, nil
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
		if strings.ContainsAny(g, ",\r\n") {
			// Remote-Groups is comma-separated: "eng,superusers" would
			// read as two groups there.
			d.cfg.Logger.Warn("ldap: a group whose name holds a comma or a line break is left out", zap.String("group", g))
			return
		}
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
