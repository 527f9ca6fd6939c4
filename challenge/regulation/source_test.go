package regulation

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
)

// testSmartLockout runs the per-source password lockout against one pair
// of stores: both sides, the attacker's and the user's.
func testSmartLockout(t *testing.T, newStores newStores) {
	ctx := context.Background()
	newReg := func(t *testing.T, mod func(*Limits)) *Regulation { return regulationOn(t, newStores, mod) }
	familiar := PasswordSource{Addr: "203.0.113.50", Browser: "f00df00d"}
	addr := func(i int) PasswordSource { return PasswordSource{Addr: fmt.Sprintf("198.51.100.%d", i)} }
	// fail makes a wrong password of user from src and returns what it locked.
	fail := func(t *testing.T, r *Regulation, user string, src PasswordSource) SourceKind {
		t.Helper()
		v, a, err := r.BeforePassword(ctx, user, src)
		if err != nil || !v.Allowed {
			t.Fatalf("attempt of %s from %+v refused: %+v, %v", user, src, v, err)
		}
		locked, err := r.PasswordFailed(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		return locked
	}
	allowedFrom := func(t *testing.T, r *Regulation, user string, src PasswordSource) {
		t.Helper()
		if v, err := before(r, user, src); err != nil || !v.Allowed {
			t.Fatalf("%s from %+v: %+v, %v; want allowed", user, src, v, err)
		}
	}
	refusedFrom := func(t *testing.T, r *Regulation, user string, src PasswordSource, reason Reason) Verdict {
		t.Helper()
		v, err := before(r, user, src)
		if err != nil || v.Allowed || v.Reason != reason {
			t.Fatalf("%s from %+v: %+v, %v; want refused for %q", user, src, v, err, reason)
		}
		return v
	}

	t.Run("five wrong passwords lock the address for the user, not the user", func(t *testing.T) {
		r := newReg(t, nil)
		for i := 1; i <= 5; i++ {
			var want SourceKind
			if i == 5 {
				want = "address"
			}
			if got := fail(t, r, "alice", addr(1)); got != want {
				t.Fatalf("failure %d locked %q, want %q", i, got, want)
			}
		}
		v := refusedFrom(t, r, "alice", addr(1), "locked")
		if v.RetryAfter < 4*time.Minute || v.RetryAfter > 5*time.Minute {
			t.Fatalf("retry after %v, want about the 5m ban", v.RetryAfter)
		}
		allowedFrom(t, r, "alice", familiar)
		allowedFrom(t, r, "alice", addr(2))
		allowedFrom(t, r, "bob", addr(1))
		// No account-wide lock: the second factor and app passwords go on.
		if v, err := r.AccountVerdict(ctx, "alice"); err != nil || !v.Allowed {
			t.Fatalf("account verdict %+v, %v", v, err)
		}
		if v, err := r.BeforeCode(ctx, "alice"); err != nil || !v.Allowed {
			t.Fatalf("code verdict %+v, %v", v, err)
		}
		if locks, err := r.SourceLocks(ctx, "alice"); err != nil || !slices.Equal(locks, []SourceLock{LockedAddresses}) {
			t.Fatalf("source locks %v, %v", locks, err)
		}
	})

	t.Run("an IPv6 /64 is one address", func(t *testing.T) {
		// The caller gives the /64 as the address (ipKey); the point here is
		// that addresses are counted apart by what the caller names them.
		r := newReg(t, nil)
		for range 5 {
			fail(t, r, "alice", PasswordSource{Addr: "2001:db8:1:2::/64"})
		}
		refusedFrom(t, r, "alice", PasswordSource{Addr: "2001:db8:1:2::/64"}, "locked")
		allowedFrom(t, r, "alice", PasswordSource{Addr: "2001:db8:1:3::/64"})
	})

	t.Run("familiar browsers have a count of their own", func(t *testing.T) {
		r := newReg(t, nil)
		for i := 1; i <= 5; i++ {
			if got := fail(t, r, "alice", familiar); got != map[bool]SourceKind{true: "browser"}[i == 5] {
				t.Fatalf("familiar failure %d locked %q", i, got)
			}
		}
		refusedFrom(t, r, "alice", familiar, "locked")
		allowedFrom(t, r, "alice", addr(1))
		if locks, _ := r.SourceLocks(ctx, "alice"); !slices.Equal(locks, []SourceLock{LockedFamiliar}) {
			t.Fatalf("source locks %v", locks)
		}
	})

	t.Run("the cap of unfamiliar failures locks every unfamiliar source, not familiar ones", func(t *testing.T) {
		r := newReg(t, func(l *Limits) {
			l.MaxUnfamiliarFailures = 10
			l.LoginPerUser = limit.Limit{Rate: 100, Period: time.Minute}
		})
		known := addr(200)
		if err := r.SignedInFrom(ctx, "alice", known.Addr); err != nil {
			t.Fatal(err)
		}
		// Five addresses, two wrong passwords each: none is locked by its
		// own count, the tenth reaches the cap.
		for i := 1; i <= 10; i++ {
			got := fail(t, r, "alice", addr((i+1)/2))
			if want := map[bool]SourceKind{true: "unfamiliar"}[i == 10]; got != want {
				t.Fatalf("failure %d locked %q, want %q", i, got, want)
			}
		}
		// Locked until the count lets one more through (at least ban_time).
		v := refusedFrom(t, r, "alice", addr(50), "unfamiliar")
		if v.RetryAfter < 2*time.Hour || v.RetryAfter > 150*time.Minute {
			t.Fatalf("retry after %v, want about 2.4h", v.RetryAfter)
		}
		refusedFrom(t, r, "alice", addr(1), "unfamiliar")
		allowedFrom(t, r, "alice", familiar)
		allowedFrom(t, r, "alice", known)
		allowedFrom(t, r, "bob", addr(50))
		if locks, _ := r.SourceLocks(ctx, "alice"); !slices.Equal(locks, []SourceLock{LockedUnfamiliar}) {
			t.Fatalf("source locks %v", locks)
		}
		// A right password from the familiar browser does not empty the count.
		_, a, _ := r.BeforePassword(ctx, "alice", familiar)
		if err := r.PasswordOK(ctx, a); err != nil {
			t.Fatal(err)
		}
		refusedFrom(t, r, "alice", addr(50), "unfamiliar")
		// The lock is lifted (here: by hand, the count untouched): the next
		// wrong one locks again, until the count lets one more through: 10
		// a day is one every 2.4 hours.
		gen, _ := r.generation(ctx, "alice")
		if err := r.kv.Delete(ctx, PasswordAttempt{user: "alice", gen: gen}.key(prefixPasswordLock, sideUnfamiliar)); err != nil {
			t.Fatal(err)
		}
		if got := fail(t, r, "alice", addr(51)); got != "unfamiliar" {
			t.Fatalf("failure past the cap locked %q", got)
		}
		v = refusedFrom(t, r, "alice", addr(52), "unfamiliar")
		if v.RetryAfter < 2*time.Hour || v.RetryAfter > 150*time.Minute {
			t.Fatalf("retry after %v, want about 2.4h", v.RetryAfter)
		}
		was, err := r.Unlock(ctx, "alice")
		if err != nil || !was {
			t.Fatalf("Unlock = %v, %v", was, err)
		}
		allowedFrom(t, r, "alice", addr(52))
		allowedFrom(t, r, "alice", addr(1))
		if locks, _ := r.SourceLocks(ctx, "alice"); locks != nil {
			t.Fatalf("source locks after unlock: %v", locks)
		}
		// The count was forgotten too.
		if got := fail(t, r, "alice", addr(53)); got != "" {
			t.Fatalf("a failure after unlock locked %q", got)
		}
	})

	t.Run("a familiar address is still locked by its own count", func(t *testing.T) {
		// An attacker behind the same NAT as the user.
		r := newReg(t, nil)
		known := addr(200)
		if err := r.SignedInFrom(ctx, "alice", known.Addr); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			fail(t, r, "alice", known)
		}
		refusedFrom(t, r, "alice", known, "locked")
		allowedFrom(t, r, "alice", familiar)
	})

	t.Run("a right password forgets the source's failures, not the unfamiliar count", func(t *testing.T) {
		r := newReg(t, func(l *Limits) { l.MaxUnfamiliarFailures = 6 })
		for range 4 {
			fail(t, r, "alice", addr(1))
		}
		_, a, _ := r.BeforePassword(ctx, "alice", addr(1))
		if err := r.PasswordOK(ctx, a); err != nil {
			t.Fatal(err)
		}
		// The address's count was forgotten (a fifth failure there does not
		// lock it); the count of unfamiliar sources was not: the user's own
		// sign-ins give a distributed guesser no more tries.
		if got := fail(t, r, "alice", addr(1)); got != "" {
			t.Fatalf("the first failure after a right password locked %q", got)
		}
		if got := fail(t, r, "alice", addr(1)); got != "unfamiliar" {
			t.Fatalf("the sixth unfamiliar failure locked %q, want every unfamiliar source", got)
		}
	})

	t.Run("a familiar browser gets at most the daily cap of wrong passwords", func(t *testing.T) {
		// The 5-in-2-minutes lock out of the way: the daily count is what
		// stops a copied cookie that guesses slowly.
		r := newReg(t, func(l *Limits) { l.MaxFailures, l.MaxUnfamiliarFailures = 50, 6 })
		copied := PasswordSource{Addr: "198.51.100.7", Browser: "0badc0de"}
		own := PasswordSource{Addr: "203.0.113.50", Browser: "feedface"}
		for i := range 6 {
			var want SourceKind
			if i == 5 {
				want = "browser"
			}
			if got := fail(t, r, "alice", copied); got != want {
				t.Fatalf("failure %d from a familiar browser locked %q, want %q", i+1, got, want)
			}
		}
		refusedFrom(t, r, "alice", copied, "locked")
		allowedFrom(t, r, "alice", own)
		allowedFrom(t, r, "alice", addr(1)) // nor every unfamiliar source
	})

	t.Run("a copied familiar cookie locks only the browser it came from", func(t *testing.T) {
		r := newReg(t, nil)
		copied := PasswordSource{Addr: "198.51.100.7", Browser: "0badc0de"}
		own := PasswordSource{Addr: "203.0.113.50", Browser: "feedface"}
		for range 5 {
			fail(t, r, "alice", copied)
		}
		refusedFrom(t, r, "alice", copied, "locked")
		allowedFrom(t, r, "alice", own)
		if locks, err := r.SourceLocks(ctx, "alice"); err != nil || len(locks) != 1 || locks[0] != LockedFamiliar {
			t.Fatalf("SourceLocks = %v, %v; want [%s]", locks, err, LockedFamiliar)
		}
	})

	t.Run("per-user rates are kept apart by source", func(t *testing.T) {
		r := newReg(t, func(l *Limits) {
			l.LoginPerUser = limit.Limit{Rate: 4, Period: time.Minute}
			l.LoginPerIP = limit.Limit{Rate: 3, Period: time.Minute}
		})
		known := addr(200)
		if err := r.SignedInFrom(ctx, "alice", known.Addr); err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			allowedFrom(t, r, "alice", addr(i+1))
		}
		refusedFrom(t, r, "alice", addr(9), "user")
		// An attacker exhausting the unfamiliar rate leaves familiar ones.
		allowedFrom(t, r, "alice", familiar)
		allowedFrom(t, r, "alice", known)
		// A familiar browser is not held to the rate of its address, which
		// an attacker behind the same NAT can use up.
		for _, u := range []string{"u1", "u2", "u3"} {
			allowedFrom(t, r, u, PasswordSource{Addr: familiar.Addr})
		}
		refusedFrom(t, r, "u4", PasswordSource{Addr: familiar.Addr}, "ip")
		allowedFrom(t, r, "alice", familiar)
		// Nor to that of another familiar browser there (a colleague's, or
		// a copied cookie), which has its own.
		colleague := PasswordSource{Addr: familiar.Addr, Browser: "c011ea9e"}
		for range 3 {
			allowedFrom(t, r, "bob", colleague)
		}
		refusedFrom(t, r, "bob", colleague, "ip")
		allowedFrom(t, r, "alice", familiar)
		// Unlock forgets the rates too.
		if _, err := r.Unlock(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		allowedFrom(t, r, "alice", addr(9))
	})

	t.Run("unlock lifts the locks of every address", func(t *testing.T) {
		r := newReg(t, nil)
		for _, src := range []PasswordSource{addr(1), addr(2), familiar} {
			for range 5 {
				fail(t, r, "alice", src)
			}
		}
		if locks, _ := r.SourceLocks(ctx, "alice"); !slices.Equal(locks, []SourceLock{LockedAddresses, LockedFamiliar}) {
			t.Fatalf("source locks %v", locks)
		}
		was, err := r.Unlock(ctx, "alice")
		if err != nil || !was {
			t.Fatalf("Unlock = %v, %v", was, err)
		}
		for _, src := range []PasswordSource{addr(1), addr(2), familiar} {
			allowedFrom(t, r, "alice", src)
			if got := fail(t, r, "alice", src); got != "" {
				t.Fatalf("one failure from %+v after unlock locked %q", src, got)
			}
		}
		if was, _ := r.Unlock(ctx, "alice"); was {
			t.Fatal("Unlock of a user with no lock says it was locked")
		}
	})

	t.Run("a user name cannot reach another user's counts", func(t *testing.T) {
		r := newReg(t, nil)
		// Names that end like the parts of alice's keys.
		for _, name := range []string{"alice|browser", "alice|unfamiliar", "alice|ip:" + addr(1).Addr} {
			for range 5 {
				fail(t, r, name, addr(1))
			}
		}
		allowedFrom(t, r, "alice", addr(1))
		allowedFrom(t, r, "alice", familiar)
		if locks, _ := r.SourceLocks(ctx, "alice"); locks != nil {
			t.Fatalf("alice has source locks %v", locks)
		}
	})

	t.Run("a fraud block is not a password lock", func(t *testing.T) {
		// The sign-in tells of a block only after a right password; the
		// password's own verdict knows nothing of it.
		r := newReg(t, nil)
		if err := r.Block(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		allowedFrom(t, r, "alice", addr(1))
		if v, err := r.AccountVerdict(ctx, "alice"); err != nil || v.Allowed || v.Reason != "blocked" {
			t.Fatalf("account verdict %+v, %v", v, err)
		}
	})
}

func TestSmartLockoutMemory(t *testing.T) { testSmartLockout(t, memoryRegulationStores) }

func TestSmartLockoutRedis(t *testing.T) { testSmartLockout(t, redisRegulationStores) }
