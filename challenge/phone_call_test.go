package challenge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/recovery"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// testCall builds the call to n the way the portal does, with the call id
// in its callback URLs.
func testCall(n phone.Number) func(id string) phone.Call {
	return func(id string) phone.Call {
		return phone.Call{
			To: n, Say: "Press pound to sign in.", Language: "en-US",
			GatherURL: "https://mfa.example.com/voice/gather?call=" + id,
			StatusURL: "https://mfa.example.com/voice/status?call=" + id,
		}
	}
}

// startCall places a call to n for user from the session sessionID and
// returns the call's id and the session's tag.
func (f *phoneFixture) startCall(t *testing.T, user, purpose, sessionID string, n phone.Number) (string, string) {
	t.Helper()
	tag := f.e.SessionTag(sessionID)
	before := len(f.calls.placed())
	id, err := f.e.StartCall(context.Background(), user, purpose, tag, "192.0.2.1", n, testInfo, testCall(n))
	if err != nil {
		t.Fatalf("StartCall: %v", err)
	}
	calls := f.calls.placed()
	if len(calls) != before+1 {
		t.Fatalf("StartCall placed %d calls, want 1", len(calls)-before)
	}
	if c := calls[len(calls)-1]; c != testCall(n)(id) || id == "" {
		t.Fatalf("placed %+v for call id %q, want %+v", c, id, testCall(n)(id))
	}
	return id, tag
}

func (f *phoneFixture) wantCallState(t *testing.T, tag, purpose string, want CallStatus, masked string) {
	t.Helper()
	st, m, ok, err := f.e.CallState(context.Background(), tag, purpose)
	if want == "" {
		if err != nil || ok || st != "" || m != "" {
			t.Fatalf("CallState = %q, %q, %v, %v; want none", st, m, ok, err)
		}
		return
	}
	if err != nil || !ok || st != want || m != masked {
		t.Fatalf("CallState = %q, %q, %v, %v; want %q, %q", st, m, ok, err, want, masked)
	}
}

func (f *phoneFixture) wantBlocked(t *testing.T, user string, blocked bool) {
	t.Helper()
	ctx := context.Background()
	locked, _, err := f.e.Regulation.Locked(ctx, user)
	if err != nil || locked != blocked {
		t.Fatalf("Locked(%s) = %v, %v; want %v", user, locked, err, blocked)
	}
	v, err := f.e.Regulation.AccountVerdict(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	if blocked && (v.Allowed || v.Reason != "blocked") || !blocked && !v.Allowed {
		t.Fatalf("AccountVerdict(%s) = %+v, want blocked %v", user, v, blocked)
	}
}

func TestPhoneCallApprove(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		n := mustNumber(t, ukLand) // calls reach landlines too
		if _, err := f.e.AddPhone(ctx, "alice", n, true); err != nil {
			t.Fatal(err)
		}
		f.advance(time.Hour)
		id, tag := f.startCall(t, "alice", PurposeSignIn, "sess-1", n)
		if _, err := f.e.FinishCall(ctx, "alice", PurposeSignIn, tag); !errors.Is(err, ErrBadCode) {
			t.Fatalf("FinishCall before an answer: err = %v, want ErrBadCode", err)
		}
		st, user, err := f.e.CallAnswered(ctx, id, "#")
		if err != nil || st != CallApproved || user != "alice" {
			t.Fatalf(`CallAnswered("#") = %q, %q, %v`, st, user, err)
		}
		got, err := f.e.FinishCall(ctx, "alice", PurposeSignIn, tag)
		if err != nil || got != n {
			t.Fatalf("FinishCall = %+v, %v; want %+v", got, err, n)
		}
		a := f.account(t, "alice")
		if now := f.clock.Now(); !a.Phones[0].LastUsed.Equal(now) || !a.LastSignIn.Equal(now) {
			t.Fatalf("after a call sign-in LastUsed = %v, LastSignIn = %v; want %v", a.Phones[0].LastUsed, a.LastSignIn, now)
		}
		if _, err := f.e.FinishCall(ctx, "alice", PurposeSignIn, tag); !errors.Is(err, ErrBadCode) {
			t.Fatalf("second FinishCall: err = %v, want ErrBadCode", err)
		}
		f.wantCallState(t, tag, PurposeSignIn, "", "")
	})
}

