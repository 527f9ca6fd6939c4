package users

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

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
