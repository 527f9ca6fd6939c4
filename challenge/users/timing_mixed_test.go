package users

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-crypt/crypt/algorithm/shacrypt"
)

// In a file where most users have a cheap hash and one a dear one (four
// sha512crypt users at 5,000 rounds, one rehashed to argon2id, one left
// out by on_bad_hash skip), a wrong password takes as long for every name,
// known, left out or unknown: every failed check is padded to the slowest
// kind of the file. The reviewer's case; medians of 31 interleaved checks
// each within 20 % of each other.
func TestFailedChecksTakeAsLongAsTheSlowestKind(t *testing.T) {
	hr, err := shacrypt.New(shacrypt.WithVariant(shacrypt.VariantSHA512), shacrypt.WithIterations(5000))
	if err != nil {
		t.Fatal(err)
	}
	d, err := hr.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	sha := d.Encode()
	file := "users:\n"
	for _, n := range []string{"ann", "ben", "cat", "dan"} {
		file += "  " + n + ":\n    password: '" + sha + "'\n"
	}
	arg, err := HashPassword("pw", DefaultArgon2)
	if err != nil {
		t.Fatal(err)
	}
	file += "  eve:\n    password: '" + arg + "'   # rehashed on her last sign-in\n"
	file += "  zed:\n    password: '$md5$skipped'\n"
	db, err := Open(writeTemp(t, file), Options{OnBadHash: OnBadHashSkip, CaseInsensitive: true})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"ann", "eve", "zed", "nobody"}
	samples := make([][]time.Duration, len(names))
	for range 31 {
		for i, n := range names {
			start := time.Now()
			if auth(t, db, db.Canonical(n), "wrong") != nil {
				t.Fatal("a wrong password signed in")
			}
			samples[i] = append(samples[i], time.Since(start))
		}
	}
	medians := make([]time.Duration, len(names))
	for i := range names {
		slices.Sort(samples[i])
		medians[i] = samples[i][len(samples[i])/2]
		t.Logf("%-7s median wrong-password check %v", names[i], medians[i])
	}
	lo, hi := slices.Min(medians), slices.Max(medians)
	if hi > lo*12/10 {
		t.Errorf("medians of wrong-password checks range from %v to %v (more than 20%% apart): %v for %v", lo, hi, medians, names)
	}
	// A right password is padded too: were it answered at once, a client
	// could drop every request not answered by then (a wrong guess) before
	// its failure is counted.
	start := time.Now()
	if auth(t, db, "ann", "pw") == nil {
		t.Fatal("ann does not sign in")
	}
	if d := time.Since(start); d < lo*8/10 {
		t.Errorf("a right sha512crypt password took %v; a failed check %v", d, lo)
	}
}

// The padding waits on the DB's clock and ends with ctx: a caller gone
// does not hold a goroutine for the rest of it, and the answer is still
// the check's (a failure the caller counts), not an error it might take
// for "nothing was checked".
func TestPaddingEndsWithContext(t *testing.T) {
	db, _ := openTestDB(t, usersFile(t, "alice-pw"))
	never := make(chan time.Time)
	db.after = func(time.Duration) <-chan time.Time { return never }
	db.pad.set("slow/kind", time.Hour)
	db.pad.kinds.Store(&kindSet{names: []string{"slow/kind"}})
	for _, pw := range []string{"wrong", "alice-pw"} {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		start := time.Now()
		u, err := db.Authenticate(ctx, "alice", pw)
		cancel()
		if err != nil {
			t.Fatalf("%s: a check cut short in its padding returned %v", pw, err)
		}
		if (u != nil) != (pw == "alice-pw") {
			t.Fatalf("%s: user %v", pw, u)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("%s: the padding did not end with ctx: %v", pw, d)
		}
	}
}

// A password too long to be hashed does not teach the padder that a kind
// is cheap: a flood of them cannot shrink the padding of later failures.
func TestUnhashedPasswordsDoNotLowerThePadding(t *testing.T) {
	db, _ := openTestDB(t, usersFile(t, "alice-pw"))
	kind := db.t.Load().users["alice"].hash.Kind()
	db.pad.set(kind, 40*time.Millisecond)
	for range 50 {
		if auth(t, db, "alice", strings.Repeat("x", MaxPasswordBytes+1)) != nil {
			t.Fatal("a long password signed in")
		}
	}
	if got := db.pad.target(); got < 40*time.Millisecond {
		t.Fatalf("after 50 unhashed passwords the padding is %v; was 40ms", got)
	}
}
