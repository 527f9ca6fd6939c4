package caddymodule

import (
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-mfa/caddy-mfa/challenge/ldapdir"
)

func ldapBlock(body string) string {
	return "mfa {\n\tldap {\n\t\turl ldaps://ldap.example.com\n\t\tbind_dn cn=gw,dc=example,dc=com\n\t\tbind_password {env.LDAP_PASSWORD}\n\t\tbase_dn dc=example,dc=com\n" + body + "\t}\n}"
}

func ldapWant(edit func(*LDAPConfig)) App {
	c := &LDAPConfig{URL: "ldaps://ldap.example.com", BindDN: "cn=gw,dc=example,dc=com", BindPassword: "{env.LDAP_PASSWORD}", BaseDN: "dc=example,dc=com"}
	edit(c)
	return App{LDAP: c}
}

func TestAppUnmarshalCaddyfileLDAP(t *testing.T) {
	expectGlobalApps(t, []globalCase{
		{"url bind_dn bind_password base_dn", ldapBlock(""), ldapWant(func(*LDAPConfig) {})},
		{"start_tls", ldapBlock("start_tls\n"), ldapWant(func(c *LDAPConfig) { c.StartTLS = true })},
		{"user_filter", ldapBlock("user_filter (&(uid={input})(objectClass=person))\n"),
			ldapWant(func(c *LDAPConfig) { c.UserFilter = "(&(uid={input})(objectClass=person))" })},
		{"group_filter", ldapBlock("group_filter (&(objectClass=groupOfNames)(member={dn}))\n"),
			ldapWant(func(c *LDAPConfig) { c.GroupFilter = "(&(objectClass=groupOfNames)(member={dn}))" })},
		{"attributes", ldapBlock("attributes {\nusername sAMAccountName\ndisplay_name displayName\nmail userPrincipalName\ngroups memberOf\n}\n"),
			ldapWant(func(c *LDAPConfig) {
				c.Attributes = &LDAPAttributes{Username: "sAMAccountName", DisplayName: "displayName", Mail: "userPrincipalName", Groups: "memberOf"}
			})},
		{"implementation", ldapBlock("implementation activedirectory\n"), ldapWant(func(c *LDAPConfig) { c.Implementation = "activedirectory" })},
		{"tls", ldapBlock("tls {\nca_file /etc/ca.pem\nserver_name ldap.internal\ninsecure_skip_verify\n}\n"),
			ldapWant(func(c *LDAPConfig) {
				c.TLS = &LDAPTLS{CAFile: "/etc/ca.pem", ServerName: "ldap.internal", InsecureSkipVerify: true}
			})},
		{"timeout", ldapBlock("timeout 750ms\n"), ldapWant(func(c *LDAPConfig) { c.Timeout = caddy.Duration(750 * time.Millisecond) })},
		{"cache_ttl", ldapBlock("cache_ttl 5m\n"), ldapWant(func(c *LDAPConfig) { c.CacheTTL = caddy.Duration(5 * time.Minute) })},
	})
}

func TestAppUnmarshalCaddyfileLDAPErrors(t *testing.T) {
	expectGlobalErrors(t, []globalErrorCase{
		{"twice", "mfa {\n\tldap {\n\t\turl ldaps://a\n\t\tbind_dn cn=a\n\t\tbase_dn dc=a\n\t}\n\tldap {\n\t}\n}", []string{"only once"}},
		{"argument", "mfa {\n\tldap ldaps://a\n}", []string{"wrong argument count"}},
		{"missing url", "mfa {\n\tldap {\n\t\tbind_dn cn=a\n\t\tbase_dn dc=a\n\t}\n}", []string{"needs url, bind_dn and base_dn"}},
		{"unknown option", ldapBlock("port 389\n"), []string{`unknown ldap option "port"`}},
		{"url two values", ldapBlock("url a b\n"), []string{"url takes one value"}},
		{"start_tls argument", ldapBlock("start_tls yes\n"), []string{"wrong argument count"}},
		{"unknown attribute", ldapBlock("attributes {\nphone telephoneNumber\n}\n"), []string{`unknown ldap attribute "phone"`}},
		{"attribute without value", ldapBlock("attributes {\nusername\n}\n"), []string{"username needs a value"}},
		{"unknown tls option", ldapBlock("tls {\ncert /x\n}\n"), []string{`unknown ldap tls option "cert"`}},
		{"insecure argument", ldapBlock("tls {\ninsecure_skip_verify yes\n}\n"), []string{"wrong argument count"}},
		{"bad timeout", ldapBlock("timeout soon\n"), []string{"timeout"}},
		{"tiny timeout", ldapBlock("timeout 1ms\n"), []string{"timeout"}},
		{"bad cache_ttl", ldapBlock("cache_ttl -\n"), []string{"cache_ttl"}},
	})
}

