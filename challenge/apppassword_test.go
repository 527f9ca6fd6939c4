package challenge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
)

var appPasswordForm = regexp.MustCompile(`^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$`)

func TestAppPasswords(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		pw, err := f.e.CreateAppPassword(ctx, "alice", "  Mail on my laptop ")
		if err != nil || !appPasswordForm.MatchString(pw) {
			t.Fatalf("CreateAppPassword = %q, %v", pw, err)
		}
		a, _ := f.e.Account(ctx, "alice")
		if len(a.AppPasswords) != 1 || a.AppPasswords[0].Name != "Mail on my laptop" || bytes.Contains(a.AppPasswords[0].Hash, []byte(strings.ReplaceAll(pw, "-", ""))) {
			t.Fatalf("stored %+v", a.AppPasswords)
		}
		// As typed: any case, dashes or spaces or none.
		for _, typed := range []string{pw, strings.ToUpper(pw), strings.ReplaceAll(pw, "-", ""), strings.ReplaceAll(pw, "-", " ")} {
			name, _, err := f.e.CheckAppPassword(ctx, "alice", typed)
			if err != nil || name != "Mail on my laptop" {
				t.Errorf("CheckAppPassword(%q) = %q, %v", typed, name, err)
			}
		}
		// Only for its user; nothing else passes.
		for _, c := range []struct{ user, secret string }{
			{"bob", pw}, {"alice", "aaaa-aaaa-aaaa-aaaa"}, {"alice", pw[:18]}, {"alice", pw + "a"}, {"alice", "abcd-efgh-ijkl-mno1"}, {"alice", ""},
		} {
			if name, _, err := f.e.CheckAppPassword(ctx, c.user, c.secret); name != "" || err != nil {
				t.Errorf("CheckAppPassword(%s, %q) = %q, %v", c.user, c.secret, name, err)
			}
		}
		// The first use is written down, then at most hourly.
		a, _ = f.e.Account(ctx, "alice")
		if !a.AppPasswords[0].LastUsed.Equal(f.e.Now()) {
			t.Errorf("LastUsed = %v", a.AppPasswords[0].LastUsed)
		}
		f.clock.Advance(30 * time.Minute)
		if _, recorded, _ := f.e.CheckAppPassword(ctx, "alice", pw); recorded {
			t.Error("a use half an hour later was written down")
		}
		f.clock.Advance(31 * time.Minute)
		if _, recorded, _ := f.e.CheckAppPassword(ctx, "alice", pw); !recorded {
			t.Error("a use an hour later was not written down")
		}
		// Revoked, it stops working.
		if ok, err := f.e.RevokeAppPassword(ctx, "alice", a.AppPasswords[0].ID); !ok || err != nil {
			t.Fatalf("RevokeAppPassword = %v, %v", ok, err)
		}
		if name, _, _ := f.e.CheckAppPassword(ctx, "alice", pw); name != "" {
			t.Error("a revoked app password works")
		}
		if ok, _ := f.e.RevokeAppPassword(ctx, "alice", "nope"); ok {
			t.Error("revoked an app password that does not exist")
		}
	})
}

func TestAppPasswordLimits(t *testing.T) {
	f := newPhoneFixture(t, shortStoreKinds[0], nil)
	ctx := context.Background()
	for _, name := range []string{"", "   ", strings.Repeat("x", 65), "tab\there"} {
		if _, err := f.e.CreateAppPassword(ctx, "alice", name); !errors.Is(err, ErrBadAppPasswordName) {
			t.Errorf("name %q: %v", name, err)
		}
	}
	seen := map[string]bool{}
	for i := range MaxAppPasswords {
		pw, err := f.e.CreateAppPassword(ctx, "alice", "app")
		if err != nil || seen[pw] {
			t.Fatalf("app password %d: %q, %v", i, pw, err)
		}
		seen[pw] = true
	}
	if _, err := f.e.CreateAppPassword(ctx, "alice", "one more"); !errors.Is(err, ErrTooManyAppPasswords) {
		t.Fatalf("41st app password: %v", err)
	}
}