func TestPhoneCallFraudBlocks(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		n := mustNumber(t, jpMobile)
		id, tag := f.startCall(t, "alice", PurposeSignIn, "sess-1", n)
		f.wantBlocked(t, "alice", false)
		st, user, err := f.e.CallAnswered(ctx, id, "0#")
		if err != nil || st != CallFraud || user != "alice" {
			t.Fatalf(`CallAnswered("0#") = %q, %q, %v`, st, user, err)
		}
		f.wantCallState(t, tag, PurposeSignIn, CallFraud, n.Masked())
		if _, err := f.e.FinishCall(ctx, "alice", PurposeSignIn, tag); !errors.Is(err, ErrBadCode) {
			t.Fatalf("FinishCall after a fraud report: err = %v, want ErrBadCode", err)
		}
		f.wantBlocked(t, "alice", true)
		f.wantBlocked(t, "bob", false)
		if v, err := f.e.Regulation.BeforeCode(ctx, "alice"); err != nil || v.Allowed || v.Reason != "blocked" {
			t.Fatalf("BeforeCode of a blocked user = %+v, %v", v, err)
		}
		// No more texts or calls for the user either.
		var r *Refused
		err = f.e.SendCode(ctx, "alice", PurposeSignIn, "session-tag", "192.0.2.1", n, codeBody)
		if !errors.As(err, &r) || r.Reason != "blocked" {
			t.Fatalf("SendCode for a blocked user: %v, want refused as blocked", err)
		}
		// Blocks last until an administrator lifts them, not a ban time.
		f.advance(48 * time.Hour)
		f.wantBlocked(t, "alice", true)
		was, err := f.e.Regulation.Unlock(ctx, "alice")
		if err != nil || !was {
			t.Fatalf("Unlock = %v, %v", was, err)
		}
		f.wantBlocked(t, "alice", false)
	})
}

func TestPhoneCallOtherKeysDeny(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		for _, digits := range []string{"1", "", "##", "#0", "0", "*", " #", "00#"} {
			t.Run("keys "+digits, func(t *testing.T) {
				f := newPhoneFixture(t, s, nil)
				ctx := context.Background()
				n := mustNumber(t, jpMobile)
				id, tag := f.startCall(t, "alice", PurposeEnrol, "sess-1", n)
				st, user, err := f.e.CallAnswered(ctx, id, digits)
				if err != nil || st != CallDenied || user != "alice" {
					t.Fatalf("CallAnswered(%q) = %q, %q, %v; want denied", digits, st, user, err)
				}
				f.wantCallState(t, tag, PurposeEnrol, CallDenied, n.Masked())
				if _, err := f.e.FinishCall(ctx, "alice", PurposeEnrol, tag); !errors.Is(err, ErrBadCode) {
					t.Fatalf("FinishCall of a denied call: err = %v, want ErrBadCode", err)
				}
				f.wantBlocked(t, "alice", false)
			})
		}
	})
}

