package slapdtest

import (
	"os/exec"
	"strings"
	"testing"
)

func TestStartSeedsWithMemberOf(t *testing.T) {
	s := Start(t, Options{TLS: true})
	out, err := exec.Command("ldapsearch", "-x", "-H", s.URL, "-D", ServiceDN, "-w", ServicePassword,
		"-b", Suffix, "(uid=alice)", "memberOf").CombinedOutput()
	if err != nil {
		t.Fatalf("ldapsearch: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "memberOf: cn=admins,ou=groups,dc=example,dc=org") {
		t.Fatalf("alice has no memberOf from the overlay:\n%s", out)
	}
	s.Stop()
	if err := exec.Command("ldapsearch", "-x", "-H", s.URL, "-b", Suffix, "(uid=alice)").Run(); err == nil {
		t.Fatal("slapd still answers after Stop")
	}
	s.Start()
	if out, err := exec.Command("ldapsearch", "-x", "-H", s.URL, "-D", ServiceDN, "-w", ServicePassword,
		"-b", Suffix, "(uid=alice)").CombinedOutput(); err != nil {
		t.Fatalf("after restart: %v\n%s", err, out)
	}
}

func TestADSchema(t *testing.T) {
	s := Start(t, Options{ADSchema: true, LDIF: ADSeed})
	out, err := exec.Command("ldapsearch", "-x", "-H", s.URL, "-D", ServiceDN, "-w", ServicePassword,
		"-b", Suffix, "(sAMAccountName=DAVE)", "memberOf", "userAccountControl").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "memberOf: cn=engineers") {
		t.Fatalf("ldapsearch: %v\n%s", err, out)
	}
	out, _ = exec.Command("ldapsearch", "-x", "-H", s.URL, "-D", ServiceDN, "-w", ServicePassword,
		"-b", Suffix, "(member:1.2.840.113556.1.4.1941:=cn=Dave Jones,ou=people,dc=example,dc=org)", "cn").CombinedOutput()
	t.Logf("in-chain on slapd:\n%s", out)
}
