// Package recovery makes and checks recovery codes: single-use codes shown
// once at enrolment, stored only as keyed hashes.
package recovery

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"strings"
)

// Count is how many codes a user gets.
const Count = 10

// alphabet has 30 symbols (12 of them give 58 bits) without 0/o, 1/i/l or u.
const alphabet = "23456789abcdefghjkmnpqrstvwxyz"

// groupLen and groups give codes like "k7fq-2mzp-x9ab": 12 symbols.
const (
	groupLen = 4
	groups   = 3
)

// Hasher hashes a normalised code; seal.Keys.HashCode with a fixed purpose.
type Hasher func(code string) []byte

// Generate returns Count new codes (to show once) and their hashes (to store).
func Generate(hash Hasher) (codes []string, hashes [][]byte, err error) {
	for range Count {
		c, err := newCode()
		if err != nil {
			return nil, nil, err
		}
		codes = append(codes, c)
		hashes = append(hashes, hash(Normalize(c)))
	}
	return codes, hashes, nil
}

func newCode() (string, error) { return Random(groups) }

// Random returns a new code of n groups of four symbols of the recovery
// codes' alphabet (easy to read aloud: no 0/o, 1/i/l or u), about 4.9
// bits a symbol: "k7fq-2mzp" for n = 2.
func Random(n int) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	// Rejection sampling: bytes at or above the largest multiple of
	// len(alphabet) are drawn again, so every symbol is equally likely.
	limit := byte(256 / len(alphabet) * len(alphabet))
	for i := 0; i < groupLen*n; {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("generating a code: %w", err)
		}
		if buf[0] >= limit {
			continue
		}
		if i > 0 && i%groupLen == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(alphabet[int(buf[0])%len(alphabet)])
		i++
	}
	return b.String(), nil
}

// Normalize lower-cases a typed code and drops separators and spaces, so
// "K7FQ 2MZP X9AB" and "k7fq-2mzp-x9ab" are the same code.
func Normalize(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			return -1
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return r
	}, code)
}

// Looks reports whether s has the shape of a recovery code (not whether it is right).
func Looks(s string) bool { return LooksLike(s, groups) }

// LooksLike reports whether s has the shape of a code of Random(n) (not
// whether it is right).
func LooksLike(s string, n int) bool {
	c := Normalize(s)
	if len(c) != groupLen*n {
		return false
	}
	return strings.Trim(c, alphabet) == ""
}

// Match returns the index of the stored hash that code matches, or -1. Every
// hash is compared, in constant time each.
func Match(code string, hash Hasher, stored [][]byte) int {
	h := hash(Normalize(code))
	found := -1
	for i, s := range stored {
		if subtle.ConstantTimeCompare(h, s) == 1 && found < 0 {
			found = i
		}
	}
	return found
}