// TestAppPasswordFailuresLimited: every app password takes a token of the
// per-address and the per-user limit before it is checked; a right one
// gives them back, a refused one takes none.
func TestAppPasswordFailuresLimited(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		f.regulate(func(l *regulation.Limits) {
			l.AppPasswordPerIP = limit.Limit{Rate: 4, Period: time.Hour}
			l.AppPasswordPerUser = limit.Limit{Rate: 2, Period: time.Hour}
		})
		ctx := context.Background()
		// want is one attempt: refused with reason, or allowed ("") and
		// then right or wrong.
		want := func(user, ip string, reason regulation.Reason, right bool) {
			t.Helper()
			v, a, err := f.e.Regulation.BeforeAppPassword(ctx, user, ip)
			if err != nil || v.Allowed != (reason == "") || v.Reason != reason {
				t.Fatalf("BeforeAppPassword(%s, %s) = %+v, %v; want reason %q", user, ip, v, err, reason)
			}
			if !v.Allowed && v.RetryAfter < time.Second {
				t.Fatalf("refused with RetryAfter %v", v.RetryAfter)
			}
			if v.Allowed && right {
				if err := f.e.Regulation.AppPasswordOK(ctx, a); err != nil {
					t.Fatal(err)
				}
			}
		}
		for range 20 { // a client that syncs often, with its right one
			want("alice", "192.0.2.1", "", true)
		}
		// A guesser elsewhere uses up alice's two for unfamiliar addresses,
		// then waits there, right or wrong, as does any other new address.
		want("alice", "198.51.100.1", "", false)
		want("alice", "198.51.100.1", "", false)
		want("alice", "198.51.100.1", "user", true)
		want("alice", "203.0.113.9", "user", false)
		// Alice's client, where her right app password was used, is not
		// kept out: its wrong ones have a count of their own.
		want("alice", "192.0.2.1", "", true)
		want("alice", "192.0.2.1", "", false)
		want("alice", "192.0.2.1", "", false)
		want("alice", "192.0.2.1", "user", true)
		want("bob", "192.0.2.1", "", false)
		want("carol", "192.0.2.1", "", false) // the address's four
		want("dave", "192.0.2.1", "ip", false)
		want("bob", "198.51.100.1", "", true) // bob from elsewhere
		if _, err := f.e.Regulation.Unlock(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		want("alice", "198.51.100.1", "", false)
	})
}

// burstFixture has app passwords limited per user only (10 a minute; per
// address far above it), for tests of many at once.
func burstFixture(t *testing.T, s shortStores) *phoneFixture {
	t.Helper()
	f := newPhoneFixture(t, s, nil)
	f.regulate(func(l *regulation.Limits) {
		l.AppPasswordPerIP = limit.Limit{Rate: 1000, Period: time.Minute}
		l.AppPasswordPerUser = limit.Limit{Rate: 10, Period: time.Minute}
	})
	return f
}

// TestAppPasswordGuessesRace: 300 wrong app passwords for one user at once
// (on the memory limiter, and on a real Redis) get no more checks than the
// per-user limit allows: its burst of 10, plus one for each 6 s that the
// burst takes on Redis, whose clock the test cannot stop.
func TestAppPasswordGuessesRace(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := burstFixture(t, s)
		ctx := context.Background()
		var checked atomic.Int32
		var wg sync.WaitGroup
		start, begin := make(chan struct{}), time.Now()
		for i := range 300 {
			wg.Go(func() {
				ip := fmt.Sprintf("192.0.2.%d", i%250)
				<-start
				v, a, err := f.e.Regulation.BeforeAppPassword(ctx, "alice", ip)
				if err != nil || !v.Allowed {
					return
				}
				checked.Add(1) // here the gateway checks the app password: wrong
				f.e.Regulation.AppPasswordDone(a)
			})
		}
		close(start)
		wg.Wait()
		bound := int32(10)
		if s.name == "redis" {
			bound += int32(time.Since(begin)/(6*time.Second)) + 1
		}
		if n := checked.Load(); n > bound {
			t.Fatalf("%d of 300 concurrent wrong app passwords were checked, want at most %d", n, bound)
		}
	})
}

// TestAppPasswordRightOnesAtOnce: more right app passwords of one user at
// once than the per-user limit's burst (a sync client with 16 transfers)
// are all let through: a right one's token comes back within the check, so
// the ones past the burst wait for it rather than being refused. Wrong
// ones still use the limit up (TestAppPasswordGuessesRace).
func TestAppPasswordRightOnesAtOnce(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := burstFixture(t, s)
		ctx := context.Background()
		var refused atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 16 {
			wg.Go(func() {
				<-start
				for range 5 {
					v, a, err := f.e.Regulation.BeforeAppPassword(ctx, "alice", "192.0.2.1")
					if err != nil {
						t.Error(err)
						return
					}
					if !v.Allowed {
						refused.Add(1)
						continue
					}
					time.Sleep(20 * time.Millisecond) // the check: right
					if err := f.e.Regulation.AppPasswordOK(ctx, a); err != nil {
						t.Error(err)
					}
				}
			})
		}
		close(start)
		wg.Wait()
		if n := refused.Load(); n > 0 {
			t.Fatalf("%d of 80 right app passwords (16 at a time) were refused", n)
		}
	})
}
