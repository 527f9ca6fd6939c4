package users

import "testing"

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
