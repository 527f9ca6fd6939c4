package ldapdir

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
	"github.com/caddy-mfa/caddy-mfa/internal/slapdtest"
)

func TestSignInGroupsAndAttributes(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{})
	d := newDir(t, testConfig(s))
	ctx := context.Background()
	u, err := d.Authenticate(ctx, "alice", slapdtest.AlicePassword)
	if err != nil || u == nil {
		t.Fatalf("alice with her password: %v, %v", u, err)
	}
	if u.Name != "alice" || u.DisplayName != "Alice Liddell" || u.Email != "alice@example.com" ||
		!slices.Equal(u.Groups, []string{"admins", "staff"}) || u.GroupsHeader() != "admins,staff" {
		t.Fatalf("alice is %+v", u)
	}
	if got := d.Lookup("alice"); got == nil || got.Name != "alice" {
		t.Fatalf("Lookup after sign-in: %v", got)
	}
	for _, typed := range []string{"ALICE", "alice@example.com"} {
		if n := signIn(t, d, typed, slapdtest.AlicePassword); n != "alice" {
			t.Errorf("sign-in as %q gave %q, want the canonical alice", typed, n)
		}
		if c, err := d.CanonicalName(ctx, typed); err != nil || c != "alice" {
			t.Errorf("CanonicalName(%q) = %q, %v", typed, c, err)
		}
	}
	if c, _ := d.CanonicalName(ctx, "nobody"); c != "nobody" {
		t.Errorf("CanonicalName of an unknown name = %q, want it unchanged", c)
	}
	for _, tc := range []struct{ name, pw string }{
		{"alice", "wrong"}, {"alice", ""}, {"nobody", slapdtest.AlicePassword}, {"bob", slapdtest.AlicePassword},
	} {
		if n := signIn(t, d, tc.name, tc.pw); n != "" {
			t.Errorf("%q with %q signed in as %q", tc.name, tc.pw, n)
		}
	}
	if n := signIn(t, d, "carol", slapdtest.CarolPassword); n != "carol" {
		t.Fatalf("carol: %q", n)
	}
	if g := d.Lookup("carol").Groups; len(g) != 0 {
		t.Errorf("carol's groups: %v", g)
	}
}

func TestFilterInjectionRefused(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{})
	d := newDir(t, testConfig(s))
	ctx := context.Background()
	for _, typed := range []string{"*", "*)(uid=*", "admin)(|(uid=*", "alice)(|(uid=*", "al*", "alice\x00", "\x00", "alice\x00)(uid=*",
		"a\\2a", strings.Repeat("a", MaxInputLength+1), "\xff\xfe"} {
		for _, pw := range []string{slapdtest.AlicePassword, "x"} {
			u, err := d.Authenticate(ctx, typed, pw)
			if err != nil || u != nil {
				t.Errorf("Authenticate(%q, %q) = %v, %v; want no user and no error", typed, pw, u, err)
			}
		}
		if c, err := d.CanonicalName(ctx, typed); err != nil || c != typed {
			t.Errorf("CanonicalName(%q) = %q, %v; want the input unchanged (no user)", typed, c, err)
		}
	}
	if got := d.cfg.userFilter("*)(uid=*"); !strings.Contains(got, `\2a\29\28uid=\2a`) {
		t.Errorf("filter not escaped: %s", got)
	}
}

func TestDisabledAndRemovedLoseAccessWithinTTL(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{ADSchema: true, LDIF: slapdtest.ADSeed + `
dn: cn=Fay Gone,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
objectClass: user
cn: Fay Gone
sn: Gone
sAMAccountName: fay
userAccountControl: 512
sAMAccountType: 805306368
userPassword: fay-password
`})
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	cfg := testConfig(s)
	cfg.Implementation, cfg.CacheTTL, cfg.Now = ActiveDirectory, time.Minute, clk.Now
	d := newDir(t, cfg)
	for _, u := range []struct{ name, pw string }{{"dave", "dave-password"}, {"fay", "fay-password"}} {
		if n := signIn(t, d, u.name, u.pw); n != u.name {
			t.Fatalf("%s: %q", u.name, n)
		}
	}
	s.Apply("ldapmodify", "dn: cn=Dave Jones,ou=people,dc=example,dc=org\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 514\n")
	s.Apply("ldapdelete", "cn=Fay Gone,ou=people,dc=example,dc=org\n")
	if d.Lookup("dave") == nil || d.Lookup("fay") == nil {
		t.Fatal("the cache forgot before its refresh")
	}
	clk.Add(cfg.CacheTTL / 2)
	if err := d.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if u := d.Lookup("dave"); u != nil {
		t.Errorf("dave, disabled in the directory, still passes after the refresh: %+v", u)
	}
	if u := d.Lookup("fay"); u != nil {
		t.Errorf("fay, removed from the directory, still passes after the refresh: %+v", u)
	}
	if n := signIn(t, d, "dave", "dave-password"); n != "" {
		t.Errorf("disabled dave signed in")
	}
	names := []string{}
	for _, u := range d.All() {
		names = append(names, u.Name)
	}
	if !slices.Equal(names, []string{"dave"}) || !d.All()[0].Disabled {
		t.Errorf("All() = %v, want dave (disabled) only", names)
	}
}

