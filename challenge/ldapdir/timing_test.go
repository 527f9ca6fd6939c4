package ldapdir

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/internal/slapdtest"
)

// TestUnknownAndWrongPasswordTakeTheSameTime: 50 sign-ins' first factor
// (CanonicalName then Authenticate, as the login page does) with an
// unknown name and 50 with a known name and a wrong password, interleaved;
// their medians are within 10 % of each other.
func TestUnknownAndWrongPasswordTakeTheSameTime(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{})
	d := newDir(t, testConfig(s))
	ctx := context.Background()
	measure := func(name string) time.Duration {
		start := time.Now()
		if _, err := d.CanonicalName(ctx, name); err != nil {
			t.Fatal(err)
		}
		u, err := d.Authenticate(ctx, name, "wrong-password")
		took := time.Since(start)
		if err != nil || u != nil {
			t.Fatalf("%s: %v %v", name, u, err)
		}
		return took
	}
	for range 32 { // warm the pool, the server and the timings kept
		measure("alice")
		measure("nobody")
	}
	// Up to three rounds of 50 samples each: a machine busy with other
	// tests can skew one round's medians; a real difference (no dummy
	// bind, no padding) skews every round.
	const n = 50
	var ratios []float64
	for range 3 {
		var known, unknown []time.Duration
		for range n {
			known = append(known, measure("alice"))
			unknown = append(unknown, measure("nobody"))
		}
		slices.Sort(known)
		slices.Sort(unknown)
		mk, mu := known[n/2], unknown[n/2]
		ratio := float64(mu) / float64(mk)
		t.Logf("median wrong password %v, median unknown user %v, ratio %.3f", mk, mu, ratio)
		if ratio >= 0.9 && ratio <= 1.1 {
			return
		}
		ratios = append(ratios, ratio)
	}
	t.Fatalf("unknown user vs wrong password medians: ratios %.3f in three rounds of %d samples, each outside 10%%", ratios, n)
}
