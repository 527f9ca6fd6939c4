package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/internal/slapdtest"
)

func TestTestLDAPPrintsWhatTheGatewaySees(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{})
	t.Setenv("TEST_LDAP_PW", slapdtest.ServicePassword)
	conf := func(pw string) []byte {
		b, _ := json.Marshal(map[string]any{"apps": map[string]any{"mfa": map[string]any{"ldap": map[string]any{
			"url": s.URL, "bind_dn": slapdtest.ServiceDN, "bind_password": pw, "base_dn": slapdtest.Suffix}}}})
		return b
	}
	var out bytes.Buffer
	if err := testLDAP(context.Background(), &out, conf("{env.TEST_LDAP_PW}"), "alice@example.com"); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"service bind:   ok", "user search:    ok", "dn:             uid=alice,ou=people,dc=example,dc=org",
		"user name:      alice", "display name:   Alice Liddell", "mail:           alice@example.com", "groups:         admins, staff", "disabled:       false"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), slapdtest.ServicePassword) {
		t.Error("the output shows the service password")
	}
	out.Reset()
	if err := testLDAP(context.Background(), &out, conf("{env.TEST_LDAP_PW}"), "nobody"); err == nil || !strings.Contains(err.Error(), "no single entry matches") {
		t.Errorf("unknown user: %v", err)
	}
	if err := testLDAP(context.Background(), &out, conf("wrong"), ""); err == nil || !strings.Contains(err.Error(), "service bind") {
		t.Errorf("wrong service password: %v", err)
	}
	if err := testLDAP(context.Background(), &out, []byte(`{"apps":{"mfa":{"users_file":"/u.yml"}}}`), ""); err == nil || !strings.Contains(err.Error(), "no mfa { ldap") {
		t.Errorf("no ldap block: %v", err)
	}
}