func TestPhoneCallReplay(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		n := mustNumber(t, jpMobile)
		id, tag := f.startCall(t, "alice", PurposeEnrol, "sess-1", n)
		if st, _, err := f.e.CallAnswered(ctx, id, "#"); err != nil || st != CallApproved {
			t.Fatalf(`CallAnswered("#") = %q, %v`, st, err)
		}
		for _, digits := range []string{"0#", "1", "#"} {
			st, user, err := f.e.CallAnswered(ctx, id, digits)
			if !errors.Is(err, ErrCallAnswered) || st != "" || user != "" {
				t.Fatalf("replayed CallAnswered(%q) = %q, %q, %v; want ErrCallAnswered", digits, st, user, err)
			}
		}
		f.wantBlocked(t, "alice", false)
		f.wantCallState(t, tag, PurposeEnrol, CallApproved, n.Masked())
		if got, err := f.e.FinishCall(ctx, "alice", PurposeEnrol, tag); err != nil || got != n {
			t.Fatalf("FinishCall after a replay = %+v, %v", got, err)
		}
		// A callback after the call was used finds nothing.
		if _, _, err := f.e.CallAnswered(ctx, id, "0#"); !errors.Is(err, ErrCallUnknown) && !errors.Is(err, ErrCallAnswered) {
			t.Fatalf("CallAnswered after FinishCall: err = %v", err)
		}
		f.wantBlocked(t, "alice", false)
	})
}

func TestPhoneCallEnded(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		ctx := context.Background()
		n := mustNumber(t, jpMobile)
		t.Run("unanswered is denied", func(t *testing.T) {
			f := newPhoneFixture(t, s, nil)
			id, tag := f.startCall(t, "alice", PurposeEnrol, "sess-1", n)
			f.wantCallState(t, tag, PurposeEnrol, CallPending, n.Masked())
			if user, err := f.e.CallEnded(ctx, id); err != nil || user != "alice" {
				t.Fatalf("CallEnded = %q, %v", user, err)
			}
			f.wantCallState(t, tag, PurposeEnrol, CallDenied, n.Masked())
			// Keys arriving after the hang-up change nothing.
			if _, _, err := f.e.CallAnswered(ctx, id, "#"); !errors.Is(err, ErrCallAnswered) {
				t.Fatalf("CallAnswered after CallEnded: err = %v, want ErrCallAnswered", err)
			}
			f.wantCallState(t, tag, PurposeEnrol, CallDenied, n.Masked())
			if _, err := f.e.FinishCall(ctx, "alice", PurposeEnrol, tag); !errors.Is(err, ErrBadCode) {
				t.Fatalf("FinishCall of an unanswered call: err = %v, want ErrBadCode", err)
			}
		})
		t.Run("after # stays approved", func(t *testing.T) {
			f := newPhoneFixture(t, s, nil)
			id, tag := f.startCall(t, "alice", PurposeEnrol, "sess-1", n)
			if _, _, err := f.e.CallAnswered(ctx, id, "#"); err != nil {
				t.Fatal(err)
			}
			if user, err := f.e.CallEnded(ctx, id); err != nil || user != "alice" {
				t.Fatalf("CallEnded = %q, %v", user, err)
			}
			f.wantCallState(t, tag, PurposeEnrol, CallApproved, n.Masked())
			if got, err := f.e.FinishCall(ctx, "alice", PurposeEnrol, tag); err != nil || got != n {
				t.Fatalf("FinishCall = %+v, %v", got, err)
			}
		})
		t.Run("unknown call", func(t *testing.T) {
			f := newPhoneFixture(t, s, nil)
			if _, err := f.e.CallEnded(ctx, "0123456789abcdef0123456789abcdef"); !errors.Is(err, ErrCallUnknown) {
				t.Fatalf("CallEnded of no call: err = %v, want ErrCallUnknown", err)
			}
			if _, _, err := f.e.CallAnswered(ctx, "0123456789abcdef0123456789abcdef", "#"); !errors.Is(err, ErrCallUnknown) {
				t.Fatalf("CallAnswered of no call: err = %v, want ErrCallUnknown", err)
			}
		})
	})
}

