package challenge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// shortStores is a kind of store for short-lived state (the KV and the rate
// limiter) that the phone tests run against. open returns a fresh pair, and
// advance, which moves their clocks and the Engine's clock c by d.
type shortStores struct {
	name string
	open func(t *testing.T, c *clock) (store.KV, limit.Limiter, func(time.Duration))
}

var shortStoreKinds = []shortStores{
	{"memory", func(t *testing.T, c *clock) (store.KV, limit.Limiter, func(time.Duration)) {
		kv, lim := store.NewMemoryKV(), limit.NewMemory()
		kv.SetClock(c.Now)
		lim.SetClock(c.Now)
		return kv, lim, c.Advance
	}},
	{"redis", func(t *testing.T, c *clock) (store.KV, limit.Limiter, func(time.Duration)) {
		rdb, prefix := redistest.Client(t)
		t.Cleanup(func() { redistest.DeletePrefix(context.Background(), rdb, "rate:"+prefix) })
		// Redis keeps its own time: Advance shortens the TTLs instead. The
		// limiter's counts do not move with it (no test here needs them to).
		return store.NewRedisKV(rdb, prefix), limit.NewRedis(rdb, prefix), func(d time.Duration) {
			c.Advance(d)
			redistest.Advance(t, rdb, prefix, d)
		}
	}},
}

// eachShortStore runs fn as a subtest against every kind of short-lived store.
func eachShortStore(t *testing.T, fn func(t *testing.T, s shortStores)) {
	t.Helper()
	for _, s := range shortStoreKinds {
		t.Run(s.name, func(t *testing.T) { fn(t, s) })
	}
}

// textRecorder is a phone.TextSender that keeps what it is asked to send.
type textRecorder struct {
	mu        sync.Mutex
	texts     []phone.Text
	deadlines []time.Time // of the ctx of each call; zero if none
	fail      bool        // refuse, as a provider would
	block     bool        // hang until ctx is done
}

func (r *textRecorder) SendText(ctx context.Context, t phone.Text) error {
	r.mu.Lock()
	dl, _ := ctx.Deadline()
	r.deadlines = append(r.deadlines, dl)
	fail, block := r.fail, r.block
	r.mu.Unlock()
	if block {
		<-ctx.Done()
		return ctx.Err()
	}
	if fail {
		return fmt.Errorf("%w: 21610: attempt to send to unsubscribed recipient", phone.ErrProvider)
	}
	r.mu.Lock()
	r.texts = append(r.texts, t)
	r.mu.Unlock()
	return nil
}

func (r *textRecorder) set(fail, block bool) {
	r.mu.Lock()
	r.fail, r.block = fail, block
	r.mu.Unlock()
}

// sent is how many texts went out.
func (r *textRecorder) sent() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.texts)
}

func (r *textRecorder) last(t *testing.T) phone.Text {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.texts) == 0 {
		t.Fatal("no text was sent")
	}
	return r.texts[len(r.texts)-1]
}

func (r *textRecorder) lastDeadline() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.deadlines) == 0 {
		return time.Time{}
	}
	return r.deadlines[len(r.deadlines)-1]
}

// callRecorder is a phone.Caller that keeps the calls it is asked to place.
type callRecorder struct {
	mu    sync.Mutex
	calls []phone.Call
	fail  bool
}

func (r *callRecorder) PlaceCall(_ context.Context, c phone.Call) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	if r.fail {
		return "", fmt.Errorf("%w: 13224: the number is not a valid phone number", phone.ErrProvider)
	}
	return fmt.Sprintf("CA%032x", len(r.calls)), nil
}

func (r *callRecorder) placed() []phone.Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]phone.Call(nil), r.calls...)
}

// phoneFixture is an Engine with the phone methods: recorders for
// providers, and short-lived stores of one kind.
type phoneFixture struct {
	*fixture
	kv      store.KV
	limiter limit.Limiter
	limits  regulation.Limits // of the Regulation of the engine
	texts   *textRecorder
	calls   *callRecorder
	advance func(time.Duration)
}

