package recovery

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

// keyed is a Hasher like seal.Keys.HashCode: HMAC-SHA256 under a fixed key.
func keyed(code string) []byte {
	m := hmac.New(sha256.New, []byte("test key"))
	m.Write([]byte(code))
	return m.Sum(nil)
}

var shape = regexp.MustCompile(`^[23456789abcdefghjkmnpqrstvwxyz]{4}-[23456789abcdefghjkmnpqrstvwxyz]{4}-[23456789abcdefghjkmnpqrstvwxyz]{4}$`)

func TestGenerate(t *testing.T) {
	codes, hashes, err := Generate(keyed)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 10 || len(hashes) != 10 || Count != 10 {
		t.Fatalf("Generate gave %d codes and %d hashes, want 10 each", len(codes), len(hashes))
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if !shape.MatchString(c) {
			t.Errorf("code %q does not look like xxxx-xxxx-xxxx from the unambiguous alphabet", c)
		}
		if !Looks(c) {
			t.Errorf("Looks(%q) = false for a generated code", c)
		}
		if seen[c] {
			t.Errorf("code %q given twice", c)
		}
		seen[c] = true
		if !bytes.Equal(hashes[i], keyed(Normalize(c))) {
			t.Errorf("hash %d is not the hash of code %d", i, i)
		}
		if bytes.Contains(hashes[i], []byte(Normalize(c))) {
			t.Errorf("stored hash %d contains the code", i)
		}
	}
}

// Codes use every symbol of the alphabet and nothing else: 12 symbols of 30
// give about 59 bits, which is what makes a fast keyed hash enough.
func TestGenerateUsesWholeAlphabet(t *testing.T) {
	counts := map[rune]int{}
	for range 20 {
		codes, _, err := Generate(keyed)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range codes {
			for _, r := range strings.ReplaceAll(c, "-", "") {
				counts[r]++
			}
		}
	}
	// 2400 symbols: a given symbol is missing with probability ~1e-35.
	for _, r := range alphabet {
		if counts[r] == 0 {
			t.Errorf("symbol %q never drawn in 2400 symbols", r)
		}
	}
	for r := range counts {
		if !strings.ContainsRune(alphabet, r) {
			t.Errorf("symbol %q outside the alphabet", r)
		}
	}
	for _, ambiguous := range "01ilou" {
		if counts[ambiguous] != 0 {
			t.Errorf("ambiguous symbol %q used", ambiguous)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"k7fq-2mzp-x9ab":   "k7fq2mzpx9ab",
		"K7FQ-2MZP-X9AB":   "k7fq2mzpx9ab",
		"K7FQ 2MZP X9AB":   "k7fq2mzpx9ab",
		"k7fq\t2mzp\tx9ab": "k7fq2mzpx9ab",
		"k7fq2mzpx9ab":     "k7fq2mzpx9ab",
		"k-7-f-q":          "k7fq",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLooks(t *testing.T) {
	for s, want := range map[string]bool{
		"k7fq-2mzp-x9ab":      true,
		"K7FQ 2MZP X9AB":      true,
		"k7fq2mzpx9ab":        true,
		"":                    false,
		"k7fq-2mzp-x9a":       false, // too short
		"k7fq-2mzp-x9abc":     false, // too long
		"k7fq-2mzp-x9a0":      false, // 0 is not in the alphabet
		"k7fq-2mzp-x9ao":      false, // nor o
		"k7fq-2mzp-x9a1":      false,
		"k7fq-2mzp-x9al":      false,
		"k7fq-2mzp-x9a!":      false,
		"123456":              false, // a TOTP code
		"k7fq-2mzp-x9a\u00e9": false, // 13 bytes, not ASCII
	} {
		if got := Looks(s); got != want {
			t.Errorf("Looks(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestMatch(t *testing.T) {
	codes, hashes, err := Generate(keyed)
	if err != nil {
		t.Fatal(err)
	}
	// Every position is found, the last as well as the first.
	for i, c := range codes {
		if got := Match(c, keyed, hashes); got != i {
			t.Errorf("Match(code %d) = %d", i, got)
		}
		typed := strings.ToUpper(strings.ReplaceAll(c, "-", " "))
		if got := Match(typed, keyed, hashes); got != i {
			t.Errorf("Match(%q) = %d, want %d", typed, got, i)
		}
	}
	if got := Match("2345-6789-abcd", keyed, hashes); got != -1 {
		t.Errorf("Match of a code not issued = %d, want -1", got)
	}
	if got := Match(codes[0], keyed, nil); got != -1 {
		t.Errorf("Match against no stored hashes = %d, want -1", got)
	}
	// A code's hash under another key does not match.
	other := func(code string) []byte {
		m := hmac.New(sha256.New, []byte("another key"))
		m.Write([]byte(code))
		return m.Sum(nil)
	}
	if got := Match(codes[0], other, hashes); got != -1 {
		t.Errorf("Match with another key = %d, want -1", got)
	}
}

func TestMatchLooksPastOddEntries(t *testing.T) {
	h := keyed("k7fq2mzpx9ab")
	var calls atomic.Int32
	counting := func(code string) []byte { calls.Add(1); return keyed(code) }
	// Odd entries (empty, short, a prefix of the hash) are compared without
	// panicking or matching, and the match behind them is still found.
	stored := [][]byte{nil, {}, h[:16], append(append([]byte(nil), h...), 0), keyed("other"), h, keyed("x"), h}
	if got := Match("K7FQ-2MZP-X9AB", counting, stored); got != 5 {
		t.Fatalf("Match = %d, want 5 (the first equal hash)", got)
	}
	// The code is hashed once, not once per stored hash.
	if n := calls.Load(); n != 1 {
		t.Fatalf("hasher called %d times, want 1", n)
	}
}
