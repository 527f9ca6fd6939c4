package caddymodule

import (
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/providers"
)

// unmarshalLDAP reads the ldap block of the global mfa option:
//
//	ldap {
//		url            ldaps://ldap.example.com   # or ldap://... with start_tls
//		start_tls
//		bind_dn        cn=gateway,ou=services,dc=example,dc=com
//		bind_password  {env.LDAP_PASSWORD}
//		base_dn        dc=example,dc=com
//		user_filter    (&(|(uid={input})(mail={input}))(objectClass=inetOrgPerson))
//		group_filter   (&(objectClass=groupOfNames)(member={dn}))
//		attributes {
//			username     uid
//			display_name cn
//			mail         mail
//			groups       memberOf
//		}
//		implementation openldap | freeipa | lldap | activedirectory
//		tls {
//			ca_file              /etc/ssl/ldap-ca.pem
//			server_name          ldap.example.com
//			insecure_skip_verify # only with development
//		}
//		timeout   5s   # default 5s
//		cache_ttl 1m   # default 1m
//	}
func (a *App) unmarshalLDAP(d *caddyfile.Dispenser) error {
	if a.LDAP != nil {
		return d.Err("ldap may be given only once")
	}
	if d.NextArg() {
		return d.ArgErr()
	}
	c := new(LDAPConfig)
	a.LDAP = c
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "url":
			err = providers.OneArg(d, &c.URL)
		case "start_tls":
			err = flagArg(d, &c.StartTLS)
		case "bind_dn":
			err = providers.OneArg(d, &c.BindDN)
		case "bind_password":
			err = providers.OneArg(d, &c.BindPassword)
		case "base_dn":
			err = providers.OneArg(d, &c.BaseDN)
		case "user_filter":
			err = providers.OneArg(d, &c.UserFilter)
		case "group_filter":
			err = providers.OneArg(d, &c.GroupFilter)
		case "attributes":
			err = c.unmarshalAttributes(d)
		case "implementation":
			err = providers.OneArg(d, &c.Implementation)
		case "tls":
			err = c.unmarshalTLS(d)
		case "timeout":
			err = durationArgMin(d, &c.Timeout, 10*time.Millisecond)
		case "cache_ttl":
			err = durationArg(d, &c.CacheTTL)
		default:
			return d.Errf("unknown ldap option %q", d.Val())
		}
		if err != nil {
			return err
		}
	}
	if c.URL == "" || c.BaseDN == "" || c.BindDN == "" {
		return d.Err("ldap needs url, bind_dn and base_dn (and bind_password)")
	}
	return nil
}

func (c *LDAPConfig) unmarshalAttributes(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	if c.Attributes == nil {
		c.Attributes = new(LDAPAttributes)
	}
	at := c.Attributes
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "username":
			err = providers.OneArg(d, &at.Username)
		case "display_name":
			err = providers.OneArg(d, &at.DisplayName)
		case "mail":
			err = providers.OneArg(d, &at.Mail)
		case "groups":
			err = providers.OneArg(d, &at.Groups)
		default:
			return d.Errf("unknown ldap attribute %q; known: username, display_name, mail, groups", d.Val())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *LDAPConfig) unmarshalTLS(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	if c.TLS == nil {
		c.TLS = new(LDAPTLS)
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "ca_file":
			err = providers.OneArg(d, &c.TLS.CAFile)
		case "server_name":
			err = providers.OneArg(d, &c.TLS.ServerName)
		case "insecure_skip_verify":
			err = flagArg(d, &c.TLS.InsecureSkipVerify)
		default:
			return d.Errf("unknown ldap tls option %q", d.Val())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// flagArg sets a flag option, which takes no argument.
func flagArg(d *caddyfile.Dispenser, dst *bool) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	*dst = true
	return nil
}