// newPhoneFixture builds a phoneFixture whose send limits are too high to
// get in the way, with no wait between sends, unless send changes them.
func newPhoneFixture(t *testing.T, s shortStores, send func(*regulation.SendLimits)) *phoneFixture {
	t.Helper()
	f := newFixture(t)
	kv, lim, advance := s.open(t, f.clock)
	l := regulation.DefaultLimits()
	l.Send = regulation.SendLimits{
		PerUser:   limit.Limit{Rate: 1000, Period: time.Hour},
		PerNumber: limit.Limit{Rate: 1000, Period: time.Hour},
		PerIP:     limit.Limit{Rate: 1000, Period: time.Hour},
		Daily:     1_000_000,
	}
	if send != nil {
		send(&l.Send)
	}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	pf := &phoneFixture{fixture: f, kv: kv, limiter: lim, texts: new(textRecorder), calls: new(callRecorder), advance: advance}
	f.e.KV = kv
	pf.regulate(func(l2 *regulation.Limits) { *l2 = l })
	f.e.Phone = Phone{Text: pf.texts, Voice: pf.calls}
	f.e.Methods = []string{MethodTOTP, MethodSMS, MethodVoice}
	return pf
}

// regulate gives the engine a Regulation with the fixture's limits changed
// by mod, on the fixture's stores and clock.
func (f *phoneFixture) regulate(mod func(*regulation.Limits)) {
	mod(&f.limits)
	f.e.Regulation = regulation.New(f.limits, f.limiter, f.kv, f.clock.Now)
}

func mustNumber(t *testing.T, raw string) phone.Number {
	t.Helper()
	n, err := phone.Parse("", raw, "")
	if err != nil {
		t.Fatalf("Parse(%q): %v", raw, err)
	}
	return n
}

// Numbers of the tests: two Japanese mobiles, a UK mobile, a UK landline.
const (
	jpMobile  = "+819012345678"
	jpMobile2 = "+819087654321"
	ukMobile  = "+447400123456"
	ukLand    = "+442079460958"
)

var codeText = regexp.MustCompile(`^Your sign-in code is (.*)\. Do not share it\.$`)

func codeBody(code string) string { return "Your sign-in code is " + code + ". Do not share it." }

// sendCode texts a code to n for user and returns it, from the text.
func (f *phoneFixture) sendCode(t *testing.T, user, purpose, ip string, n phone.Number) string {
	t.Helper()
	before := f.texts.sent()
	if err := f.e.SendCode(context.Background(), user, purpose, "session-tag", ip, n, codeBody); err != nil {
		t.Fatalf("SendCode(%s, %s, %s): %v", user, purpose, n, err)
	}
	if got := f.texts.sent(); got != before+1 {
		t.Fatalf("SendCode sent %d texts, want 1", got-before)
	}
	text := f.texts.last(t)
	if text.To != n {
		t.Fatalf("text went to %+v, want %+v", text.To, n)
	}
	m := codeText.FindStringSubmatch(text.Body)
	if m == nil {
		t.Fatalf("text %q is not made by the body function", text.Body)
	}
	if !regexp.MustCompile(`^[0-9]{6}$`).MatchString(m[1]) {
		t.Fatalf("texted code %q is not six digits", m[1])
	}
	return m[1]
}

// otherCode is a six-digit code that is not code.
func otherCode(code string) string {
	last := (code[5]-'0'+1)%10 + '0'
	return code[:5] + string(rune(last))
}

func (f *phoneFixture) wantPending(t *testing.T, user, purpose string, want bool, masked string) {
	t.Helper()
	got, ok, err := f.e.PendingCode(context.Background(), user, purpose, "session-tag")
	if err != nil || ok != want || (want && got != masked) {
		t.Fatalf("PendingCode(%s, %s) = %q, %v, %v; want %q, %v", user, purpose, got, ok, err, masked, want)
	}
}

