package challenge

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	ptotp "github.com/pquerna/otp/totp"

	"github.com/caddy-mfa/caddy-mfa/challenge/recovery"
	"github.com/caddy-mfa/caddy-mfa/challenge/seal"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/challenge/totp"
)

// clock is a hand-moved clock, safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

type fixture struct {
	e     *Engine
	clock *clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	keys, err := seal.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	c := new(clock)
	// 10 s into a 30 s step.
	c.ns.Store(time.Date(2025, 3, 1, 12, 0, 10, 0, time.UTC).UnixNano())
	var cfg totp.Config
	cfg.Defaults()
	e := &Engine{
		Accounts: store.NewMemoryAccounts(),
		Keys:     keys,
		TOTP:     cfg,
		Methods:  []string{MethodTOTP},
		Now:      c.Now,
	}
	return &fixture{e: e, clock: c}
}

func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := ptotp.GenerateCodeCustom(secret, at, ptotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// now is the current code of secret on the fixture's clock.
func (f *fixture) code(t *testing.T, secret string) string {
	t.Helper()
	return codeAt(t, secret, f.clock.Now())
}

// wrongCode is a six-digit code that no step of secret's window produces now.
func (f *fixture) wrongCode(t *testing.T, secret string) string {
	t.Helper()
	window := map[string]bool{}
	for d := -3; d <= 3; d++ {
		window[codeAt(t, secret, f.clock.Now().Add(time.Duration(d)*30*time.Second))] = true
	}
	for _, w := range []string{"000000", "123456", "999999", "314159"} {
		if !window[w] {
			return w
		}
	}
	t.Fatal("no wrong code found")
	return ""
}

// enrol registers an authenticator app for user and returns its secret and
// the recovery codes.
func (f *fixture) enrol(t *testing.T, user string) (string, []string) {
	t.Helper()
	en, sealed, err := f.e.BeginTOTP(user)
	if err != nil {
		t.Fatalf("BeginTOTP: %v", err)
	}
	codes, err := f.e.ConfirmTOTP(context.Background(), user, sealed, f.code(t, en.Secret))
	if err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	return en.Secret, codes
}

func (f *fixture) account(t *testing.T, user string) *store.Account {
	t.Helper()
	a, err := f.e.Account(context.Background(), user)
	if err != nil {
		t.Fatalf("Account(%q): %v", user, err)
	}
	return a
}

func TestBeginTOTP(t *testing.T) {
	f := newFixture(t)
	en, sealed, err := f.e.BeginTOTP("alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(en.Secret) != 32 || !strings.Contains(en.URL, "secret="+en.Secret) {
		t.Fatalf("enrolment = %+v", en)
	}
	// The sealed seed goes into the session; it must not show the seed.
	if bytes.Contains(sealed, []byte(en.Secret)) {
		t.Fatal("sealed pending seed contains the seed")
	}
	back, err := f.e.PendingTOTP("alice", sealed)
	if err != nil || back.Secret != en.Secret || back.URL != f.e.TOTP.URL("alice", en.Secret) {
		t.Fatalf("PendingTOTP = %+v, %v; want the seed back", back, err)
	}
	// Another user's pending seed does not open: it cannot be planted in
	// a victim's enrolment.
	if _, err := f.e.PendingTOTP("bob", sealed); err == nil {
		t.Fatal("alice's pending seed opened for bob")
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := f.e.PendingTOTP("alice", tampered); err == nil {
		t.Fatal("tampered pending seed opened")
	}
	en2, _, err := f.e.BeginTOTP("alice")
	if err != nil || en2.Secret == en.Secret {
		t.Fatalf("second BeginTOTP gave the same seed (%v)", err)
	}
	// Nothing is stored before the code is confirmed.
	if a := f.account(t, "alice"); a != nil {
		t.Fatalf("BeginTOTP stored an account: %+v", a)
	}
}

func TestConfirmTOTPWrongCodeSavesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	en, sealed, err := f.e.BeginTOTP("alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{f.wrongCode(t, en.Secret), "", "12345", "abcdef"} {
		codes, err := f.e.ConfirmTOTP(ctx, "alice", sealed, code)
		if !errors.Is(err, ErrBadCode) || codes != nil {
			t.Errorf("ConfirmTOTP(%q) = %v, %v; want ErrBadCode", code, codes, err)
		}
	}
	// A right code for a seed sealed for someone else.
	if _, err := f.e.ConfirmTOTP(ctx, "bob", sealed, f.code(t, en.Secret)); err == nil {
		t.Error("bob confirmed alice's pending seed")
	}
	for _, u := range []string{"alice", "bob"} {
		if a := f.account(t, u); a != nil {
			t.Fatalf("failed confirmation stored %s's account: %+v", u, a)
		}
	}
}

func TestConfirmTOTPRegisters(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	secret, codes := f.enrol(t, "alice")

	if len(codes) != recovery.Count {
		t.Fatalf("got %d recovery codes, want %d", len(codes), recovery.Count)
	}
	distinct := map[string]bool{}
	for _, c := range codes {
		if !recovery.Looks(c) {
			t.Errorf("recovery code %q has the wrong shape", c)
		}
		distinct[c] = true
	}
	if len(distinct) != len(codes) {
		t.Fatal("recovery codes repeat")
	}

	a := f.account(t, "alice")
	if !a.HasSecondFactor() {
		t.Fatal("account has no second factor after confirmation")
	}
	tp := a.TOTP
	if tp.Algorithm != "SHA1" || tp.Digits != 6 || tp.Period != 30 {
		t.Fatalf("stored parameters = %s/%d/%d", tp.Algorithm, tp.Digits, tp.Period)
	}
	if tp.LastStep != now.Unix()/30 {
		t.Fatalf("LastStep = %d, want the step of the confirming code %d", tp.LastStep, now.Unix()/30)
	}
	if !tp.Added.Equal(now) || !a.LastSignIn.Equal(now) {
		t.Fatalf("Added = %v, LastSignIn = %v, want %v", tp.Added, a.LastSignIn, now)
	}
	if len(a.RecoveryCodes) != recovery.Count {
		t.Fatalf("stored %d recovery code hashes", len(a.RecoveryCodes))
	}
	opened, err := f.e.Keys.Open(tp.Secret, totpContext("alice"))
	if err != nil || string(opened) != secret {
		t.Fatalf("stored seed opens to %q, %v", opened, err)
	}
}

// A copy of the accounts file (a backup, a stolen disk) gives neither the
// seed nor the recovery codes.
func TestSecretsStoredSealedAndHashed(t *testing.T) {
	f := newFixture(t)
	secret, codes := f.enrol(t, "alice")
	raw, err := json.Marshal(f.account(t, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	stored := string(raw)
	for _, plain := range []string{secret, strings.ToLower(secret), base64.StdEncoding.EncodeToString([]byte(secret))} {
		if strings.Contains(stored, plain) {
			t.Fatalf("stored account contains the TOTP seed (%q)", plain)
		}
	}
	for _, c := range codes {
		n := recovery.Normalize(c)
		for _, plain := range []string{c, n, base64.StdEncoding.EncodeToString([]byte(n))} {
			if strings.Contains(stored, plain) {
				t.Fatalf("stored account contains recovery code %q", plain)
			}
		}
	}
}

func TestConfirmTOTPTwiceIsRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.enrol(t, "alice")
	before := f.account(t, "alice")

	// Someone with alice's password (but not her phone) tries to register
	// their own app on top.
	en, sealed, err := f.e.BeginTOTP("alice")
	if err != nil {
		t.Fatal(err)
	}
	codes, err := f.e.ConfirmTOTP(ctx, "alice", sealed, f.code(t, en.Secret))
	if !errors.Is(err, ErrAlreadyEnrolled) || codes != nil {
		t.Fatalf("second ConfirmTOTP = %v, %v; want ErrAlreadyEnrolled", codes, err)
	}
	after := f.account(t, "alice")
	if !bytes.Equal(after.TOTP.Secret, before.TOTP.Secret) || !slices.EqualFunc(after.RecoveryCodes, before.RecoveryCodes, bytes.Equal) {
		t.Fatal("refused enrolment changed the registered app or recovery codes")
	}
}

// Two enrolments racing (the user and someone with the password): exactly
// one app is registered and the others are told so.
func TestConcurrentConfirmTOTP(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const n = 8
	type pending struct {
		secret string
		sealed []byte
	}
	var ps []pending
	for range n {
		en, sealed, err := f.e.BeginTOTP("alice")
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, pending{en.Secret, sealed})
	}
	var wg sync.WaitGroup
	var ok atomic.Int32
	winner := make(chan string, n)
	for _, p := range ps {
		code := f.code(t, p.secret)
		wg.Go(func() {
			_, err := f.e.ConfirmTOTP(ctx, "alice", p.sealed, code)
			switch {
			case err == nil:
				ok.Add(1)
				winner <- p.secret
			case !errors.Is(err, ErrAlreadyEnrolled):
				t.Errorf("losing ConfirmTOTP: %v, want ErrAlreadyEnrolled", err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d concurrent enrolments succeeded, want 1", ok.Load())
	}
	secret := <-winner
	opened, err := f.e.Keys.Open(f.account(t, "alice").TOTP.Secret, totpContext("alice"))
	if err != nil || string(opened) != secret {
		t.Fatal("stored seed is not the one whose enrolment succeeded")
	}
}

func TestCheckTOTP(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret, _ := f.enrol(t, "alice")
	enrolCode := f.code(t, secret)

	// The code that confirmed the enrolment cannot sign in again.
	if err := f.e.CheckTOTP(ctx, "alice", enrolCode); !errors.Is(err, ErrBadCode) {
		t.Fatalf("code used at enrolment: err = %v, want ErrBadCode", err)
	}
	// Still within its skew window 30 s later, and still refused.
	f.clock.Advance(30 * time.Second)
	if err := f.e.CheckTOTP(ctx, "alice", enrolCode); !errors.Is(err, ErrBadCode) {
		t.Fatalf("code used at enrolment, one step later: err = %v, want ErrBadCode", err)
	}
	if err := f.e.CheckTOTP(ctx, "alice", f.wrongCode(t, secret)); !errors.Is(err, ErrBadCode) {
		t.Fatalf("wrong code: err = %v, want ErrBadCode", err)
	}
	lastStep := f.account(t, "alice").TOTP.LastStep

	code := f.code(t, secret)
	if err := f.e.CheckTOTP(ctx, "alice", code[:3]+" "+code[3:]); err != nil {
		t.Fatalf("current code: %v", err)
	}
	a := f.account(t, "alice")
	now := f.clock.Now()
	if a.TOTP.LastStep != lastStep+1 || !a.TOTP.LastUsed.Equal(now) || !a.LastSignIn.Equal(now) {
		t.Fatalf("after a sign-in LastStep = %d (was %d), LastUsed = %v, LastSignIn = %v", a.TOTP.LastStep, lastStep, a.TOTP.LastUsed, a.LastSignIn)
	}
	if err := f.e.CheckTOTP(ctx, "alice", code); !errors.Is(err, ErrBadCode) {
		t.Fatalf("replayed code: err = %v, want ErrBadCode", err)
	}
}

func TestCheckTOTPWithoutApp(t *testing.T) {
	f := newFixture(t)
	if err := f.e.CheckTOTP(context.Background(), "mallory", "123456"); !errors.Is(err, ErrBadCode) {
		t.Fatalf("CheckTOTP for a user without an app: err = %v, want ErrBadCode", err)
	}
	if a := f.account(t, "mallory"); a != nil {
		t.Fatalf("failed check created an account: %+v", a)
	}
}

// Someone who watched a code being typed races the user with it: one wins.
func TestConcurrentCheckTOTPSameCode(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret, _ := f.enrol(t, "alice")
	f.clock.Advance(30 * time.Second)
	code := f.code(t, secret)

	const n = 20
	var wg sync.WaitGroup
	var ok atomic.Int32
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			err := f.e.CheckTOTP(ctx, "alice", code)
			switch {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, ErrBadCode):
				t.Errorf("CheckTOTP: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d of %d concurrent checks of one code succeeded, want exactly 1", ok.Load(), n)
	}
}

// An operator who changes the TOTP settings does not lock out users who
// registered under the old ones.
func TestCheckTOTPUsesRegisteredParameters(t *testing.T) {
	f := newFixture(t)
	secret, _ := f.enrol(t, "alice")
	f.e.TOTP.Digits, f.e.TOTP.Algorithm, f.e.TOTP.Period = 8, "SHA512", 60*time.Second
	f.clock.Advance(30 * time.Second)
	if err := f.e.CheckTOTP(context.Background(), "alice", f.code(t, secret)); err != nil {
		t.Fatalf("6-digit SHA1 code after the settings changed: %v", err)
	}
}

// A sealed seed copied into another user's record does not open there, so
// an attacker who can write the store cannot give bob alice's app.
func TestCheckTOTPSeedBoundToUser(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret, _ := f.enrol(t, "alice")
	alice := f.account(t, "alice")
	if err := f.e.Accounts.Update(ctx, "bob", func(a *store.Account) error {
		a.TOTP = alice.TOTP
		a.TOTP.LastStep = 0
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(30 * time.Second)
	if err := f.e.CheckTOTP(ctx, "bob", f.code(t, secret)); err == nil {
		t.Fatal("alice's seed, copied to bob, accepted alice's code for bob")
	}
}

func TestUseRecoveryCode(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, codes := f.enrol(t, "alice")
	_, bobCodes := f.enrol(t, "bob")

	if err := f.e.UseRecoveryCode(ctx, "alice", codes[3]); err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	if n := len(f.account(t, "alice").RecoveryCodes); n != recovery.Count-1 {
		t.Fatalf("%d recovery codes left after one use, want %d", n, recovery.Count-1)
	}
	if err := f.e.UseRecoveryCode(ctx, "alice", codes[3]); !errors.Is(err, ErrBadCode) {
		t.Fatalf("recovery code used twice: err = %v, want ErrBadCode", err)
	}
	// As typed from paper: upper case, spaces.
	typed := strings.ToUpper(strings.ReplaceAll(codes[9], "-", " "))
	if err := f.e.UseRecoveryCode(ctx, "alice", typed); err != nil {
		t.Fatalf("recovery code %q as typed: %v", typed, err)
	}
	// The other codes still work.
	if err := f.e.UseRecoveryCode(ctx, "alice", codes[0]); err != nil {
		t.Fatalf("another recovery code: %v", err)
	}
	for _, bad := range []string{"", "123456", "not-a-code", "2345-6789-abcd", bobCodes[0]} {
		if err := f.e.UseRecoveryCode(ctx, "alice", bad); !errors.Is(err, ErrBadCode) {
			t.Errorf("UseRecoveryCode(%q) = %v, want ErrBadCode", bad, err)
		}
	}
	if n := len(f.account(t, "alice").RecoveryCodes); n != recovery.Count-3 {
		t.Fatalf("%d recovery codes left, want %d", n, recovery.Count-3)
	}
	if n := len(f.account(t, "bob").RecoveryCodes); n != recovery.Count {
		t.Fatalf("trying bob's code for alice used it up: bob has %d", n)
	}
	if err := f.e.UseRecoveryCode(ctx, "mallory", codes[1]); !errors.Is(err, ErrBadCode) {
		t.Fatalf("recovery code for a user without an account: %v", err)
	}
	if a := f.account(t, "mallory"); a != nil {
		t.Fatalf("failed recovery created an account: %+v", a)
	}
}

// brokenAccounts is a store that cannot be reached.
type brokenAccounts struct{}

var errDown = errors.New("dial tcp 127.0.0.1:6379: connection refused")

func (brokenAccounts) Get(context.Context, string) (*store.Account, error) { return nil, errDown }
func (brokenAccounts) Update(context.Context, string, func(*store.Account) error) error {
	return errDown
}
func (brokenAccounts) Delete(context.Context, string) error { return errDown }

// A store outage is a 503, never "no account" (which would send the user
// to register a new app) and never "wrong code".
func TestStoreOutageFailsClosed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	en, sealed, err := f.e.BeginTOTP("alice")
	if err != nil {
		t.Fatal(err)
	}
	f.e.Accounts = brokenAccounts{}

	a, err := f.e.Account(ctx, "alice")
	if a != nil || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Account with the store down = %+v, %v; want ErrUnavailable", a, err)
	}
	if _, err := f.e.ConfirmTOTP(ctx, "alice", sealed, f.code(t, en.Secret)); !errors.Is(err, store.ErrUnavailable) || errors.Is(err, ErrBadCode) {
		t.Fatalf("ConfirmTOTP with the store down: %v, want ErrUnavailable", err)
	}
	if err := f.e.CheckTOTP(ctx, "alice", "123456"); !errors.Is(err, store.ErrUnavailable) || errors.Is(err, ErrBadCode) {
		t.Fatalf("CheckTOTP with the store down: %v, want ErrUnavailable", err)
	}
	if err := f.e.UseRecoveryCode(ctx, "alice", "2345-6789-abcd"); !errors.Is(err, store.ErrUnavailable) || errors.Is(err, ErrBadCode) {
		t.Fatalf("UseRecoveryCode with the store down: %v, want ErrUnavailable", err)
	}
}

func TestAccountNotFoundIsNil(t *testing.T) {
	f := newFixture(t)
	a, err := f.e.Account(context.Background(), "nobody")
	if a != nil || err != nil {
		t.Fatalf("Account of a new user = %+v, %v; want nil, nil", a, err)
	}
}

func TestMethodEnabled(t *testing.T) {
	f := newFixture(t)
	if !f.e.MethodEnabled(MethodTOTP) {
		t.Fatal("totp not enabled")
	}
	if f.e.MethodEnabled("sms") || f.e.MethodEnabled("") || f.e.MethodEnabled("TOTP") {
		t.Fatal("a method the operator did not list is enabled")
	}
	f.e.Methods = nil
	if f.e.MethodEnabled(MethodTOTP) {
		t.Fatal("totp enabled with no methods listed")
	}
}
