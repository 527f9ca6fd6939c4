package e2e

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-crypt/crypt/algorithm/shacrypt"
)

// A users file brought from Authelia, read by the built Caddy with
// `users_file <path> { search_email case_insensitive rehash_on_sign_in }`:
// Alice, whose hash is a weak {CRYPT}$6$ (5,000 rounds), signs in as
// ALICE@EXAMPLE.COM; the upstream gets her name as the file writes it; her
// hash is rewritten to argon2id in the file (the other lines byte for
// byte, the mode kept) and logged; she signs in again as "alice" against
// the new hash; and wrong passwords under any spelling lock her out once.
func TestUsersFileOptionsE2E(t *testing.T) {
	h, err := shacrypt.New(shacrypt.WithSHA512(), shacrypt.WithIterations(5000))
	if err != nil {
		t.Fatal(err)
	}
	d, err := h.Hash(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	weak := "{CRYPT}" + d.Encode()
	file := "# brought over from Authelia\nusers:\n" +
		"  Alice:\n    displayname: \"Alice Example\"\n    password: \"" + weak + "\"  # sha512crypt\n    email: alice@example.com\n" +
		"  bob:\n    password: \"" + passwordHash() + "\"\n    email: bob@example.com\n"

	g := writeGateway(t, gatewayOpts{route: "app_passwords"}, testStorageKey)
	if err := os.WriteFile(g.UsersFile, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(g.UsersFile, 0o640); err != nil {
		t.Fatal(err)
	}
	cf, err := os.ReadFile(g.config)
	if err != nil {
		t.Fatal(err)
	}
	line := "users_file " + g.UsersFile + "\n"
	if !strings.Contains(string(cf), line) {
		t.Fatalf("no %q in the Caddyfile", line)
	}
	cf = []byte(strings.Replace(string(cf), line, "users_file "+g.UsersFile+" {\n\t\t\tsearch_email\n\t\t\tcase_insensitive\n\t\t\trehash_on_sign_in\n\t\t}\n", 1))
	if err := os.WriteFile(g.config, cf, 0o600); err != nil {
		t.Fatal(err)
	}
	g.start()

	b := g.newBrowser()
	b.firstSignIn("ALICE@EXAMPLE.COM", "/x")
	b.signedIn("Alice", "/x")
	// An app password is hers under every spelling too, and the upstream
	// gets the name as the file writes it.
	pw := createAppPassword(t, b, "Mail")
	for _, typed := range []string{"alice@example.com", "ALICE"} {
		r := g.basic(t, typed, pw)
		expectStatus(t, r, http.StatusOK)
		expectText(t, r, `upstream says hello to "Alice"`)
	}

	var after []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if after, err = os.ReadFile(g.UsersFile); err == nil && strings.Contains(string(after), "$argon2id$") &&
			strings.Contains(g.log.String(), "password hash upgraded") {
			break
		}
	}
	was, now := strings.Split(file, "\n"), strings.Split(string(after), "\n")
	if len(was) != len(now) {
		t.Fatalf("users file after the sign-in:\n%s", after)
	}
	for i := range was {
		if i == 4 {
			if !strings.HasPrefix(now[i], "    password: \"$argon2id$v=19$m=19456,t=2,p=1$") || !strings.HasSuffix(now[i], "\"  # sha512crypt") {
				t.Fatalf("Alice's password line is %q; want argon2id, quoted, the comment kept", now[i])
			}
		} else if now[i] != was[i] {
			t.Errorf("line %d changed: %q, was %q", i+1, now[i], was[i])
		}
	}
	if st, err := os.Stat(g.UsersFile); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("users file mode after the rewrite: %v %v, want 0640", st.Mode(), err)
	}
	if strings.Contains(g.log.String(), weak[7:20]) || strings.Contains(g.log.String(), "$argon2id$v=19$m=19456") {
		t.Error("the log carries a hash")
	}

	// Signed in again, as "alice", against the argon2id hash.
	b2 := g.newBrowser()
	expectRedirect(t, b2.login("alice", testPassword, "/x"), "/.mfa/challenge")
	// Five wrong passwords over five spellings are five failures of one
	// user: Alice is locked out (the default, five from one source), under
	// every spelling, and bob is not.
	for _, typed := range []string{"alice", "Alice", "alice@example.com", "ALICE", "Alice@Example.COM"} {
		if r := g.newBrowser().login(typed, "wrong", "/x"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a wrong password as %q: %d, want 401", typed, r.StatusCode)
		}
	}
	for _, typed := range []string{"Alice", "alice@EXAMPLE.com"} {
		if r := g.newBrowser().login(typed, testPassword, "/x"); r.StatusCode != http.StatusTooManyRequests {
			t.Errorf("the right password as %q after five wrong ones over five spellings: %d, want 429", typed, r.StatusCode)
		}
	}
	expectRedirect(t, g.newBrowser().login("BOB", testPassword, "/x"), "/.mfa/setup")
	// An administrator who types her name in lower case lifts that lockout.
	g.unlockByAPI(t, "alice")
	expectRedirect(t, g.newBrowser().login("Alice", testPassword, "/x"), "/.mfa/challenge")
}