func wantRefused(t *testing.T, err error, reason regulation.Reason) *Refused {
	t.Helper()
	var r *Refused
	if !errors.As(err, &r) {
		t.Fatalf("err = %v, want *Refused (%s)", err, reason)
	}
	if r.Allowed || r.Reason != reason || r.RetryAfter <= 0 {
		t.Fatalf("refused with %+v, want reason %q and a wait", r.Verdict, reason)
	}
	return r
}

func TestPhoneCodeWorksOnce(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		n := mustNumber(t, jpMobile)
		if _, err := f.e.AddPhone(ctx, "alice", n, true); err != nil {
			t.Fatal(err)
		}
		f.wantPending(t, "alice", PurposeSignIn, false, "")
		code := f.sendCode(t, "alice", PurposeSignIn, "192.0.2.1", n)
		f.wantPending(t, "alice", PurposeSignIn, true, n.Masked())

		got, err := f.e.CheckCode(ctx, "alice", PurposeSignIn, "session-tag", code)
		if err != nil || got != n {
			t.Fatalf("CheckCode = %+v, %v; want %+v", got, err, n)
		}
		f.wantPending(t, "alice", PurposeSignIn, false, "")
		if _, err := f.e.CheckCode(ctx, "alice", PurposeSignIn, "session-tag", code); !errors.Is(err, ErrBadCode) {
			t.Fatalf("code used twice: err = %v, want ErrBadCode", err)
		}
		// Nor does it work for another user.
		if _, err := f.e.CheckCode(ctx, "bob", PurposeSignIn, "session-tag", code); !errors.Is(err, ErrBadCode) {
			t.Fatalf("code for a user without one: err = %v, want ErrBadCode", err)
		}
	})
}

func TestPhoneCodeWrongCodeKeepsRightOne(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		n := mustNumber(t, jpMobile)
		code := f.sendCode(t, "alice", PurposeEnrol, "192.0.2.1", n)
		for _, bad := range []string{otherCode(code), "", code[:5], code + "0", "abcdef", code[:5] + "x"} {
			if got, err := f.e.CheckCode(ctx, "alice", PurposeEnrol, "session-tag", bad); !errors.Is(err, ErrBadCode) || got != (phone.Number{}) {
				t.Fatalf("CheckCode(%q) = %+v, %v; want ErrBadCode", bad, got, err)
			}
		}
		f.wantPending(t, "alice", PurposeEnrol, true, n.Masked())
		// As typed: with a space or a dash in the middle.
		typed := code[:3] + " - " + code[3:]
		if got, err := f.e.CheckCode(ctx, "alice", PurposeEnrol, "session-tag", typed); err != nil || got != n {
			t.Fatalf("right code %q after wrong ones = %+v, %v", typed, got, err)
		}
	})
}

func TestPhoneCodeExpires(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		n := mustNumber(t, jpMobile)
		code := f.sendCode(t, "alice", PurposeEnrol, "192.0.2.1", n)
		f.advance(PhoneCodeTTL - 10*time.Second)
		f.wantPending(t, "alice", PurposeEnrol, true, n.Masked())
		f.advance(10 * time.Second)
		f.wantPending(t, "alice", PurposeEnrol, false, "")
		if _, err := f.e.CheckCode(ctx, "alice", PurposeEnrol, "session-tag", code); !errors.Is(err, ErrBadCode) {
			t.Fatalf("code after %v: err = %v, want ErrBadCode", PhoneCodeTTL, err)
		}
	})
}