func TestPhoneCallExpires(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		ctx := context.Background()
		n := mustNumber(t, jpMobile)
		t.Run("callback", func(t *testing.T) {
			f := newPhoneFixture(t, s, nil)
			id, tag := f.startCall(t, "alice", PurposeEnrol, "sess-1", n)
			f.advance(PhoneCodeTTL)
			if _, _, err := f.e.CallAnswered(ctx, id, "#"); !errors.Is(err, ErrCallUnknown) {
				t.Fatalf("CallAnswered after %v: err = %v, want ErrCallUnknown", PhoneCodeTTL, err)
			}
			if _, err := f.e.CallEnded(ctx, id); !errors.Is(err, ErrCallUnknown) {
				t.Fatalf("CallEnded after %v: err = %v, want ErrCallUnknown", PhoneCodeTTL, err)
			}
			f.wantCallState(t, tag, PurposeEnrol, "", "")
		})
		t.Run("finish", func(t *testing.T) {
			f := newPhoneFixture(t, s, nil)
			id, tag := f.startCall(t, "alice", PurposeEnrol, "sess-1", n)
			f.advance(PhoneCodeTTL - 10*time.Second)
			if st, _, err := f.e.CallAnswered(ctx, id, "#"); err != nil || st != CallApproved {
				t.Fatalf(`CallAnswered("#") = %q, %v`, st, err)
			}
			f.advance(10 * time.Second)
			if _, err := f.e.FinishCall(ctx, "alice", PurposeEnrol, tag); !errors.Is(err, ErrBadCode) {
				t.Fatalf("FinishCall after %v: err = %v, want ErrBadCode", PhoneCodeTTL, err)
			}
		})
	})
}

// The engine's own expiry holds even if the store keeps the records longer.
func TestPhoneCallExpiresWithoutStoreTTL(t *testing.T) {
	f := newPhoneFixture(t, shortStoreKinds[0], nil)
	f.e.KV.(*store.MemoryKV).SetClock(time.Now) // the KV's clock does not move
	ctx := context.Background()
	n := mustNumber(t, jpMobile)
	id, tag := f.startCall(t, "alice", PurposeEnrol, "sess-1", n)
	if _, _, err := f.e.CallAnswered(ctx, id, "#"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(PhoneCodeTTL)
	f.wantCallState(t, tag, PurposeEnrol, "", "")
	if _, _, err := f.e.CallAnswered(ctx, id, "0#"); !errors.Is(err, ErrCallUnknown) {
		t.Fatalf("CallAnswered after %v: err = %v, want ErrCallUnknown", PhoneCodeTTL, err)
	}
	if _, err := f.e.FinishCall(ctx, "alice", PurposeEnrol, tag); !errors.Is(err, ErrBadCode) {
		t.Fatalf("FinishCall after %v: err = %v, want ErrBadCode", PhoneCodeTTL, err)
	}
}

func TestPhoneCallFinishOnlyBySameSession(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		n := mustNumber(t, jpMobile)
		id, tag := f.startCall(t, "alice", PurposeEnrol, "sess-1", n)
		if _, _, err := f.e.CallAnswered(ctx, id, "#"); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ user, purpose, tag string }{
			{"alice", PurposeEnrol, f.e.SessionTag("sess-2")},
			{"alice", PurposeEnrol, "sess-1"}, // the raw session id is not its tag
			{"alice", PurposeEnrol, ""},
			{"bob", PurposeEnrol, tag},
			{"alice", PurposeSignIn, tag},
		} {
			if _, err := f.e.FinishCall(ctx, c.user, c.purpose, c.tag); !errors.Is(err, ErrBadCode) {
				t.Fatalf("FinishCall(%s, %s, %q): err = %v, want ErrBadCode", c.user, c.purpose, c.tag, err)
			}
		}
		// None of them used it up.
		if got, err := f.e.FinishCall(ctx, "alice", PurposeEnrol, tag); err != nil || got != n {
			t.Fatalf("FinishCall by its session = %+v, %v", got, err)
		}
	})
}

