package users

import (
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