func TestStaleCacheFailsClosedAndOutageIs503(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{})
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	cfg := testConfig(s)
	cfg.CacheTTL, cfg.Now, cfg.Timeout = time.Minute, clk.Now, 500*time.Millisecond
	d := newDir(t, cfg)
	if signIn(t, d, "alice", slapdtest.AlicePassword) != "alice" {
		t.Fatal("alice")
	}
	s.Stop()
	clk.Add(50 * time.Second)
	if d.Lookup("alice") == nil {
		t.Fatal("within the TTL, a signed-in user must still pass with the directory down")
	}
	if err := d.Refresh(context.Background()); !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), s.URL) {
		t.Fatalf("refresh with the directory down: %v; want ErrUnavailable naming %s", err, s.URL)
	}
	_, err := d.Authenticate(context.Background(), "alice", slapdtest.AlicePassword)
	if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), s.URL) {
		t.Fatalf("sign-in with the directory down: %v", err)
	}
	if !errors.Is(err, ErrServer) {
		t.Fatalf("sign-in with the directory down: %v; want ErrServer, for the metrics", err)
	}
	if strings.Contains(err.Error(), slapdtest.AlicePassword) {
		t.Fatal("the error holds the password")
	}
	clk.Add(11 * time.Second)
	if d.Lookup("alice") != nil {
		t.Fatal("past the TTL without the directory confirming, alice must be refused")
	}
	if d.Pending("alice") {
		t.Fatal("not started: nothing refreshes, nothing is pending")
	}
	d.Start()
	<-d.Warm()
	if !d.Pending("alice") {
		t.Fatal("past the TTL with the directory down, alice is pending (503), not gone")
	}
	s.Start()
	if err := d.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d.Lookup("alice") == nil || d.Pending("alice") {
		t.Fatal("the directory is back: alice passes again after the refresh")
	}
	if n := signIn(t, d, "alice", slapdtest.AlicePassword); n != "alice" {
		t.Fatal("the directory is back, but sign-in does not work again by itself")
	}
}

