package ldapdir

import (
	"context"
	"sync"
	"testing"

	"github.com/caddy-mfa/caddy-mfa/internal/slapdtest"
)

// A user who may write their own mail (a common self-service right) sets
// it to another user's name: the refresh still finds that user by their
// own user name (the entry whose user-name attribute is theirs), so they
// are neither refused nor reported gone, and they still sign in; the
// sign-in of the typed name prefers the entry whose user name it is.
func TestAnotherEntryCannotEndAUser(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{})
	cfg := testConfig(s)
	cfg.UserFilter = "(&(objectClass=inetOrgPerson)(|(uid={input})(mail={input})))"
	d := newDir(t, cfg)
	var mu sync.Mutex
	var gone []string
	d.OnGone(func(names []string, known int) { mu.Lock(); gone = append(gone, names...); mu.Unlock() })
	if signIn(t, d, "alice", slapdtest.AlicePassword) != "alice" {
		t.Fatal("alice does not sign in")
	}
	s.Apply("ldapmodify", "dn: uid=bob,ou=people,dc=example,dc=org\nchangetype: modify\nadd: mail\nmail: alice\n")
	if err := d.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	told := append([]string(nil), gone...)
	mu.Unlock()
	if d.Lookup("alice") == nil || d.Gone("alice") || len(told) > 0 {
		t.Fatalf("bob's mail: alice made alice gone: Lookup %v, Gone %v, told %v", d.Lookup("alice"), d.Gone("alice"), told)
	}
	if got := signIn(t, d, "alice", slapdtest.AlicePassword); got != "alice" {
		t.Fatalf("alice signs in as %q after bob's mail: alice, want alice", got)
	}
	if got := signIn(t, d, "alice", slapdtest.BobPassword); got != "" {
		t.Fatalf("bob's password for the name alice signs in as %q", got)
	}
}

// A group whose name holds a comma would read as two groups in
// Remote-Groups (comma-separated, as Authelia sends it): such a group is
// left out, so no one gains a group by naming another "eng,superusers".
func TestGroupNameWithACommaLeftOut(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{})
	s.Apply("ldapadd", `dn: cn=eng\,superusers,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: eng,superusers
member: uid=bob,ou=people,dc=example,dc=org
`)
	d := newDir(t, testConfig(s))
	u, err := d.Authenticate(context.Background(), "bob", slapdtest.BobPassword)
	if err != nil || u == nil {
		t.Fatalf("bob: %v %v", u, err)
	}
	if u.GroupsHeader() != "staff" || u.InGroup("superusers") {
		t.Fatalf("bob's groups %q (Remote-Groups %q), want only staff", u.Groups, u.GroupsHeader())
	}
}

// A connection given back after the pool closed (a sign-in still under
// way when the config was replaced) is closed, not kept open forever.
func TestPoolClosesWhatComesBackAfterClose(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{})
	d := newDir(t, testConfig(s))
	c, err := d.pool.get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	d.pool.close()
	d.pool.put(c, false)
	if !c.IsClosing() || len(d.pool.idle) != 0 {
		t.Fatalf("a connection given back after close: closing %v, idle %d", c.IsClosing(), len(d.pool.idle))
	}
}