// TestLDAPProvisionChecks: the checks Provision makes of the ldap block.
func TestLDAPProvisionChecks(t *testing.T) {
	repl := caddy.NewReplacer()
	t.Setenv("LDAP_TEST_PASSWORD", "from-env")
	c := LDAPConfig{URL: "ldaps://ldap.example.com", BindDN: "cn=gw,dc=example,dc=com", BindPassword: "{env.LDAP_TEST_PASSWORD}", BaseDN: "dc=example,dc=com"}
	cfg, err := c.config(repl, false)
	if err != nil || cfg.BindPassword != "from-env" {
		t.Fatalf("placeholder: %q, %v", cfg.BindPassword, err)
	}
	c.TLS = &LDAPTLS{InsecureSkipVerify: true}
	if _, err := c.config(repl, false); err == nil || !strings.Contains(err.Error(), "only with `development`") {
		t.Fatalf("insecure_skip_verify without development: %v", err)
	}
	if cfg, err := c.config(repl, true); err != nil || !cfg.InsecureSkipVerify {
		t.Fatalf("insecure_skip_verify with development: %v", err)
	}
	a := &App{LDAP: &c}
	if err := a.checkFirstFactor("/u.yml"); err == nil || !strings.Contains(err.Error(), "both set") {
		t.Fatalf("both: %v", err)
	}
	if err := (&App{}).checkFirstFactor(""); err == nil || !strings.Contains(err.Error(), "users_file is required, or ldap") {
		t.Fatalf("neither: %v", err)
	}
	if err := a.checkFirstFactor(""); err != nil {
		t.Fatal(err)
	}
	withOpts := &App{LDAP: &c, UsersFileOptions: &UsersFileOptions{CaseInsensitive: true}}
	if err := withOpts.checkFirstFactor(""); err == nil || !strings.Contains(err.Error(), "users_file_options") {
		t.Fatalf("users_file_options with ldap (they would do nothing): %v", err)
	}
}

// TestLDAPPooledAcrossReloads: a reload with the same ldap settings keeps
// the directory (its connections and cache); other settings make another.
func TestLDAPPooledAcrossReloads(t *testing.T) {
	dir := t.TempDir()
	conf := func(ttl time.Duration) *App {
		return &App{DataDir: dir, StorageKey: testStorageKey, LDAP: &LDAPConfig{URL: "ldap://127.0.0.1:1", BindDN: "cn=gw,dc=example,dc=com",
			BindPassword: "pw", BaseDN: "dc=example,dc=com", CacheTTL: caddy.Duration(ttl)}}
	}
	a, b, c := conf(time.Minute), conf(time.Minute), conf(2*time.Minute)
	for _, x := range []*App{a, b, c} {
		if err := provision(t, x); err != nil {
			t.Fatal(err)
		}
	}
	if a.engine.Users != b.engine.Users {
		t.Error("the same ldap settings made a second directory")
	}
	if a.engine.Users == c.engine.Users {
		t.Error("another cache_ttl shares the directory")
	}
	k1, err := ldapPoolKey(ldapdir.Config{URL: "ldaps://a", BindPassword: "x"}, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := ldapPoolKey(ldapdir.Config{URL: "ldaps://a", BindPassword: "y"}, "embedded")
	k3, _ := ldapPoolKey(ldapdir.Config{URL: "ldaps://a", BindPassword: "x"}, "redis gw:")
	if k1 == k2 || k1 == k3 {
		t.Errorf("pool keys do not tell settings apart: %s %s %s", k1, k2, k3)
	}
}