func TestLookupMissFetchesInBackground(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{})
	kv := store.NewMemoryKV()
	cfg := testConfig(s)
	cfg.Seen = kv
	d := newDir(t, cfg)
	d.Start()
	if signIn(t, d, "bob", slapdtest.BobPassword) != "bob" {
		t.Fatal("bob")
	}
	// Another gateway (or this one restarted) with the same store.
	d2 := newDir(t, cfg)
	if d2.Lookup("alice") != nil {
		t.Fatal("a cache miss must not wait on the directory")
	}
	d2.Start()
	deadline := time.Now().Add(5 * time.Second)
	for d2.Lookup("alice") == nil || d2.Lookup("bob") == nil {
		if time.Now().After(deadline) {
			t.Fatalf("alice (looked up) and bob (seen) not fetched in the background: %v %v", d2.Lookup("alice"), d2.Lookup("bob"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if d2.Lookup("bob").Email != "bob@example.com" {
		t.Fatal("bob's attributes")
	}
	if d2.Lookup("nobody") != nil {
		t.Fatal("nobody")
	}
}

func TestGateBoundsChecks(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{})
	cfg := testConfig(s)
	cfg.PoolSize = 1
	d := newDir(t, cfg)
	if d.Gate().Slots() != 1 {
		t.Fatalf("slots %d", d.Gate().Slots())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Hold the only slot; a check with a cancelled context waits and gives up.
	release := make(chan struct{})
	held := make(chan struct{})
	go func() { _ = d.Gate().Do(context.Background(), func() { close(held); <-release }) }()
	<-held
	if _, err := d.Authenticate(ctx, "alice", slapdtest.AlicePassword); err == nil {
		t.Fatal("a check ran past a full gate")
	}
	close(release)
	var _ = users.ErrBusy
}

// TestPendingWhileTheDirectoryHasNotAnswered: a signed-in user the cache
// lacks is pending (neither let in nor signed out) until the directory
// answers, also while it cannot be reached; then found, or gone.
func TestPendingWhileTheDirectoryHasNotAnswered(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{})
	cfg := testConfig(s)
	cfg.Timeout = 300 * time.Millisecond
	d := newDir(t, cfg)
	if d.Lookup("alice") != nil || d.Pending("alice") {
		t.Fatal("before Start nothing is pending")
	}
	s.Stop()
	d.Start()
	<-d.Warm()
	if d.Lookup("alice") != nil {
		t.Fatal("alice let in with nothing known")
	}
	time.Sleep(2 * cfg.Timeout) // the background search fails
	if !d.Pending("alice") || d.Lookup("alice") != nil {
		t.Fatal("alice, asked about while the directory is down, must be pending")
	}
	if d.Pending("bad\x00name") || d.Pending("") {
		t.Fatal("a name that is never sent to the directory is never pending")
	}
	s.Start()
	deadline := time.Now().Add(5 * time.Second)
	for d.Lookup("alice") == nil || d.Lookup("nobody") != nil || d.Pending("nobody") {
		if time.Now().After(deadline) {
			t.Fatalf("directory back: alice %v, nobody pending %v", d.Lookup("alice"), d.Pending("nobody"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d.Pending("alice") {
		t.Fatal("alice found, still pending")
	}
}

// TestGroupFilter reads groups by a search instead of memberOf.
func TestGroupFilter(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{})
	cfg := testConfig(s)
	cfg.GroupFilter = "(&(objectClass=groupOfNames)(member={dn}))"
	cfg.Attributes.Groups = "description" // not memberOf: the groups come from the search
	d := newDir(t, cfg)
	u, err := d.Authenticate(context.Background(), "alice", slapdtest.AlicePassword)
	if err != nil || u == nil || !slices.Equal(u.Groups, []string{"admins", "staff"}) {
		t.Fatalf("alice by group_filter: %+v, %v", u, err)
	}
	u, err = d.Authenticate(context.Background(), "bob", slapdtest.BobPassword)
	if err != nil || u == nil || !slices.Equal(u.Groups, []string{"staff"}) {
		t.Fatalf("bob by group_filter: %+v, %v", u, err)
	}
}

// TestCanonicalFromTheCache: Canonical answers from the cache alone.
func TestCanonicalFromTheCache(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{})
	d := newDir(t, testConfig(s))
	if c := d.Canonical("ALICE@example.com"); c != "ALICE@example.com" {
		t.Fatalf("before alice is cached: %q", c)
	}
	if signIn(t, d, "alice", slapdtest.AlicePassword) != "alice" {
		t.Fatal("alice")
	}
	s.Stop() // no I/O from here
	for _, typed := range []string{"alice", "ALICE", "Alice@Example.com", "alice@example.com"} {
		if c := d.Canonical(typed); c != "alice" {
			t.Errorf("Canonical(%q) = %q, want alice", typed, c)
		}
	}
	if c := d.Canonical("bob"); c != "bob" {
		t.Errorf("Canonical of a name not cached = %q", c)
	}
}

// TestPeekAsksNothing: Peek (for names an unauthenticated request typed)
// answers from the cache alone: a name it lacks is not searched for in
// the background, so it never becomes pending nor enters the cache,
// where Lookup would have queued it.
func TestPeekAsksNothing(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{})
	d := newDir(t, testConfig(s))
	d.Start()
	<-d.Warm()
	if d.Peek("bob") != nil {
		t.Fatal("bob known before anything was asked")
	}
	time.Sleep(200 * time.Millisecond)
	if d.Pending("bob") || len(d.All()) != 0 {
		t.Fatalf("Peek(bob) queued a search: pending %v, cache %d", d.Pending("bob"), len(d.All()))
	}
	if _, err := d.Authenticate(context.Background(), "alice", slapdtest.AlicePassword); err != nil {
		t.Fatal(err)
	}
	if u := d.Peek("alice"); u == nil || u.Name != "alice" {
		t.Fatalf("Peek(alice) after her sign-in: %+v", u)
	}
}