// The engine's own expiry holds even if the store keeps the record longer.
func TestPhoneCodeExpiresWithoutStoreTTL(t *testing.T) {
	f := newPhoneFixture(t, shortStoreKinds[0], nil)
	f.e.KV.(*store.MemoryKV).SetClock(time.Now) // the KV's clock does not move
	n := mustNumber(t, jpMobile)
	code := f.sendCode(t, "alice", PurposeEnrol, "192.0.2.1", n)
	f.clock.Advance(PhoneCodeTTL)
	f.wantPending(t, "alice", PurposeEnrol, false, "")
	if _, err := f.e.CheckCode(context.Background(), "alice", PurposeEnrol, "session-tag", code); !errors.Is(err, ErrBadCode) {
		t.Fatalf("code after %v: err = %v, want ErrBadCode", PhoneCodeTTL, err)
	}
}

func TestPhoneCodePurpose(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		n := mustNumber(t, jpMobile)
		code := f.sendCode(t, "alice", PurposeEnrol, "192.0.2.1", n)
		f.wantPending(t, "alice", PurposeSignIn, false, "")
		if _, err := f.e.CheckCode(ctx, "alice", PurposeSignIn, "session-tag", code); !errors.Is(err, ErrBadCode) {
			t.Fatalf("enrolment code used to sign in: err = %v, want ErrBadCode", err)
		}
		// The attempt did not use it up for its own purpose.
		if got, err := f.e.CheckCode(ctx, "alice", PurposeEnrol, "session-tag", code); err != nil || got != n {
			t.Fatalf("enrolment code for enrolment = %+v, %v", got, err)
		}
		// Checking an enrolment code registers nothing by itself.
		if a := f.account(t, "alice"); a != nil {
			t.Fatalf("CheckCode for enrolment wrote the account: %+v", a)
		}
	})
}

func TestPhoneCodeResendReplaces(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		n := mustNumber(t, jpMobile)
		old := f.sendCode(t, "alice", PurposeEnrol, "192.0.2.1", n)
		code := old
		for code == old { // one in a million
			code = f.sendCode(t, "alice", PurposeEnrol, "192.0.2.1", n)
		}
		if _, err := f.e.CheckCode(ctx, "alice", PurposeEnrol, "session-tag", old); !errors.Is(err, ErrBadCode) {
			t.Fatalf("replaced code: err = %v, want ErrBadCode", err)
		}
		if got, err := f.e.CheckCode(ctx, "alice", PurposeEnrol, "session-tag", code); err != nil || got != n {
			t.Fatalf("new code = %+v, %v", got, err)
		}
	})
}

func TestPhoneCodeCountryNotAllowed(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		c, err := phone.ParseCountries([]string{"+81"})
		if err != nil {
			t.Fatal(err)
		}
		f.e.Phone.Countries = c
		err = f.e.SendCode(ctx, "alice", PurposeEnrol, "session-tag", "192.0.2.1", mustNumber(t, ukMobile), codeBody)
		if !errors.Is(err, ErrCountry) {
			t.Fatalf("text to +44 with only +81 allowed: err = %v, want ErrCountry", err)
		}
		if n := f.texts.sent(); n != 0 {
			t.Fatalf("%d texts sent", n)
		}
		f.wantPending(t, "alice", PurposeEnrol, false, "")
		if n, err := f.e.Regulation.SentToday(ctx); err != nil || n != 0 {
			t.Fatalf("refused text counted: SentToday = %d, %v", n, err)
		}
		f.sendCode(t, "alice", PurposeEnrol, "192.0.2.1", mustNumber(t, jpMobile))
	})
}

func TestPhoneCodeNotMobile(t *testing.T) {
	f := newPhoneFixture(t, shortStoreKinds[0], nil)
	ctx := context.Background()
	ext, err := phone.Parse("", "+1 650 253 0000", "123")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []phone.Number{mustNumber(t, ukLand), ext} {
		if err := f.e.SendCode(ctx, "alice", PurposeEnrol, "session-tag", "192.0.2.1", n, codeBody); !errors.Is(err, ErrNotMobile) {
			t.Fatalf("text to %s: err = %v, want ErrNotMobile", n, err)
		}
	}
	if n := f.texts.sent(); n != 0 {
		t.Fatalf("%d texts sent", n)
	}
	f.wantPending(t, "alice", PurposeEnrol, false, "")
	if n, err := f.e.Regulation.SentToday(ctx); err != nil || n != 0 {
		t.Fatalf("refused text counted: SentToday = %d, %v", n, err)
	}
}

