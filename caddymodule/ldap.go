package caddymodule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/ldapdir"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// LDAPConfig takes users, groups and passwords from an LDAP directory or
// Active Directory instead of a users file: users are found by the service
// account's search, passwords are checked by binding as the user, and
// users' attributes and groups are kept in memory for cache_ttl (refreshed
// in the background), so that signed-in requests never wait on the
// directory. Placeholders such as {env.LDAP_PASSWORD} work in url,
// bind_dn, bind_password, base_dn and the tls files.
type LDAPConfig struct {
	// URL is the server: ldaps://host[:port] (TLS, port 636 by default)
	// or ldap://host[:port] (port 389), which needs start_tls unless the
	// host is this machine. Required.
	URL string `json:"url,omitempty"`
	// StartTLS upgrades an ldap:// connection to TLS before anything else
	// is sent. Default: off.
	StartTLS bool `json:"start_tls,omitempty"`
	// BindDN is the DN of the service account that searches for users.
	// Required.
	BindDN string `json:"bind_dn,omitempty"`
	// BindPassword is the service account's password; use a placeholder
	// such as {env.LDAP_PASSWORD}. Required.
	BindPassword string `json:"bind_password,omitempty"`
	// BaseDN is where users and groups are searched (the whole subtree).
	// Required.
	BaseDN string `json:"base_dn,omitempty"`
	// UserFilter finds a user by what they typed at sign-in: {input} is
	// replaced by it, escaped (RFC 4515). It must match one entry. Default:
	// the implementation's, e.g. (&(|(uid={input})(mail={input}))(objectClass=inetOrgPerson)).
	UserFilter string `json:"user_filter,omitempty"`
	// GroupFilter, if set, finds a user's groups by a search ({dn}: the
	// user's DN, {username}: the user name, {input}: as typed; escaped),
	// each named by its cn. Default: none, the groups are the user's
	// groups attribute (memberOf), except for activedirectory, which adds
	// the nested groups: (member:1.2.840.113556.1.4.1941:={dn}).
	GroupFilter string `json:"group_filter,omitempty"`
	// Attributes name the attributes read from user entries. Default: the
	// implementation's.
	Attributes *LDAPAttributes `json:"attributes,omitempty"`
	// Implementation is the preset of filters and attributes: "openldap"
	// (uid, cn, mail, memberOf), "freeipa" (uid, displayName, mail,
	// memberOf; nsAccountLock disables), "lldap" (uid, cn, mail, memberOf)
	// or "activedirectory" (sAMAccountName or userPrincipalName at
	// sign-in, displayName, mail, memberOf and nested groups; bit 2 of
	// userAccountControl disables; expired passwords are refused with a
	// message). Default: "openldap".
	Implementation string `json:"implementation,omitempty"`
	// TLS configures the TLS of ldaps:// and start_tls.
	TLS *LDAPTLS `json:"tls,omitempty"`
	// Timeout bounds each dial (with its TLS handshake and service bind),
	// bind and search; a directory slower than that is an outage (503).
	// Default: 5s.
	Timeout caddy.Duration `json:"timeout,omitempty"`
	// CacheTTL is how long a user's attributes and groups are trusted
	// without the directory confirming them: a user disabled or removed in
	// the directory loses access within it, and while the directory cannot
	// be reached, signed-in users keep access for at most this long.
	// Default: 1m.
	CacheTTL caddy.Duration `json:"cache_ttl,omitempty"`
}

// LDAPAttributes name the attributes read from user entries.
type LDAPAttributes struct {
	// Username is the user name the gateway uses (and the upstream gets
	// in Remote-User). Default: uid (sAMAccountName for activedirectory).
	Username string `json:"username,omitempty"`
	// DisplayName is the name pages and Remote-Name show. Default: cn
	// (displayName for freeipa and activedirectory).
	DisplayName string `json:"display_name,omitempty"`
	// Mail is the e-mail address (Remote-Email). Default: mail.
	Mail string `json:"mail,omitempty"`
	// Groups holds the DNs of the user's groups; each group is named by
	// its DN's first value (cn=staff,... is staff). Default: memberOf.
	Groups string `json:"groups,omitempty"`
}

// LDAPTLS configures TLS to the directory.
type LDAPTLS struct {
	// CAFile is a PEM file of the CA certificates that sign the server's
	// certificate. Default: the system's.
	CAFile string `json:"ca_file,omitempty"`
	// ServerName is the name the server's certificate must hold. Default:
	// the URL's host.
	ServerName string `json:"server_name,omitempty"`
	// InsecureSkipVerify accepts any server certificate. Refused unless
	// `development` is set.
	InsecureSkipVerify bool `json:"insecure_skip_verify,omitempty"`
}

// checkFirstFactor reports a configuration with neither or both of
// users_file and ldap.
func (a *App) checkFirstFactor(usersFile string) error {
	switch {
	case usersFile != "" && a.LDAP != nil:
		return errors.New("mfa: users_file and ldap are both set; use one of them")
	case a.LDAP != nil && a.UsersFileOptions != nil:
		return errors.New("mfa: users_file_options apply to users_file, not to ldap (the directory finds users by its own filter; see user_filter); remove them")
	case usersFile == "" && a.LDAP == nil:
		return errors.New("mfa: users_file is required, or ldap; set one in the global option: { mfa { users_file /path/users.yml } } or { mfa { ldap { url ldaps://... } } }")
	}
	return nil
}

