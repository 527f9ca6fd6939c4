package users

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// autheliaFixtures are Authelia's own users files (testdata/authelia,
// origins in its README) and the password of their users, as Authelia's
// documentation and the files' comments give it.
var autheliaFixtures = map[string]string{
	"lite-users_database.yml":           "authelia",
	"users_database.template.yml":       "authelia",
	"suites-Docker-users.yml":           "password",
	"suites-Caddy-users.yml":            "password",
	"suites-SecuritySettings-users.yml": "password",
	"suites-PAM-users.yml":              "password",
}

// checkSignIns signs every user of db in with password, and checks a
// wrong one against each distinct hash (users of one hash, with or without
// {CRYPT}, share that check; the first also gets the password in upper
// case).
func checkSignIns(t *testing.T, db *DB, password string) {
	t.Helper()
	seen := map[string]bool{}
	for i, u := range db.All() {
		if u.Disabled {
			continue
		}
		if got := auth(t, db, u.Name, password); got != u {
			t.Errorf("user %q (%s) does not sign in with the right password", u.Name, u.hash.Kind())
		}
		if h := strings.TrimPrefix(strings.TrimPrefix(u.rawHash, "{CRYPT}"), "{ARGON2}"); !seen[h] {
			seen[h] = true
			if auth(t, db, u.Name, password+"x") != nil {
				t.Errorf("user %q (%s) signs in with a wrong password", u.Name, u.hash.Kind())
			}
		}
		if i == 0 && auth(t, db, u.Name, strings.ToUpper(password)) != nil {
			t.Errorf("user %q signs in with the password in upper case", u.Name)
		}
	}
}

// Authelia's example and test users files load unchanged, and their users
// sign in with their documented password and not with a wrong one.
func TestAutheliaFixtures(t *testing.T) {
	names := make([]string, 0, len(autheliaFixtures))
	for n := range autheliaFixtures {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			db, err := Open(filepath.Join("testdata", "authelia", name), Options{})
			if err != nil {
				t.Fatalf("Authelia's %s does not load: %v", name, err)
			}
			if db.Len() == 0 {
				t.Fatal("no users read")
			}
			checkSignIns(t, db, autheliaFixtures[name])
		})
	}
}

// kindOf is what each user of testdata/generated/every-kind.yml must read
// as (Kind's prefix) and whether it is weak.
var everyKind = map[string]struct {
	kind string
	weak bool
}{
	"argon2id":          {"argon2id/65536/3/4/32", false},
	"argon2i":           {"argon2i/19456/2/1/32", false},
	"argon2d":           {"argon2d/19456/2/1/32", false},
	"argon2id-no-t":     {"argon2id/32768/1/4/32", false}, // Authelia's (go-crypt's) default t=1
	"bcrypt":            {"bcrypt/10", false},
	"bcrypt-weak":       {"bcrypt/8", true},
	"bcrypt-sha256":     {"bcrypt-sha256/10", false},
	"sha256crypt":       {"sha256crypt/50000", false},
	"sha512crypt":       {"sha512crypt/50000", false},
	"sha512crypt-weak":  {"sha512crypt/5000", true}, // no rounds=: 5,000
	"pbkdf2-sha1":       {"pbkdf2-sha1/100000/20", true},
	"pbkdf2-sha256":     {"pbkdf2-sha256/600000/32", false},
	"pbkdf2-sha512":     {"pbkdf2-sha512/310000/64", false},
	"scrypt":            {"scrypt/16/8/1/32", false},
	"yescrypt":          {"yescrypt/16/8/1/32", false},
	"crypt-sha512crypt": {"sha512crypt/50000", false},
	"crypt-bcrypt":      {"bcrypt/10", false},
	"crypt-sha256crypt": {"sha256crypt/50000", false},
	"ldap-argon2id":     {"argon2id/65536/3/4/32", false},
}

// Every hash kind Authelia accepts, with and without {CRYPT}, is read with
// its cost, signs in with the right password and fails with a wrong one.
func TestEveryHashKind(t *testing.T) {
	db, err := Open(filepath.Join("testdata", "generated", "every-kind.yml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if db.Len() != len(everyKind) {
		t.Fatalf("%d users read, want %d", db.Len(), len(everyKind))
	}
	for name, want := range everyKind {
		u := db.Lookup(name)
		if u == nil {
			t.Errorf("user %q not read", name)
			continue
		}
		if got := u.hash.Kind(); got != want.kind {
			t.Errorf("%s: Kind = %q, want %q", name, got, want.kind)
		}
		if u.hash.Weak() != want.weak {
			t.Errorf("%s: Weak = %v, want %v", name, u.hash.Weak(), want.weak)
		}
		if strings.HasPrefix(name, "crypt-") && !strings.HasPrefix(u.rawHash, "{CRYPT}$") {
			t.Errorf("%s: the fixture has no {CRYPT} prefix", name)
		}
	}
	checkSignIns(t, db, "password")
}