func TestPhoneCodeProviderFails(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		f.texts.set(true, false)
		err := f.e.SendCode(ctx, "alice", PurposeEnrol, "session-tag", "192.0.2.1", mustNumber(t, jpMobile), codeBody)
		if !errors.Is(err, phone.ErrProvider) {
			t.Fatalf("err = %v, want phone.ErrProvider", err)
		}
		f.wantPending(t, "alice", PurposeEnrol, false, "")
		if _, err := f.kv.Get(ctx, "phone-code:alice"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("code record after a failed send: %v, want ErrNotFound", err)
		}
	})
}

func TestPhoneCodeNoProvider(t *testing.T) {
	f := newPhoneFixture(t, shortStoreKinds[0], nil)
	f.e.Phone.Text = nil
	err := f.e.SendCode(context.Background(), "alice", PurposeEnrol, "session-tag", "192.0.2.1", mustNumber(t, jpMobile), codeBody)
	if !errors.Is(err, phone.ErrProvider) {
		t.Fatalf("err = %v, want phone.ErrProvider", err)
	}
	if f.e.PhoneMethodReady(MethodSMS) || !f.e.PhoneMethodReady(MethodVoice) {
		t.Fatal("PhoneMethodReady does not follow the providers")
	}
}

// A provider that does not answer holds the user up for at most
// phone.SendTimeout.
func TestPhoneCodeProviderHangs(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		n := mustNumber(t, jpMobile)

		// The provider gets a deadline of SendTimeout however long the
		// caller would wait.
		start := time.Now()
		f.sendCode(t, "alice", PurposeEnrol, "192.0.2.1", n)
		dl := f.texts.lastDeadline()
		if dl.IsZero() || dl.Before(start.Add(phone.SendTimeout-time.Second)) || dl.After(time.Now().Add(phone.SendTimeout)) {
			t.Fatalf("provider's deadline is %v after the send began, want %v", dl.Sub(start), phone.SendTimeout)
		}

		// A hanging provider returns when the deadline does.
		f.texts.set(false, true)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start = time.Now()
		err := f.e.SendCode(ctx, "bob", PurposeEnrol, "session-tag", "192.0.2.1", n, codeBody)
		if took := time.Since(start); took > time.Second {
			t.Fatalf("SendCode took %v with a 50ms deadline", took)
		}
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, phone.ErrProvider) {
			t.Fatalf("err = %v, want a deadline or provider error", err)
		}
	})
}

func TestPhoneCodeSignInRecordsUse(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		n, other := mustNumber(t, jpMobile), mustNumber(t, jpMobile2)
		added := f.clock.Now()
		for _, p := range []phone.Number{n, other} {
			if _, err := f.e.AddPhone(ctx, "alice", p, false); err != nil {
				t.Fatal(err)
			}
		}
		f.advance(time.Hour)
		code := f.sendCode(t, "alice", PurposeSignIn, "192.0.2.1", n)
		f.advance(time.Minute)
		if _, err := f.e.CheckCode(ctx, "alice", PurposeSignIn, "session-tag", code); err != nil {
			t.Fatal(err)
		}
		now := f.clock.Now()
		a := f.account(t, "alice")
		if len(a.Phones) != 2 {
			t.Fatalf("%d phones", len(a.Phones))
		}
		for _, p := range a.Phones {
			want := added
			if p.Masked == n.Masked() {
				want = now
			}
			if !p.LastUsed.Equal(want) || !p.Added.Equal(added) {
				t.Errorf("phone %s: Added %v, LastUsed %v; want %v, %v", p.Masked, p.Added, p.LastUsed, added, want)
			}
		}
		if !a.LastSignIn.Equal(now) {
			t.Fatalf("LastSignIn = %v, want %v", a.LastSignIn, now)
		}
	})
}

