package ldapdir

import (
	"strings"
	"testing"
	"time"
)

func TestConfigBadValues(t *testing.T) {
	good := func() Config {
		return Config{URL: "ldaps://ldap.example.com", BindDN: "cn=svc,dc=example,dc=com", BindPassword: "pw", BaseDN: "dc=example,dc=com"}
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"scheme", func(c *Config) { c.URL = "http://ldap.example.com" }, "must be ldap://"},
		{"no host", func(c *Config) { c.URL = "ldaps://" }, "must be ldap://"},
		{"path", func(c *Config) { c.URL = "ldaps://h/dc=x" }, "must be ldap://"},
		{"plain remote", func(c *Config) { c.URL = "ldap://ldap.example.com" }, "clear text"},
		{"starttls ldaps", func(c *Config) { c.StartTLS = true }, "start_tls is for ldap://"},
		{"no bind", func(c *Config) { c.BindDN = "" }, "bind_dn and bind_password"},
		{"no bind password", func(c *Config) { c.BindPassword = "" }, "bind_dn and bind_password"},
		{"bad bind dn", func(c *Config) { c.BindDN = "not a dn" }, "bind_dn"},
		{"no base", func(c *Config) { c.BaseDN = "" }, "base_dn is required"},
		{"filter without input", func(c *Config) { c.UserFilter = "(uid=alice)" }, "must contain {input}"},
		{"bad filter", func(c *Config) { c.UserFilter = "(uid={input}" }, "not an LDAP filter"},
		{"group filter placeholder", func(c *Config) { c.GroupFilter = "(cn=x)" }, "must contain {dn}"},
		{"bad group filter", func(c *Config) { c.GroupFilter = "(member={dn}" }, "not an LDAP filter"},
		{"attribute", func(c *Config) { c.Attributes.Mail = "ma il" }, "attribute name"},
		{"implementation", func(c *Config) { c.Implementation = "novell" }, "unknown implementation"},
		{"timeout low", func(c *Config) { c.Timeout = time.Millisecond }, "timeout"},
		{"timeout high", func(c *Config) { c.Timeout = 2 * time.Minute }, "timeout"},
		{"ttl low", func(c *Config) { c.CacheTTL = time.Millisecond }, "cache_ttl"},
		{"ttl high", func(c *Config) { c.CacheTTL = 2 * time.Hour }, "cache_ttl"},
	} {
		c := good()
		tc.edit(&c)
		if _, err := New(c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	c := good()
	c.URL, c.StartTLS = "ldap://ldap.example.com", true
	d, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if cfg := d.Config(); cfg.Timeout != DefaultTimeout || cfg.CacheTTL != DefaultCacheTTL || cfg.Attributes.Username != "uid" ||
		cfg.Implementation != OpenLDAP {
		t.Fatalf("defaults: %+v", cfg)
	}
	for _, impl := range Implementations {
		c := good()
		c.Implementation = impl
		if _, err := New(c); err != nil {
			t.Errorf("preset %s: %v", impl, err)
		}
	}
}
