package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
	"github.com/caddy-mfa/caddy-mfa/internal/slapdtest"
)

// ldapSeed is slapdtest's directory with every user's password set to the
// harness's testPassword.
func ldapSeed() string {
	r := strings.NewReplacer("userPassword: "+slapdtest.AlicePassword, "userPassword: "+testPassword,
		"userPassword: "+slapdtest.BobPassword, "userPassword: "+testPassword,
		"userPassword: "+slapdtest.CarolPassword, "userPassword: "+testPassword)
	return r.Replace(slapdtest.Seed)
}

// startLDAPGateway starts a gateway whose first factor is the directory
// at url (no users file), with extra lines in the ldap block.
func startLDAPGateway(t *testing.T, url, ldapExtra string, o gatewayOpts) *gateway {
	t.Helper()
	g := writeGateway(t, o, testStorageKey)
	cf, err := os.ReadFile(g.config)
	if err != nil {
		t.Fatal(err)
	}
	block := "ldap {\n\t\t\turl " + url + "\n\t\t\tbind_dn " + slapdtest.ServiceDN + "\n\t\t\tbind_password {env.E2E_LDAP_PASSWORD}\n\t\t\tbase_dn " +
		slapdtest.Suffix + "\n\t\t\t" + ldapExtra + "\n\t\t}"
	s := strings.Replace(string(cf), "users_file "+g.UsersFile, block, 1)
	if err := os.WriteFile(g.config, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("E2E_LDAP_PASSWORD", slapdtest.ServicePassword)
	g.start()
	return g
}

// TestLDAPSignInGroupsAndHeaders: a directory user signs in (password and
// second factor); the directory's groups drive allow_groups, and the
// upstream gets the directory's name, display name, e-mail and groups.
func TestLDAPSignInGroupsAndHeaders(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{LDIF: ldapSeed()})
	g := startLDAPGateway(t, s.URL, "", gatewayOpts{route: "allow_groups admins"})
	b := g.newBrowser()
	b.firstSignIn("alice", "/app")
	expectStatus(t, b.get("/app"), http.StatusOK)
	h, _ := g.Upstream.Last()
	for k, want := range map[string]string{"Remote-User": "alice", "Remote-Groups": "admins,staff", "Remote-Name": "Alice Liddell", "Remote-Email": "alice@example.com"} {
		if got := h.Get(k); got != want {
			t.Errorf("upstream %s = %q, want %q", k, got, want)
		}
	}
	// bob is in staff only: his password is right, the route refuses him.
	bob := g.newBrowser()
	if r := bob.login("bob", testPassword, "/app"); r.StatusCode != http.StatusSeeOther && r.StatusCode != http.StatusFound {
		t.Fatalf("bob's password: %d", r.StatusCode)
	}
	_, hits := g.Upstream.Last()
	if r := bob.get("/app"); r.StatusCode == http.StatusOK {
		t.Fatal("bob, not in admins, reached the app")
	}
	if _, after := g.Upstream.Last(); after != hits {
		t.Fatal("the upstream was reached for bob")
	}
	// A wrong password and an unknown name get the same answer.
	wrong := g.newBrowser().login("alice", "wrong", "/app")
	unknown := g.newBrowser().login("nobody", "wrong", "/app")
	expectStatus(t, wrong, http.StatusUnauthorized)
	expectStatus(t, unknown, http.StatusUnauthorized)
	if strings.Contains(g.log.String(), testPassword) {
		t.Fatal("the log holds a password")
	}
	// `caddy mfa users` lists the directory users who signed in (the
	// directory is not crawled), also after a restart, which loads them
	// back from the store; alice's session then still works.
	g.restart()
	expectSignedIn(t, b, "/app")
	// The administrator's commands take directory users too.
	if out, err := g.cli("mfa", "reset", "alice"); err != nil || !strings.Contains(out, `"sessions_ended":`) || strings.Contains(out, `"sessions_ended":0`) {
		t.Fatalf("caddy mfa reset alice: %v %s", err, out)
	}
	if r := b.get("/app"); r.StatusCode == http.StatusOK {
		t.Fatal("alice's session outlived her reset")
	}
	expectRedirect(t, g.newBrowser().login("alice", testPassword, "/app"), "/.mfa/setup")
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := g.cli("mfa", "users")
		if err == nil && strings.Contains(out, "alice") && strings.Contains(out, "bob") {
			if strings.Contains(out, "carol") {
				t.Fatalf("carol never signed in, but is listed:\n%s", out)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mfa users after a restart: %v\n%s", err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// expectSignedIn waits (5 s at most) until b's request of path passes: a
// 503 meanwhile is a directory user being looked up; a redirect to sign in
// is a session lost, and fails the test.
func expectSignedIn(t *testing.T, b *browser, path string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := b.get(path)
		switch {
		case r.StatusCode == http.StatusOK:
			return
		case r.StatusCode != http.StatusServiceUnavailable:
			t.Fatalf("%s answered %d (%s): the directory user is signed out", path, r.StatusCode, r.Header.Get("Location"))
		case time.Now().After(deadline):
			t.Fatalf("%s still answers 503 after 5 s", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLDAPSecondGatewayKnowsTheUser: two gateways share Redis; a user who
// signed in at one is not signed out at the other, which has not met them
// (at most a 503 while it asks the directory), and gets their headers.
func TestLDAPSecondGatewayKnowsTheUser(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{LDIF: ldapSeed()})
	global, _, _ := redisGlobal(t, redistest.Addr())
	a := startLDAPGateway(t, s.URL, "", gatewayOpts{global: global})
	b := startLDAPGateway(t, s.URL, "", gatewayOpts{global: global})
	ba := a.newBrowser()
	ba.firstSignIn("alice", "/app")
	expectStatus(t, ba.get("/app"), http.StatusOK)
	bb := b.newBrowser()
	bb.client.Jar = ba.client.Jar // one browser: cookies do not tell ports apart
	expectSignedIn(t, bb, "/app")
	h, _ := b.Upstream.Last()
	if h.Get("Remote-User") != "alice" || h.Get("Remote-Email") != "alice@example.com" {
		t.Fatalf("second gateway's headers: %v", h)
	}
}

// TestLDAPRemovedUserLockedOutWithinTTL: a user removed from the directory
// loses access within cache_ttl (2 s here), though their session lives.
func TestLDAPRemovedUserLockedOutWithinTTL(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{LDIF: ldapSeed()})
	const ttl = 2 * time.Second
	g := startLDAPGateway(t, s.URL, "cache_ttl 2s", gatewayOpts{})
	b := g.newBrowser()
	b.firstSignIn("carol", "/app")
	expectStatus(t, b.get("/app"), http.StatusOK)
	s.Apply("ldapdelete", "uid=carol,ou=people,"+slapdtest.Suffix+"\n")
	removed := time.Now()
	for {
		r := b.get("/app")
		if r.StatusCode != http.StatusOK {
			t.Logf("carol refused %v after her removal (cache_ttl %v)", time.Since(removed).Round(time.Millisecond), ttl)
			// Gone, not pending: sent to sign in.
			expectRedirect(t, r, "/.mfa/login?rd=%2Fapp")
			break
		}
		if time.Since(removed) > ttl+500*time.Millisecond {
			t.Fatalf("carol, removed from the directory, still reaches the app %v later (cache_ttl %v)", time.Since(removed), ttl)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLDAPDownIs503AndBack: with the directory stopped, signed-in requests
// still pass (the hot path never asks the directory; within cache_ttl), a
// sign-in answers 503 and names the server in the log; once the directory
// is back, sign-in works again by itself.
func TestLDAPDownIs503AndBack(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{LDIF: ldapSeed()})
	g := startLDAPGateway(t, s.URL, "cache_ttl 30s\n\t\t\ttimeout 1s", gatewayOpts{})
	b := g.newBrowser()
	b.firstSignIn("alice", "/app")
	s.Stop()
	start := time.Now()
	for range 50 {
		expectStatus(t, b.get("/app"), http.StatusOK)
	}
	t.Logf("50 signed-in requests with slapd stopped: %v", time.Since(start))
	r := g.newBrowser().login("bob", testPassword, "/app")
	expectStatus(t, r, http.StatusServiceUnavailable)
	for deadline := time.Now().Add(2 * time.Second); !strings.Contains(g.log.String(), s.URL) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond) // the log is written as the page is
	}
	if !strings.Contains(g.log.String(), s.URL) {
		t.Fatalf("the log does not name the server %s:\n%s", s.URL, tail(g.log.String(), 3000))
	}
	s.Start()
	r = g.newBrowser().login("bob", testPassword, "/app")
	if r.StatusCode != http.StatusSeeOther && r.StatusCode != http.StatusFound {
		t.Fatalf("the directory is back, but bob's sign-in answers %d", r.StatusCode)
	}
}

// TestLDAPDownPastTTLKeepsSessions: with the directory down for longer
// than cache_ttl (2 s), a signed-in user is answered 503 (not let in: the
// directory has not confirmed them; not signed out: it has not said they
// are gone), and passes again by themselves once it is back.
func TestLDAPDownPastTTLKeepsSessions(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{LDIF: ldapSeed()})
	g := startLDAPGateway(t, s.URL, "cache_ttl 2s\n\t\t\ttimeout 500ms", gatewayOpts{})
	b := g.newBrowser()
	b.firstSignIn("alice", "/app")
	expectStatus(t, b.get("/app"), http.StatusOK)
	s.Stop()
	time.Sleep(2500 * time.Millisecond)
	_, hits := g.Upstream.Last()
	expectStatus(t, b.get("/app"), http.StatusServiceUnavailable)
	expectStatus(t, b.get("/.mfa/login"), http.StatusServiceUnavailable)
	if _, after := g.Upstream.Last(); after != hits {
		t.Fatal("the upstream was reached past cache_ttl with the directory down")
	}
	s.Start()
	expectSignedIn(t, b, "/app")
}

// TestLDAPSlowDirectoryBoundedByTimeout: a directory that accepts and
// never answers holds a sign-in for `timeout` (1 s), then 503.
func TestLDAPSlowDirectoryBoundedByTimeout(t *testing.T) {
	addr := slapdtest.Silent(t)
	g := startLDAPGateway(t, "ldap://"+addr, "timeout 1s", gatewayOpts{})
	b := g.newBrowser()
	page := b.get("/.mfa/login")
	expectStatus(t, page, http.StatusOK)
	start := time.Now()
	r := b.post("/.mfa/login", map[string][]string{"csrf": {csrfOf(t, page.Body)}, "username": {"alice"}, "password": {testPassword}})
	took := time.Since(start)
	expectStatus(t, r, http.StatusServiceUnavailable)
	t.Logf("sign-in against a silent directory answered %d in %v (timeout 1s)", r.StatusCode, took)
	if took > time.Second+700*time.Millisecond {
		t.Fatalf("sign-in took %v with timeout 1s; want at most 1.7s", took)
	}
}

// TestLDAPLockoutCountsOnceAcrossSpellings: Alice, alice and
// alice@example.com are one directory user, and their failures one count.
func TestLDAPLockoutCountsOnceAcrossSpellings(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{LDIF: ldapSeed()})
	g := startLDAPGateway(t, s.URL, "", gatewayOpts{global: "limits {\n max_failures 3\n login_per_user 100/1m\n login_per_ip 1000/1m\n }"})
	b := g.newBrowser()
	for _, typed := range []string{"Alice", "alice", "alice@example.com"} {
		expectStatus(t, b.login(typed, "wrong", "/app"), http.StatusUnauthorized)
	}
	r := b.login("ALICE", testPassword, "/app")
	if r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after 3 failures under three spellings, the right password answers %d; want 429 (locked)", r.StatusCode)
	}
	// bob is not touched by alice's lockout.
	if r := b.login("bob", testPassword, "/app"); r.StatusCode != http.StatusSeeOther && r.StatusCode != http.StatusFound {
		t.Fatalf("bob: %d", r.StatusCode)
	}
}

// TestLDAPAppPasswords: a directory user's app password works as Basic
// auth (the hot path's Lookup, no directory call), also after a restart,
// and stops within cache_ttl once the user is removed from the directory.
func TestLDAPAppPasswords(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{LDIF: ldapSeed()})
	g := startLDAPGateway(t, s.URL, "cache_ttl 2s", gatewayOpts{route: "app_passwords", global: "users_end_after 1s"})
	b := g.newBrowser()
	b.firstSignIn("bob", "/")
	pw := createAppPassword(t, b, "Mail")
	expectStatus(t, g.basic(t, "bob", pw), http.StatusOK)
	if h, _ := g.Upstream.Last(); h.Get("Remote-User") != "bob" || h.Get("Remote-Email") != "bob@example.com" {
		t.Fatalf("upstream headers %v", h)
	}
	expectStatus(t, g.basic(t, "bob", testPassword), http.StatusUnauthorized)
	g.restart()
	expectStatus(t, g.basic(t, "bob", pw), http.StatusOK)
	s.Apply("ldapdelete", "uid=bob,ou=people,"+slapdtest.Suffix+"\n")
	removed := time.Now()
	for g.basic(t, "bob", pw).StatusCode == http.StatusOK {
		if time.Since(removed) > 2*time.Second+500*time.Millisecond {
			t.Fatalf("bob's app password still works %v after his removal (cache_ttl 2s)", time.Since(removed))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// users_end_after (1 s) later, what he held is deleted, as for a user
	// removed from a users file.
	if lines := g.waitLog("user_disabled", `"user":"bob"`, `"reason":"directory"`, `"app_passwords":1`); len(lines) != 1 {
		t.Fatalf("bob's access not ended after users_end_after: %q\n%s", lines, tail(g.log.String(), 3000))
	}
}

// TestLDAPActiveDirectoryShaped: the activedirectory preset against slapd
// seeded with AD-shaped entries (AD itself cannot run here): sign-in by
// userPrincipalName, sAMAccountName as the user name, memberOf groups, and
// an account disabled by userAccountControl losing access within
// cache_ttl.
func TestLDAPActiveDirectoryShaped(t *testing.T) {
	seed := strings.ReplaceAll(slapdtest.ADSeed, "userPassword: dave-password", "userPassword: "+testPassword)
	s := slapdtest.Start(t, slapdtest.Options{ADSchema: true, LDIF: seed})
	g := startLDAPGateway(t, s.URL, "implementation activedirectory\n\t\t\tcache_ttl 2s", gatewayOpts{route: "allow_groups engineers"})
	b := g.newBrowser()
	expectRedirect(t, b.login("dave@corp.example.com", testPassword, "/app"), "/.mfa/setup")
	expectStatus(t, g.newBrowser().login("erin", "erin-password", "/app"), http.StatusUnauthorized)
	b2 := g.newBrowser()
	b2.firstSignIn("dave", "/app")
	expectStatus(t, b2.get("/app"), http.StatusOK)
	h, _ := g.Upstream.Last()
	if h.Get("Remote-User") != "dave" || h.Get("Remote-Groups") != "engineers" || h.Get("Remote-Name") != "Dave Jones" {
		t.Fatalf("upstream headers %v", h)
	}
	s.Apply("ldapmodify", "dn: cn=Dave Jones,ou=people,dc=example,dc=org\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 514\n")
	disabled := time.Now()
	for {
		r := b2.get("/app")
		if r.StatusCode != http.StatusOK {
			expectRedirect(t, r, "/.mfa/login?rd=%2Fapp")
			break
		}
		if time.Since(disabled) > 2*time.Second+500*time.Millisecond {
			t.Fatalf("dave, disabled in the directory, still reaches the app %v later (cache_ttl 2s)", time.Since(disabled))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("dave refused %v after userAccountControl 514", time.Since(disabled).Round(time.Millisecond))
}

// TestLDAPBadConfigIsAClearStartupError: `caddy validate` names what is
// wrong with an ldap block.
func TestLDAPBadConfigIsAClearStartupError(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users.yml")
	if err := os.WriteFile(users, []byte(usersYAML()), 0o600); err != nil {
		t.Fatal(err)
	}
	ldap := func(extra string) string {
		return "ldap {\n url ldaps://ldap.example.com\n bind_dn cn=gw,dc=example,dc=com\n bind_password pw\n base_dn dc=example,dc=com\n " + extra + "\n }"
	}
	for _, c := range []struct{ name, global, want string }{
		{"both", "users_file " + users + "\n " + ldap(""), "users_file and ldap are both set"},
		{"insecure", ldap("tls {\n insecure_skip_verify\n }"), "only with `development`"},
		{"plain remote", strings.Replace(ldap(""), "ldaps://", "ldap://", 1), "clear text"},
		{"implementation", ldap("implementation novell"), "unknown implementation"},
		{"filter", ldap("user_filter (uid=alice)"), "must contain {input}"},
		{"missing base", "ldap {\n url ldaps://x\n bind_dn cn=a\n }", "needs url, bind_dn and base_dn"},
	} {
		t.Run(c.name, func(t *testing.T) {
			expectRefusedConfig(t, dir, c.global, c.want)
		})
	}
}

// TestLDAPTestCommand: `caddy mfa test-ldap --config` against the running
// gateway's configuration prints what the gateway sees of a user.
func TestLDAPTestCommand(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{LDIF: ldapSeed()})
	g := startLDAPGateway(t, s.URL, "", gatewayOpts{})
	out, err := g.cliWithConfig("mfa", "test-ldap", "--user", "alice@example.com")
	if err != nil {
		t.Fatalf("test-ldap: %v\n%s", err, out)
	}
	for _, want := range []string{"service bind:   ok", "user search:    ok", "user name:      alice", "mail:           alice@example.com",
		"groups:         admins, staff", "disabled:       false"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, slapdtest.ServicePassword) {
		t.Error("the output shows the service password")
	}
	s.Stop()
	if out, err := g.cliWithConfig("mfa", "test-ldap"); err == nil || !strings.Contains(out, s.URL[len("ldap://"):]) {
		t.Fatalf("test-ldap with slapd stopped: %v\n%s", err, out)
	}
}