// firstFactor opens the users file, or the LDAP directory (shared with
// the previous config when its settings are the same, so that its
// connections and cache survive a reload).
func (a *App) firstFactor(repl *caddy.Replacer, usersFile string, kv store.KV) (challenge.Directory, error) {
	if a.LDAP == nil {
		usersOpts, err := a.UsersFileOptions.options(repl, a.logger)
		if err != nil {
			return nil, fmt.Errorf("mfa: %w", err)
		}
		db, err := users.Open(usersFile, usersOpts)
		if err != nil {
			return nil, fmt.Errorf("mfa: %w", err)
		}
		return db, nil
	}
	cfg, err := a.LDAP.config(repl, a.Development)
	if err != nil {
		return nil, fmt.Errorf("mfa: %w", err)
	}
	cfg.Logger, cfg.Seen = a.logger, kv
	if _, err := ldapdir.New(cfg); err != nil { // checked before pooling
		return nil, fmt.Errorf("mfa: %w", err)
	}
	key, err := ldapPoolKey(cfg, a.storeName())
	if err != nil {
		return nil, fmt.Errorf("mfa: %w", err)
	}
	v, _, err := pool.LoadOrNew(key, func() (caddy.Destructor, error) {
		d, err := ldapdir.New(cfg)
		if err != nil {
			return nil, err
		}
		return pooledDirectory{d, newDirEnder(d)}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("mfa: %w", err)
	}
	a.pooled = append(a.pooled, key)
	p := v.(pooledDirectory)
	a.dirEnder = p.ender
	return p.Directory, nil
}

// ldapPoolKey names a directory in the pool by every setting it was made
// with (the password as a hash) and the store its record of users seen is
// kept in: the same settings share connections and cache across reloads.
func ldapPoolKey(c ldapdir.Config, store string) (string, error) {
	b, err := json.Marshal([]any{c.URL, c.StartTLS, c.BindDN, sha256.Sum256([]byte(c.BindPassword)), c.BaseDN, c.UserFilter,
		c.GroupFilter, c.GroupName, c.Attributes, c.Implementation, c.CAFile, c.ServerName, c.InsecureSkipVerify,
		c.AllowPlain, c.Timeout, c.CacheTTL, c.PoolSize, store})
	if err != nil {
		return "", fmt.Errorf("ldap: %w", err)
	}
	sum := sha256.Sum256(b)
	return "ldap:" + hex.EncodeToString(sum[:]), nil
}

// pooledDirectory is a directory and the ender of its users; it closes
// the directory when no config uses it any more.
type pooledDirectory struct {
	*ldapdir.Directory
	ender *dirEnder
}

// Destruct closes the directory's connections and stops its refresh.
func (p pooledDirectory) Destruct() error { return p.Close() }

// config is c with placeholders replaced, as ldapdir takes it.
func (c *LDAPConfig) config(repl *caddy.Replacer, development bool) (ldapdir.Config, error) {
	cfg := ldapdir.Config{
		URL: repl.ReplaceKnown(c.URL, ""), StartTLS: c.StartTLS,
		BindDN: repl.ReplaceKnown(c.BindDN, ""), BindPassword: repl.ReplaceKnown(c.BindPassword, ""),
		BaseDN: repl.ReplaceKnown(c.BaseDN, ""), UserFilter: c.UserFilter, GroupFilter: c.GroupFilter,
		Implementation: c.Implementation, Timeout: time.Duration(c.Timeout), CacheTTL: time.Duration(c.CacheTTL),
	}
	if c.Attributes != nil {
		cfg.Attributes = ldapdir.Attributes{Username: c.Attributes.Username, DisplayName: c.Attributes.DisplayName,
			Mail: c.Attributes.Mail, Groups: c.Attributes.Groups}
	}
	if c.TLS != nil {
		cfg.CAFile, cfg.ServerName = repl.ReplaceKnown(c.TLS.CAFile, ""), repl.ReplaceKnown(c.TLS.ServerName, "")
		if c.TLS.InsecureSkipVerify && !development {
			return cfg, errors.New("ldap: tls insecure_skip_verify accepts any server, so anyone on the path could read passwords; it is allowed only with `development`")
		}
		cfg.InsecureSkipVerify = c.TLS.InsecureSkipVerify
	}
	return cfg, nil
}

// startDirectory begins the directory's background refresh (once per
// pooled directory) and the ending of the access of users it reports gone
// (until ctx ends), and waits, at most its timeout, until the users who
// signed in before are loaded, so that a restart signs no one out (those
// still being loaded meanwhile are answered 503, see Engine.UserPending).
func (a *App) startDirectory(ctx context.Context) {
	if d, ok := a.engine.Users.(*ldapdir.Directory); ok {
		a.watchDirectory(ctx, a.dirEnder)
		d.Start()
		t := time.NewTimer(d.Config().Timeout)
		defer t.Stop()
		select {
		case <-d.Warm():
		case <-t.C:
		}
	}
}