// A sign-in code for a number removed meanwhile signs in no one.
func TestPhoneCodeSignInNumberRemoved(t *testing.T) {
	f := newPhoneFixture(t, shortStoreKinds[0], nil)
	ctx := context.Background()
	n := mustNumber(t, jpMobile)
	code := f.sendCode(t, "alice", PurposeSignIn, "192.0.2.1", n)
	if _, err := f.e.CheckCode(ctx, "alice", PurposeSignIn, "session-tag", code); !errors.Is(err, ErrBadCode) {
		t.Fatalf("sign-in code to an unregistered number: err = %v, want ErrBadCode", err)
	}
}

// Someone who saw the code races the user with it: exactly one wins.
func TestPhoneCodeConcurrentCheck(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		n := mustNumber(t, jpMobile)
		if _, err := f.e.AddPhone(ctx, "alice", n, true); err != nil {
			t.Fatal(err)
		}
		for round := range 20 {
			code := f.sendCode(t, "alice", PurposeSignIn, "192.0.2.1", n)
			var ok atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range 2 {
				wg.Go(func() {
					<-start
					_, err := f.e.CheckCode(ctx, "alice", PurposeSignIn, "session-tag", code)
					switch {
					case err == nil:
						ok.Add(1)
					case !errors.Is(err, ErrBadCode):
						t.Errorf("round %d: CheckCode: %v", round, err)
					}
				})
			}
			close(start)
			wg.Wait()
			if ok.Load() != 1 {
				t.Fatalf("round %d: %d of 2 racing checks succeeded, want 1", round, ok.Load())
			}
		}
	})
}

