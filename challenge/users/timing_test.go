package users

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Unknown names are checked against a hash of the kind most users have, so
// that in a file mixing bcrypt and argon2id an unknown name costs what a
// typical real one does.
func TestTimingHashIsOfTheMostCommonKind(t *testing.T) {
	b, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	a, err := HashPassword("pw", DefaultArgon2)
	if err != nil {
		t.Fatal(err)
	}
	// "aaa" comes first by name but is the only argon2id user.
	file := "users:\n" +
		"  aaa:\n    password: \"" + a + "\"\n" +
		"  bob:\n    password: \"" + string(b) + "\"\n" +
		"  carol:\n    password: \"" + string(b) + "\"\n"
	path := filepath.Join(t.TempDir(), "users.yml")
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if k := db.timingHash.Load().h.Kind(); !strings.HasPrefix(k, "bcrypt/") {
		t.Fatalf("unknown users are checked against a %s hash; most users have bcrypt", k)
	}
}

// In a file mixing kinds (three sha512crypt users, one bcrypt, one
// argon2id), an unknown name, as typed and through Canonical, costs what a
// wrong password of the most common kind does: medians of 21 sign-ins
// each within 30 %.
func TestUnknownNamesCostWhatKnownOnesDoInAMixedFile(t *testing.T) {
	b, err := bcrypt.GenerateFromPassword([]byte("pw"), 10)
	if err != nil {
		t.Fatal(err)
	}
	sha := sha512Rounds("50000") // about 20 ms
	file := "users:\n" +
		"  ann:\n    password: \"" + sha + "\"\n    email: ann@example.com\n" +
		"  ben:\n    password: \"" + sha + "\"\n" +
		"  cat:\n    password: \"" + sha + "\"\n" +
		"  dan:\n    password: \"" + string(b) + "\"\n" +
		"  eve:\n    password: \"" + mustHash(t, "pw") + "\"\n"
	db, err := Open(writeTemp(t, file), Options{SearchEmail: true, CaseInsensitive: true})
	if err != nil {
		t.Fatal(err)
	}
	if k := db.timingHash.Load().h.Kind(); k != "sha512crypt/50000" {
		t.Fatalf("unknown names are checked against %s", k)
	}
	// Interleaved, so that a change in the machine's load hits every name.
	names := []string{"ann", "nobody", "NoBody@Example.com", "ANN2"}
	samples := make([][]time.Duration, len(names))
	for range 21 {
		for i, name := range names {
			start := time.Now()
			if auth(t, db, db.Canonical(name), "wrong") != nil {
				t.Fatal("a wrong password signed in")
			}
			samples[i] = append(samples[i], time.Since(start))
		}
	}
	median := func(i int) time.Duration {
		slices.Sort(samples[i])
		return samples[i][len(samples[i])/2]
	}
	known := median(0)
	for i, name := range names[1:] {
		unknown := median(i + 1)
		if d := unknown - known; d < -known*3/10 || d > known*3/10 {
			t.Errorf("unknown %q: median %v; known sha512crypt user: %v (more than 30%% apart)", name, unknown, known)
		}
	}
}
