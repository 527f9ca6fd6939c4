package users

import (
	"strings"
	"testing"
	"time"

	"github.com/go-crypt/crypt/algorithm/shacrypt"
)

// docSHACryptWorst is the worst case docs/users-file.md gives for one
// sha2crypt check ("Bounds"): rounds at MaxSHACryptRounds, the longest
// salt and the longest password checked.
const docSHACryptWorst = time.Second

// The worst sha2crypt check a users file and a typed password can make
// together (1,000,000 rounds, a 16-byte salt, a password of
// MaxPasswordBytes) takes less than the documented second, measured as
// CPU time (the machine's cores are shared with other work, which the wall
// clock would count): the fastest of three checks, for sha256crypt (the
// slower per byte) and sha512crypt. A longer password is refused at once.
func TestSHACryptWorstCaseIsUnderTheDocumentedBound(t *testing.T) {
	for _, v := range []shacrypt.Variant{shacrypt.VariantSHA256, shacrypt.VariantSHA512} {
		hr, err := shacrypt.New(shacrypt.WithVariant(v), shacrypt.WithIterations(MaxSHACryptRounds), shacrypt.WithSaltLength(MaxSHACryptSalt))
		if err != nil {
			t.Fatal(err)
		}
		d, err := hr.Hash("password")
		if err != nil {
			t.Fatal(err)
		}
		h := mustParseHash(t, d.Encode())
		pw := strings.Repeat("a", MaxPasswordBytes)
		best := time.Hour
		for range 3 {
			var matched bool
			d := threadCPU(t, func() { matched = h.Matches(pw) })
			if matched {
				t.Fatal("a wrong password matched")
			}
			best = min(best, d)
		}
		t.Logf("%s, %d-byte password: %v", h.Kind(), MaxPasswordBytes, best)
		// Under the race detector (CI) the bound is raceSlowdown times as
		// long: still under what a 1,024-byte password takes there (about 7 s).
		if best > docSHACryptWorst*raceSlowdown {
			t.Errorf("%s with a %d-byte password takes %v; docs/users-file.md says under %v", h.Kind(), MaxPasswordBytes, best, docSHACryptWorst)
		}
		start := time.Now()
		if h.Matches(pw + "a") {
			t.Fatal("a password over MaxPasswordBytes matched")
		}
		if d := time.Since(start); d > 5*time.Millisecond*raceSlowdown {
			t.Errorf("a password of %d bytes was hashed (%v)", MaxPasswordBytes+1, d)
		}
	}
}
