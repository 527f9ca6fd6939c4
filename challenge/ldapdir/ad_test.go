package ldapdir

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/caddy-mfa/caddy-mfa/challenge/users"
	"github.com/caddy-mfa/caddy-mfa/internal/slapdtest"
)

// TestActiveDirectoryPreset runs the activedirectory preset's filters and
// attribute mapping against slapd seeded with AD-shaped entries (this is
// not AD: slapd does not know LDAP_MATCHING_RULE_IN_CHAIN, so the nested
// group search finds nothing there and only the direct memberOf groups
// show).
func TestActiveDirectoryPreset(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{ADSchema: true, LDIF: slapdtest.ADSeed})
	cfg := testConfig(s)
	cfg.Implementation = ActiveDirectory
	d := newDir(t, cfg)
	if got := d.Config().GroupFilter; got != "(member:1.2.840.113556.1.4.1941:={dn})" {
		t.Fatalf("AD group filter %q", got)
	}
	if !strings.Contains(d.cfg.userFilter("dave"), "(sAMAccountName=dave)(userPrincipalName=dave)") {
		t.Fatalf("AD user filter %q", d.cfg.userFilter("dave"))
	}
	for _, typed := range []string{"dave", "DAVE", "dave@corp.example.com"} {
		u, err := d.Authenticate(context.Background(), typed, "dave-password")
		if err != nil || u == nil {
			t.Fatalf("%s: %v %v", typed, u, err)
		}
		if u.Name != "dave" || u.DisplayName != "Dave Jones" || u.Email != "dave@example.com" || !slices.Equal(u.Groups, []string{"engineers"}) {
			t.Fatalf("%s signed in as %+v", typed, u)
		}
	}
	if u, err := d.Authenticate(context.Background(), "erin", "erin-password"); err != nil || u != nil {
		t.Fatalf("erin, disabled by userAccountControl 514: %v %v", u, err)
	}
	// objectClass user also holds computer accounts (and managed service
	// and trust accounts); a pre-Windows-2000 computer's password is its
	// name: only normal user accounts (sAMAccountType 805306368) sign in.
	if u, err := d.Authenticate(context.Background(), "PC01$", "pc01"); err != nil || u != nil {
		t.Fatalf("computer account PC01$ signed in: %+v %v", u, err)
	}
}

func TestADDisabledBit(t *testing.T) {
	for v, want := range map[string]bool{"": false, "512": false, "514": true, "66050": true, "66048": false, "junk": true} {
		e := ldap.NewEntry("cn=x", map[string][]string{"userAccountControl": {v}})
		if v == "" {
			e = ldap.NewEntry("cn=x", nil)
		}
		if got := adDisabled(e); got != want {
			t.Errorf("userAccountControl %q: disabled %v, want %v", v, got, want)
		}
	}
}

// TestADExpiredPassword reads the data code of AD's bind refusal, as AD
// writes it (AD itself cannot run here).
func TestADExpiredPassword(t *testing.T) {
	msg := func(code string) error {
		return ldap.NewError(ldap.LDAPResultInvalidCredentials,
			errors.New("80090308: LdapErr: DSID-0C09030B, comment: AcceptSecurityContext error, data "+code+", v893"))
	}
	for code, want := range map[string]bool{"532": true, "701": true, "773": true, "52e": false, "775": false} {
		if got := adExpired(msg(code)); got != want {
			t.Errorf("data %s: expired %v, want %v", code, got, want)
		}
	}
	if adExpired(ldap.NewError(ldap.LDAPResultOperationsError, errors.New("data 532, v893"))) {
		t.Error("not an invalid-credentials answer")
	}
	if users.ErrPasswordExpired.Error() == "" {
		t.Error("no message")
	}
}
