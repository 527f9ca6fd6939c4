package challenge

import (
	"context"
	"errors"
	"testing"
)

// TestPhoneCodeOfItsSession: a texted code is pending, and accepted, only
// in the session it was texted for.
func TestPhoneCodeOfItsSession(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		n := mustNumber(t, jpMobile)
		code := f.sendCode(t, "alice", PurposeEnrol, "192.0.2.1", n)
		if _, ok, err := f.e.PendingCode(ctx, "alice", PurposeEnrol, "another-session"); err != nil || ok {
			t.Fatalf("PendingCode in another session = %v, %v; want none", ok, err)
		}
		if _, err := f.e.CheckCode(ctx, "alice", PurposeEnrol, "another-session", code); !errors.Is(err, ErrBadCode) {
			t.Fatalf("the code in another session: %v, want ErrBadCode", err)
		}
		if got, err := f.e.CheckCode(ctx, "alice", PurposeEnrol, "session-tag", code); err != nil || got != n {
			t.Fatalf("the code in its session = %+v, %v", got, err)
		}
	})
}

// TestEndSessionPending: what a session has pending (a texted code, a
// call, a prompt) is gone once its sign-in completes; another session's
// code stays.
func TestEndSessionPending(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPhoneFixture(t, s, nil)
		ctx := context.Background()
		n := mustNumber(t, jpMobile)
		code := f.sendCode(t, "alice", PurposeSignIn, "192.0.2.1", n)
		id, tag := f.startCall(t, "alice", PurposeSignIn, "s1", n)
		if _, _, err := f.e.CallAnswered(ctx, id, "#"); err != nil {
			t.Fatal(err)
		}
		// Another session's end leaves them.
		if err := f.e.EndSessionPending(ctx, "alice", "another-session"); err != nil {
			t.Fatal(err)
		}
		f.wantPending(t, "alice", PurposeSignIn, true, n.Masked())
		f.wantCallState(t, tag, PurposeSignIn, CallApproved, n.Masked())

		if err := f.e.EndSessionPending(ctx, "alice", "session-tag"); err != nil {
			t.Fatal(err)
		}
		if err := f.e.EndSessionPending(ctx, "alice", tag); err != nil {
			t.Fatal(err)
		}
		f.wantPending(t, "alice", PurposeSignIn, false, "")
		if _, err := f.e.CheckCode(ctx, "alice", PurposeSignIn, "session-tag", code); !errors.Is(err, ErrBadCode) {
			t.Fatalf("the code after its session ended: %v, want ErrBadCode", err)
		}
		f.wantCallState(t, tag, PurposeSignIn, "", "")
		if _, err := f.e.FinishCall(ctx, "alice", PurposeSignIn, tag); !errors.Is(err, ErrBadCode) {
			t.Fatalf("FinishCall after its session ended: %v, want ErrBadCode", err)
		}
		if _, _, err := f.e.CallAnswered(ctx, id, "#"); !errors.Is(err, ErrCallUnknown) {
			t.Fatalf("answering the ended call: %v, want ErrCallUnknown", err)
		}
	})
}

// TestEndSessionPendingPush: the session's prompt ends too.
func TestEndSessionPendingPush(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPushFixture(t, s)
		ctx := context.Background()
		_, _, tag := f.startPush(t, "alice", PurposeSignIn, "s1")
		f.wantPushState(t, tag, PurposeSignIn, PushPending)
		if err := f.e.EndSessionPending(ctx, "alice", tag); err != nil {
			t.Fatal(err)
		}
		if _, _, ok, err := f.e.PushState(ctx, tag, PurposeSignIn); err != nil || ok {
			t.Fatalf("PushState after the session ended = %v, %v; want none", ok, err)
		}
	})
}