func TestPhoneCallState(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		n := mustNumber(t, jpMobile)
		tag := f.e.SessionTag("sess-1")
		if tag == f.e.SessionTag("sess-2") || tag != f.e.SessionTag("sess-1") || strings.Contains(tag, "sess-1") {
			t.Fatalf("SessionTag(sess-1) = %q", tag)
		}
		f.wantCallState(t, tag, PurposeSignIn, "", "")
		id, _ := f.startCall(t, "alice", PurposeSignIn, "sess-1", n)
		f.wantCallState(t, tag, PurposeSignIn, CallPending, n.Masked())
		f.wantCallState(t, f.e.SessionTag("sess-2"), PurposeSignIn, "", "")
		f.wantCallState(t, tag, PurposeEnrol, "", "")
		if _, _, err := f.e.CallAnswered(ctx, id, "#"); err != nil {
			t.Fatal(err)
		}
		f.wantCallState(t, tag, PurposeSignIn, CallApproved, n.Masked())
		f.wantCallState(t, f.e.SessionTag("sess-2"), PurposeSignIn, "", "")
	})
}

func TestPhoneCallProviderFails(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		n := mustNumber(t, jpMobile)
		f.calls.fail = true
		tag := f.e.SessionTag("sess-1")
		id, err := f.e.StartCall(ctx, "alice", PurposeSignIn, tag, "192.0.2.1", n, testInfo, testCall(n))
		if !errors.Is(err, phone.ErrProvider) || id != "" {
			t.Fatalf("StartCall = %q, %v; want phone.ErrProvider", id, err)
		}
		f.wantCallState(t, tag, PurposeSignIn, CallDenied, n.Masked())
		// The call may have gone out all the same: its keys approve nothing.
		calls := f.calls.placed()
		if len(calls) != 1 {
			t.Fatalf("%d calls placed", len(calls))
		}
		_, realID, ok := strings.Cut(calls[0].GatherURL, "call=")
		if !ok {
			t.Fatalf("no call id in %q", calls[0].GatherURL)
		}
		if _, _, err := f.e.CallAnswered(ctx, realID, "#"); !errors.Is(err, ErrCallAnswered) {
			t.Fatalf("CallAnswered of a failed call: err = %v, want ErrCallAnswered", err)
		}
		if _, err := f.e.FinishCall(ctx, "alice", PurposeSignIn, tag); !errors.Is(err, ErrBadCode) {
			t.Fatalf("FinishCall of a failed call: err = %v, want ErrBadCode", err)
		}
	})
}

func TestPhoneCallCountryNotAllowed(t *testing.T) {
	f := newPhoneFixture(t, shortStoreKinds[0], nil)
	c, err := phone.ParseCountries([]string{"81"})
	if err != nil {
		t.Fatal(err)
	}
	f.e.Phone.Countries = c
	n := mustNumber(t, ukLand)
	if _, err := f.e.StartCall(context.Background(), "alice", PurposeEnrol, f.e.SessionTag("s"), "192.0.2.1", n, testInfo, testCall(n)); !errors.Is(err, ErrCountry) {
		t.Fatalf("call to +44 with only +81 allowed: err = %v, want ErrCountry", err)
	}
	if len(f.calls.placed()) != 0 {
		t.Fatal("a call was placed")
	}
}

