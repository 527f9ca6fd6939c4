package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// Review of issue 14 item 18: ending a user's access must not follow a
// botched or half-written users file, nor another gateway's older file.

// usersYAMLCutAfter is usersYAML as a reader sees it in the middle of a
// write that has reached the end of user's entry: valid YAML that lists
// only the users before the cut.
func usersYAMLCutAfter(t *testing.T, user string) string {
	t.Helper()
	full := usersYAML()
	i := strings.Index(full, "  "+user+":\n")
	if i < 0 {
		t.Fatalf("no user %q in the users file", user)
	}
	rest := full[i+len("  "+user+":\n"):]
	j := 0
	for j < len(rest) && strings.HasPrefix(rest[j:], "    ") {
		j += strings.IndexByte(rest[j:], '\n') + 1
	}
	return full[:i+len("  "+user+":\n")+j]
}

// expectIntact checks that everything the user held still works: the
// signed-in browser reaches the app, the app password gets 200, and the
// remembered browser signs in with the password alone.
func (h heldAccess) expectIntact(t *testing.T, g *gateway) {
	t.Helper()
	h.signedIn.g = g
	h.signedIn.signedIn(h.user, "/")
	if r := g.basic(t, h.user, h.appPassword); r.StatusCode != http.StatusOK {
		t.Errorf("%s: %s's app password got %d after the users file came back; want 200", g.URL, h.user, r.StatusCode)
	}
	h.remembered.g = g
	h.remembered.signOut()
	if r := h.remembered.login(h.user, testPassword, "/"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Errorf("%s: %s's remembered browser got %d (Location %q) with the password; want straight in (the device still remembered)",
			g.URL, h.user, r.StatusCode, r.Header.Get("Location"))
	}
}

// A users file read in the middle of a write, cut cleanly after alice, is
// valid YAML without bob. Restored within the grace period, bob loses
// nothing: his session, app password and remembered device all work.
// While the cut file is in force he is refused (the file says he is not
// a user), and nothing of his is deleted.
func TestHardeningUsersCutFileRestoredWithinGrace(t *testing.T) {
	t.Parallel()
	opts := usersRoute
	opts.global = strings.Replace(opts.global, "users_end_after 1s", "users_end_after 8s", 1)
	g := startGateway(t, opts)
	h := holdAccess(t, g, "bob")

	// Written in place, not renamed: what a reader sees of an editor or a
	// configuration tool that writes the file over itself.
	cut := usersYAMLCutAfter(t, "alice")
	if strings.Contains(cut, "bob") || !strings.Contains(cut, "alice") {
		t.Fatalf("cut file is wrong:\n%s", cut)
	}
	before := len(g.logLines("users file reloaded"))
	if err := os.WriteFile(g.UsersFile, []byte(cut), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(g.logLines("users file reloaded")) == before {
		if time.Now().After(deadline) {
			t.Fatal("the gateway did not reload the cut users file within 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	read := time.Now()
	h.signedIn.notSignedIn("/")
	expectStatus(t, g.basic(t, "bob", h.appPassword), http.StatusUnauthorized)
	g.writeUsers(t, usersYAML())
	// Past the grace period (8 s), a watch interval (2 s) and 1 s more
	// after the cut was read: had bob's end only been delayed, it would
	// have run by now.
	time.Sleep(time.Until(read.Add(11 * time.Second)))

	h.expectIntact(t, g)
	if ev := g.logLines(`"event":"user_disabled"`, `"user":"bob"`); len(ev) != 0 {
		t.Errorf("security events for bob, back within the grace period: %q; want none", ev)
	}
}

// An older gateway (started from an old image, or with another users
// file) shares Redis and key_prefix with a gateway whose file lists bob;
// its file does not. Starting it, and starting it again, ends nothing of
// bob's: it never saw bob, so it never saw him removed.
func TestHardeningUsersOtherFileOnSharedRedis(t *testing.T) {
	t.Parallel()
	global, _, _ := redisGlobal(t, redistest.Addr())
	opts := usersRoute // users_end_after 1s
	opts.global = global + "\n" + opts.global
	g1 := startGateway(t, opts)
	old := startGateway(t, opts)
	old.stop()
	// A fresh data dir as an old image has it, and a file without bob.
	seen, err := filepath.Glob(filepath.Join(old.DataDir, "users-seen-*.json"))
	if err != nil || len(seen) != 1 {
		t.Fatalf("records of users seen in the data dir: %v, %v; want one", seen, err)
	}
	if err := os.Remove(seen[0]); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(old.UsersFile, []byte(usersYAMLWith(t, "bob", false)), 0o600); err != nil {
		t.Fatal(err)
	}
	h := holdAccess(t, g1, "bob")

	for i := range 2 {
		old.start()
		// Past the grace period (1 s) and a watch interval (2 s): anything
		// this start would end has been ended.
		time.Sleep(4 * time.Second)
		if ev := old.logLines(`"event":"user_disabled"`, `"user":"bob"`); len(ev) != 0 {
			t.Errorf("start %d of the gateway that never listed bob: security events %q; want none", i+1, ev)
		}
		old.stop()
	}
	h.expectIntact(t, g1)
}

// usersYAMLPlus is usersYAML with more enabled users (dave, erin, ...).
func usersYAMLPlus(names ...string) string {
	s := usersYAML()
	for _, n := range names {
		s += fmt.Sprintf("  %s:\n    password: %q\n", n, passwordHash())
	}
	return s
}

// A users file that would remove more than half of the users (and more
// than 3) ends nobody, however long it stays: one error says how many and
// that nothing was ended; put right, everyone keeps everything. Written
// again (confirmed), the removal ends their access after the grace period.
func TestHardeningUsersMassRemovalHeld(t *testing.T) {
	t.Parallel()
	g := startGateway(t, usersRoute) // users_end_after 1s
	extra := []string{"dave", "erin", "frank", "grace"}
	full := usersYAMLPlus(extra...)
	g.writeUsers(t, full)
	h := holdAccess(t, g, "alice")

	// Only bob left of the 6 enabled users: 5 gone.
	onlyBob := usersYAMLWith(t, "alice", false)
	g.writeUsers(t, onlyBob)
	h.signedIn.notSignedIn("/")
	// Well past the grace period (1 s) and two watch intervals.
	time.Sleep(6 * time.Second)
	errs := g.logLines(`"level":"error"`, "nothing was ended")
	if len(errs) != 1 || !strings.Contains(errs[0], `"users_gone":5`) || !strings.Contains(errs[0], `"users_before":6`) {
		t.Fatalf("error logs for the mass removal: %q; want one naming 5 of 6 users", errs)
	}
	if ev := g.logLines(`"event":"user_disabled"`); len(ev) != 0 {
		t.Fatalf("a held mass removal ended access: %q", ev)
	}
	g.writeUsers(t, full)
	h.expectIntact(t, g)

	// Meant: written, then written again.
	g.writeUsers(t, onlyBob)
	g.writeUsers(t, onlyBob+"# confirmed\n")
	g.waitEnded(t, "alice")
	g.writeUsers(t, full)
	h.expectCookiesAndAppPasswordDead(t, g)
}
