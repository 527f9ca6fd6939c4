package users

import (
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// bcrypt reads only a password's first 72 bytes, so a weak bcrypt hash of
// a long password also matches other passwords of that prefix: such a
// sign-in is not rehashed, or the argon2id hash written would be of the
// variant typed, locking the owner's real password out (the reviewer's
// case). A password of 72 bytes or fewer is still upgraded.
func TestBcryptOver72BytesIsNotRehashed(t *testing.T) {
	real := strings.Repeat("a", 72) + "-owner-suffix"
	b, err := bcrypt.GenerateFromPassword([]byte(real[:72]), 9)
	if err != nil {
		t.Fatal(err)
	}
	file := "users:\n  alice:\n    password: '" + string(b) + "'\n"
	db, path, done := openRehash(t, file, nil)
	attacker := strings.Repeat("a", 72) + "-attacker"
	if auth(t, db, "alice", attacker) == nil {
		t.Fatal("bcrypt no longer reads 72 bytes: the test's premise is gone")
	}
	select {
	case err := <-done:
		t.Fatalf("a sign-in with %d bytes against bcrypt was rehashed (err %v)", len(attacker), err)
	case <-time.After(300 * time.Millisecond):
	}
	if got := readFile(t, path); got != file {
		t.Fatalf("the file was rewritten:\n%s", got)
	}
	if auth(t, db, "alice", real) == nil {
		t.Fatal("the owner's password no longer signs in")
	}
	// 72 bytes exactly: upgraded.
	if auth(t, db, "alice", real[:72]) == nil {
		t.Fatal("the 72-byte password does not sign in")
	}
	if err := waitRehash(t, done); err != nil {
		t.Fatalf("a 72-byte password was not upgraded: %v", err)
	}
}

// With search_email alone names stay exact: a spelling that matches no
// name and no email is the name as typed, not folded onto another user's
// exact name (the reviewer's file with alice and Alice), and only the
// email is compared folded.
func TestSearchEmailAloneKeepsNamesExact(t *testing.T) {
	h := mustHash(t, "pw")
	db, err := Open(writeTemp(t, "users:\n  alice:\n    password: \""+h+"\"\n    email: a@example.com\n  Alice:\n    password: \""+h+"\"\n"),
		Options{SearchEmail: true})
	if err != nil {
		t.Fatal(err)
	}
	for typed, want := range map[string]string{
		"alice": "alice", "Alice": "Alice", "ALICE": "ALICE", "ＡＬＩＣＥ": "ＡＬＩＣＥ", "ﬀ": "ﬀ",
		"A@Example.COM": "alice", "ａ@example.com": "alice",
	} {
		c := db.Canonical(typed)
		if c != want {
			t.Errorf("search_email only: Canonical(%q) = %q, want %q", typed, c, want)
		}
	}
	if u := auth(t, db, db.Canonical("ALICE"), "pw"); u != nil {
		t.Errorf("typed ALICE signs in as %q", u.Name)
	}
}

// With search_email, a name and another user's email that are one once
// folded are refused at start, case_insensitive or not: typed "BOB" would
// reach alice by email while "Bob" is Bob (the reviewer's file).
func TestSearchEmailRefusesANameThatIsAnotherUsersEmail(t *testing.T) {
	h := mustHash(t, "pw")
	for _, file := range []string{
		"users:\n  Bob:\n    password: '" + h + "'\n  alice:\n    password: '" + h + "'\n    email: bob\n",
		"users:\n  alice:\n    password: '" + h + "'\n    email: bob\n  Bob:\n    password: '" + h + "'\n",
		"users:\n  bob:\n    password: '" + h + "'\n  alice:\n    password: '" + h + "'\n    email: BOB\n",
	} {
		_, err := Open(writeTemp(t, file), Options{SearchEmail: true})
		if err == nil {
			t.Errorf("accepted with search_email:\n%s", file)
			continue
		}
		for _, w := range []string{"same once normalised", `"alice"`, "email"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not contain %q", err, w)
			}
		}
	}
	// A user whose email is their own name is no collision.
	if _, err := Open(writeTemp(t, "users:\n  Bob:\n    password: '"+h+"'\n    email: bob\n"), Options{SearchEmail: true}); err != nil {
		t.Errorf("a user whose email is their own name: %v", err)
	}
}

// Users left out by on_bad_hash skip keep their names and emails in the
// index: a collision with them is still refused at start, and their
// spellings reach themselves (and cannot sign in), never another user.
func TestSkippedUsersKeepTheirNames(t *testing.T) {
	h := mustHash(t, "pw")
	_, err := Open(writeTemp(t, "users:\n  Carol:\n    password: \"$md5$bad\"\n  carol:\n    password: \""+h+"\"\n"),
		Options{OnBadHash: OnBadHashSkip, CaseInsensitive: true})
	if err == nil || !strings.Contains(err.Error(), "same once normalised") {
		t.Fatalf("a case collision with a skipped user: %v; want it refused", err)
	}
	db, err := Open(writeTemp(t, "users:\n  Zed:\n    password: \"$md5$bad\"\n    email: zed@example.com\n  carol:\n    password: \""+h+"\"\n"),
		Options{OnBadHash: OnBadHashSkip, CaseInsensitive: true, SearchEmail: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, typed := range []string{"Zed", "zed", "ZED@example.com"} {
		if c := db.Canonical(typed); c != "Zed" {
			t.Errorf("Canonical(%q) = %q, want the skipped user's own name", typed, c)
		}
		if auth(t, db, db.Canonical(typed), "pw") != nil {
			t.Errorf("%q signs in", typed)
		}
	}
}

// readFile is the content of path.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