func TestAddPhoneFirstOnly(t *testing.T) {
	f := newPhoneFixture(t, shortStoreKinds[0], nil)
	ctx := context.Background()
	n := mustNumber(t, jpMobile)

	f.enrol(t, "alice") // has an authenticator app
	before := f.account(t, "alice")
	if codes, err := f.e.AddPhone(ctx, "alice", n, true); !errors.Is(err, ErrAlreadyEnrolled) || codes != nil {
		t.Fatalf("AddPhone first-only with an app = %v, %v; want ErrAlreadyEnrolled", codes, err)
	}
	if a := f.account(t, "alice"); len(a.Phones) != 0 || !slices.EqualFunc(a.RecoveryCodes, before.RecoveryCodes, bytes.Equal) {
		t.Fatal("refused AddPhone changed the account")
	}

	if _, err := f.e.AddPhone(ctx, "bob", n, true); err != nil {
		t.Fatal(err)
	}
	before = f.account(t, "bob")
	if codes, err := f.e.AddPhone(ctx, "bob", mustNumber(t, jpMobile2), true); !errors.Is(err, ErrAlreadyEnrolled) || codes != nil {
		t.Fatalf("AddPhone first-only with a phone = %v, %v; want ErrAlreadyEnrolled", codes, err)
	}
	if a := f.account(t, "bob"); len(a.Phones) != 1 || !slices.EqualFunc(a.RecoveryCodes, before.RecoveryCodes, bytes.Equal) {
		t.Fatal("refused AddPhone changed the account")
	}

	// Not first-only: another number is added, no new recovery codes.
	if codes, err := f.e.AddPhone(ctx, "bob", mustNumber(t, jpMobile2), false); err != nil || codes != nil {
		t.Fatalf("AddPhone of a second number = %v, %v; want no codes", codes, err)
	}
	// The same number again replaces its registration.
	if _, err := f.e.AddPhone(ctx, "bob", n, false); err != nil {
		t.Fatal(err)
	}
	a := f.account(t, "bob")
	if len(a.Phones) != 2 || !slices.EqualFunc(a.RecoveryCodes, before.RecoveryCodes, bytes.Equal) {
		t.Fatalf("after adding a second number and one again: %d phones, recovery codes changed: %v",
			len(a.Phones), !slices.EqualFunc(a.RecoveryCodes, before.RecoveryCodes, bytes.Equal))
	}
}

func TestAddPhoneFirstFactor(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		n := mustNumber(t, jpMobile)
		now := f.clock.Now()
		codes, err := f.e.AddPhone(ctx, "alice", n, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes, want 10", len(codes))
		}
		for _, c := range codes {
			if !recovery.Looks(c) {
				t.Fatalf("recovery code %q has the wrong shape", c)
			}
		}
		a := f.account(t, "alice")
		if !a.HasSecondFactor() || len(a.Phones) != 1 || len(a.RecoveryCodes) != 10 {
			t.Fatalf("account after AddPhone: %+v", a)
		}
		p := a.Phones[0]
		if p.Masked != n.Masked() || !p.Mobile || !p.Added.Equal(now) || !p.LastUsed.Equal(now) || !a.LastSignIn.Equal(now) {
			t.Fatalf("stored phone %+v", p)
		}
		if _, got, ok, err := f.e.PhoneFor(a, MethodSMS); err != nil || !ok || got != n {
			t.Fatalf("PhoneFor(sms) = %+v, %v, %v", got, ok, err)
		}
		if m := f.e.PhoneMethods(a); !slices.Equal(m, []string{MethodSMS, MethodVoice}) {
			t.Fatalf("PhoneMethods = %v", m)
		}
		if err := f.e.UseRecoveryCode(ctx, "alice", codes[0]); err != nil {
			t.Fatalf("recovery code from AddPhone: %v", err)
		}
	})
}

// A copy of the accounts store gives no phone number.
func TestAddPhoneStoredSealed(t *testing.T) {
	f := newPhoneFixture(t, shortStoreKinds[0], nil)
	ctx := context.Background()
	n := mustNumber(t, jpMobile)
	if _, err := f.e.AddPhone(ctx, "alice", n, true); err != nil {
		t.Fatal(err)
	}
	a, err := f.e.Accounts.Get(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{n.E164, strings.TrimPrefix(n.E164, "+"), "9012345678", "09012345678"} {
		if strings.Contains(string(raw), plain) {
			t.Fatalf("stored account %s contains the number (%s)", raw, plain)
		}
	}
	// The sealed number is bound to its user.
	if _, err := f.e.OpenNumber("bob", a.Phones[0].Number); err == nil {
		t.Fatal("alice's sealed number opened for bob")
	}
}