func TestPhoneCodeSendLimits(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		ctx := context.Background()
		jp := func(i int) phone.Number { return mustNumber(t, fmt.Sprintf("+8190123456%02d", i)) }
		two := limit.Limit{Rate: 2, Period: time.Hour}
		tests := []struct {
			name   string
			limits func(*regulation.SendLimits)
			// sends are user, number, IP of each send; the last is refused.
			sends []struct {
				user string
				n    int
				ip   string
			}
			reason regulation.Reason
		}{
			{"daily", func(l *regulation.SendLimits) { l.Daily = 2 }, []struct {
				user string
				n    int
				ip   string
			}{{"alice", 1, "192.0.2.1"}, {"bob", 2, "192.0.2.2"}, {"carol", 3, "192.0.2.3"}}, "daily"},
			{"per user", func(l *regulation.SendLimits) { l.PerUser = two }, []struct {
				user string
				n    int
				ip   string
			}{{"alice", 1, "192.0.2.1"}, {"alice", 2, "192.0.2.2"}, {"alice", 3, "192.0.2.3"}}, "user"},
			{"per number", func(l *regulation.SendLimits) { l.PerNumber = two }, []struct {
				user string
				n    int
				ip   string
			}{{"alice", 1, "192.0.2.1"}, {"bob", 1, "192.0.2.2"}, {"carol", 1, "192.0.2.3"}}, "number"},
			{"per ip", func(l *regulation.SendLimits) { l.PerIP = two }, []struct {
				user string
				n    int
				ip   string
			}{{"alice", 1, "192.0.2.1"}, {"bob", 2, "192.0.2.1"}, {"carol", 3, "192.0.2.1"}}, "ip"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newPhoneFixture(t, s, tt.limits)
				last := len(tt.sends) - 1
				for _, sd := range tt.sends[:last] {
					f.sendCode(t, sd.user, PurposeEnrol, sd.ip, jp(sd.n))
				}
				sd := tt.sends[last]
				err := f.e.SendCode(ctx, sd.user, PurposeEnrol, "session-tag", sd.ip, jp(sd.n), codeBody)
				wantRefused(t, err, tt.reason)
				if n := f.texts.sent(); n != last {
					t.Fatalf("%d texts sent, want %d", n, last)
				}
				if sd.user != tt.sends[0].user {
					f.wantPending(t, sd.user, PurposeEnrol, false, "")
				}
			})
		}

		t.Run("resend wait", func(t *testing.T) {
			f := newPhoneFixture(t, s, func(l *regulation.SendLimits) { l.Resend = 30 * time.Second })
			n := jp(1)
			code := f.sendCode(t, "alice", PurposeEnrol, "192.0.2.1", n)
			f.advance(29 * time.Second)
			r := wantRefused(t, f.e.SendCode(ctx, "alice", PurposeEnrol, "session-tag", "192.0.2.1", n, codeBody), "resend")
			// 29 of the 30 seconds have passed: one is left.
			if r.RetryAfter != time.Second {
				t.Fatalf("RetryAfter = %v; want the 1s left of the wait", r.RetryAfter)
			}
			if f.texts.sent() != 1 {
				t.Fatal("a refused resend was sent")
			}
			// Another user is not held up.
			f.sendCode(t, "bob", PurposeEnrol, "192.0.2.1", jp(2))
			f.advance(time.Second)
			code2 := f.sendCode(t, "alice", PurposeEnrol, "192.0.2.1", n)
			if code2 != code {
				if _, err := f.e.CheckCode(ctx, "alice", PurposeEnrol, "session-tag", code); !errors.Is(err, ErrBadCode) {
					t.Fatalf("code replaced by a resend: err = %v", err)
				}
			}
			if _, err := f.e.CheckCode(ctx, "alice", PurposeEnrol, "session-tag", code2); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("a refused resend keeps the pending code", func(t *testing.T) {
			f := newPhoneFixture(t, s, func(l *regulation.SendLimits) { l.Resend = 30 * time.Second })
			n := jp(1)
			code := f.sendCode(t, "alice", PurposeEnrol, "192.0.2.1", n)
			wantRefused(t, f.e.SendCode(ctx, "alice", PurposeEnrol, "session-tag", "192.0.2.1", n, codeBody), "resend")
			if _, err := f.e.CheckCode(ctx, "alice", PurposeEnrol, "session-tag", code); err != nil {
				t.Fatalf("code after a refused resend: %v", err)
			}
		})

		t.Run("texts and calls count together", func(t *testing.T) {
			f := newPhoneFixture(t, s, func(l *regulation.SendLimits) { l.PerUser = limit.Limit{Rate: 1, Period: time.Hour} })
			n := jp(1)
			if _, err := f.e.StartCall(ctx, "alice", PurposeEnrol, f.e.SessionTag("s1"), "192.0.2.1", n, testInfo, testCall(n)); err != nil {
				t.Fatal(err)
			}
			wantRefused(t, f.e.SendCode(ctx, "alice", PurposeEnrol, "session-tag", "192.0.2.1", n, codeBody), "user")
		})
	})
}

// A copy of the KV (a Redis dump) gives neither the code nor the number.
func TestPhoneCodeStoredHashedAndSealed(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		n := mustNumber(t, jpMobile)
		code := f.sendCode(t, "alice", PurposeSignIn, "192.0.2.1", n)
		raw, err := f.kv.Get(ctx, "phone-code:alice")
		if err != nil {
			t.Fatal(err)
		}
		// The expiry is a Unix time: its digits may hold any six by chance.
		var rec map[string]any
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatal(err)
		}
		if _, ok := rec["expires"]; !ok {
			t.Fatalf("record %s has no expiry", raw)
		}
		delete(rec, "expires")
		rest, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(rest), code) {
			t.Fatalf("code record %s contains the code %s", raw, code)
		}
		for _, plain := range []string{n.E164, strings.TrimPrefix(n.E164, "+"), "9012345678", "09012345678"} {
			if strings.Contains(string(raw), plain) {
				t.Fatalf("code record %s contains the number (%s)", raw, plain)
			}
		}
	})
}
