package challenge

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// hangingCaller is a phone.Caller that does not answer until ctx is done.
type hangingCaller struct{}

func (hangingCaller) PlaceCall(ctx context.Context, _ phone.Call) (string, error) {
	<-ctx.Done()
	return "", ctx.Err()
}

func TestPhoneCodeForgottenWhenCallerGone(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		f.texts.set(false, true)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond) // room for the store calls before the provider, on a busy shared Redis
		defer cancel()
		err := f.e.SendCode(ctx, "alice", PurposeEnrol, "session-tag", "192.0.2.1", mustNumber(t, jpMobile), codeBody)
		if err == nil || errors.Is(err, store.ErrUnavailable) {
			t.Errorf("SendCode = %v; want a provider failure, not a store outage", err)
		}
		f.wantPending(t, "alice", PurposeEnrol, false, "")
	})
}
func TestPhoneCallDeniedWhenCallerGone(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		f.e.Phone.Voice = hangingCaller{}
		n := mustNumber(t, jpMobile)
		tag := f.e.SessionTag("sess-1")
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond) // room for the store calls before the provider, on a busy shared Redis
		defer cancel()
		_, err := f.e.StartCall(ctx, "alice", PurposeSignIn, tag, "192.0.2.1", n, testInfo, testCall(n))
		if err == nil || errors.Is(err, store.ErrUnavailable) {
			t.Errorf("StartCall = %v; want a provider failure, not a store outage", err)
		}
		f.wantCallState(t, tag, PurposeSignIn, CallDenied, n.Masked())
	})
}

// A callback must name the call the provider placed: the call id alone,
// which travels in URLs, does not let anyone answer it.
func TestCallFromProvider(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		n := mustNumber(t, jpMobile)
		id, err := f.e.StartCall(context.Background(), "alice", PurposeSignIn, f.e.SessionTag("s"), "192.0.2.1", n, testInfo, testCall(n))
		if err != nil {
			t.Fatal(err)
		}
		ref := fmt.Sprintf("CA%032x", 1) // what the recorder answered
		if err := f.e.CallFromProvider(context.Background(), id, ref); err != nil {
			t.Errorf("the placed call's own ref: %v", err)
		}
		for _, bad := range []string{"", "CA00000000000000000000000000000002"} {
			if err := f.e.CallFromProvider(context.Background(), id, bad); !errors.Is(err, ErrCallUnknown) {
				t.Errorf("CallFromProvider with ref %q = %v; want ErrCallUnknown", bad, err)
			}
		}
		if err := f.e.CallFromProvider(context.Background(), "no-such-call", ref); !errors.Is(err, ErrCallUnknown) {
			t.Errorf("unknown call: %v", err)
		}
	})
}
