package users

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// BenchmarkPasswordCheck is the cost of one sign-in's password check at
// the default argon2id parameters (DefaultArgon2).
func BenchmarkPasswordCheck(b *testing.B) {
	h, err := HashPassword("correct horse battery staple", DefaultArgon2)
	if err != nil {
		b.Fatal(err)
	}
	ph, err := ParseHash(h)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !ph.Matches("correct horse battery staple") {
			b.Fatal("no match")
		}
	}
}

// BenchmarkCheckByKind is the cost of one password check for each kind of
// testdata/generated/every-kind.yml (the Kind names the parameters), and of
// Authelia's own test users' sha512crypt at 500,000 rounds.
func BenchmarkCheckByKind(b *testing.B) {
	db, err := Open(filepath.Join("testdata", "generated", "every-kind.yml"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	hashes := map[string]Hash{}
	for _, u := range db.All() {
		hashes[u.hash.Kind()] = u.hash
	}
	a, err := ParseHash("$6$rounds=500000$jgiCMRyGXzoqpxS3$w2pJeZnnH8bwW3zzvoMWtTRfQYsHbWbD/hquuQ5vUeIyl9gdwBIt6RWk2S6afBA0DPakbeWgD/4SZPiS0hYtU/")
	if err != nil {
		b.Fatal(err)
	}
	hashes[a.Kind()] = a
	kinds := make([]string, 0, len(hashes))
	for k := range hashes {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		h := hashes[k]
		b.Run(k, func(b *testing.B) {
			for b.Loop() {
				if !h.Matches("password") {
					b.Fatal("no match")
				}
			}
		})
	}
}

// BenchmarkLookup is the signed-in request's user lookup (the canonical
// name from the session), with the search options on; BenchmarkCanonical
// is the sign-in's mapping of a typed name, by email, folded.
func BenchmarkLookup(b *testing.B) {
	db := benchSearchDB(b)
	b.ReportAllocs()
	for b.Loop() {
		if db.Lookup("Alice") == nil {
			b.Fatal("no user")
		}
	}
}

func BenchmarkCanonical(b *testing.B) {
	db := benchSearchDB(b)
	b.ReportAllocs()
	for b.Loop() {
		if db.Canonical("ALICE@example.com") != "Alice" {
			b.Fatal("not found")
		}
	}
}

func benchSearchDB(b *testing.B) *DB {
	h, err := HashPassword("pw", cheap)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "users.yml")
	if err := os.WriteFile(path, []byte("users:\n  Alice:\n    email: alice@example.com\n    password: \""+h+"\"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	db, err := Open(path, Options{SearchEmail: true, CaseInsensitive: true})
	if err != nil {
		b.Fatal(err)
	}
	return db
}
