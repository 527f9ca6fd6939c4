package challenge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/push"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
)

// noteRecorder is a push.Notifier that keeps what it is asked to send.
type noteRecorder struct {
	mu    sync.Mutex
	notes []push.Notification
	fail  bool
}

func (r *noteRecorder) Notify(_ context.Context, n push.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, n)
	if r.fail {
		return fmt.Errorf("%w: ntfy answered HTTP 403: forbidden", push.ErrNotifier)
	}
	return nil
}

func (r *noteRecorder) sent() []push.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]push.Notification(nil), r.notes...)
}

// phoneClaim is the claim cookie of the phone that opens the links.
const phoneClaim = "claim-of-the-phone"

const testTopic = "mfa-aaaaaaaaaaaaaaaaaaaaaaaaaa"

var testInfo = SignInInfo{Site: "wiki.example.com", IP: "192.0.2.7", Browser: "Firefox on Linux"}

// pushFixture is a phoneFixture with a notifier, and a fatigue limit that
// does not get in the way unless fatigue is set.
type pushFixture struct {
	*phoneFixture
	notes *noteRecorder
}

func newPushFixture(t *testing.T, s shortStores, fatigue ...limit.Limit) *pushFixture {
	t.Helper()
	pf := newPhoneFixture(t, s, nil)
	pf.regulate(func(l *regulation.Limits) {
		l.PushPerUser = limit.Limit{Rate: 1000, Period: time.Hour}
		if len(fatigue) > 0 {
			l.PushPerUser = fatigue[0]
		}
	})
	f := &pushFixture{phoneFixture: pf, notes: new(noteRecorder)}
	f.e.Notifier = f.notes
	f.e.Methods = append(f.e.Methods, MethodPush)
	return f
}

// startPush sends a prompt for user from the session sessionID and returns
// the token of its link, the number to show, and the session's tag.
func (f *pushFixture) startPush(t *testing.T, user, purpose, sessionID string) (string, int, string) {
	t.Helper()
	tag := f.e.SessionTag(sessionID)
	before := len(f.notes.sent())
	info := testInfo
	info.Time = f.e.Now()
	n, err := f.e.StartPush(context.Background(), user, purpose, tag, testTopic, info, func(token string) push.Notification {
		return push.Notification{Title: "Sign-in", Message: "Approve?", URL: "https://mfa.example.com/.mfa/push/approve?t=" + token}
	})
	if err != nil {
		t.Fatalf("StartPush: %v", err)
	}
	notes := f.notes.sent()
	if len(notes) != before+1 {
		t.Fatalf("StartPush sent %d notifications, want 1", len(notes)-before)
	}
	note := notes[len(notes)-1]
	u, err := url.Parse(note.URL)
	if err != nil {
		t.Fatal(err)
	}
	token := u.Query().Get("t")
	if len(token) != 43 || note.Topic != testTopic || note.User != user || note.Test != (purpose == PurposeEnrol) ||
		!note.Expires.Equal(f.e.Now().Add(PushTTL).Truncate(time.Second)) {
		t.Fatalf("notification %+v", note)
	}
	if n < 10 || n > 99 {
		t.Fatalf("number %d is not two digits", n)
	}
	// The phone opens the link.
	if _, mine, err := f.e.ClaimPush(context.Background(), token, phoneClaim); err != nil || !mine {
		t.Fatalf("ClaimPush = %v, %v", mine, err)
	}
	return token, n, tag
}

func (f *pushFixture) wantPushState(t *testing.T, tag, purpose string, want PushStatus) {
	t.Helper()
	st, _, ok, err := f.e.PushState(context.Background(), tag, purpose)
	if err != nil || ok != (want != "") || st != want {
		t.Fatalf("PushState = %q, %v, %v; want %q", st, ok, err, want)
	}
}

func TestPushApproveWithTheNumber(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPushFixture(t, s)
		ctx := context.Background()
		if _, err := f.e.AddPush(ctx, "alice", testTopic, true); err != nil {
			t.Fatal(err)
		}
		token, n, tag := f.startPush(t, "alice", PurposeSignIn, "sess-1")
		f.wantPushState(t, tag, PurposeSignIn, PushPending)
		req, err := f.e.PushByToken(ctx, token)
		if err != nil || req.User != "alice" || req.Purpose != PurposeSignIn || req.Info.Site != testInfo.Site || req.Info.IP != testInfo.IP {
			t.Fatalf("PushByToken = %+v, %v", req, err)
		}
		// Not before it is approved.
		if _, err := f.e.FinishPush(ctx, "alice", PurposeSignIn, tag); !errors.Is(err, ErrBadCode) {
			t.Fatalf("FinishPush before approval: %v", err)
		}
		st, req, err := f.e.AnswerPush(ctx, token, PushApprove, " "+strconv.Itoa(n)+" ", phoneClaim)
		if err != nil || st != PushApproved || req.User != "alice" {
			t.Fatalf("AnswerPush = %q, %+v, %v", st, req, err)
		}
		f.wantPushState(t, tag, PurposeSignIn, PushApproved)
		// The link works once.
		if _, _, err := f.e.AnswerPush(ctx, token, PushApprove, strconv.Itoa(n), phoneClaim); !errors.Is(err, ErrPushAnswered) {
			t.Fatalf("second answer: %v", err)
		}
		if _, err := f.e.PushByToken(ctx, token); !errors.Is(err, ErrPushAnswered) {
			t.Fatalf("PushByToken after the answer: %v", err)
		}
		// Another session or user cannot use the approval.
		if _, err := f.e.FinishPush(ctx, "alice", PurposeSignIn, f.e.SessionTag("sess-2")); !errors.Is(err, ErrBadCode) {
			t.Fatalf("FinishPush from another session: %v", err)
		}
		if _, err := f.e.FinishPush(ctx, "bob", PurposeSignIn, tag); !errors.Is(err, ErrBadCode) {
			t.Fatalf("FinishPush as another user: %v", err)
		}
		if _, err := f.e.FinishPush(ctx, "alice", PurposeEnrol, tag); !errors.Is(err, ErrBadCode) {
			t.Fatalf("FinishPush for another purpose: %v", err)
		}
		f.clock.Advance(time.Second)
		topic, err := f.e.FinishPush(ctx, "alice", PurposeSignIn, tag)
		if err != nil || topic != testTopic {
			t.Fatalf("FinishPush = %q, %v", topic, err)
		}
		if _, err := f.e.FinishPush(ctx, "alice", PurposeSignIn, tag); !errors.Is(err, ErrBadCode) {
			t.Fatalf("FinishPush again: %v", err)
		}
		a, err := f.e.Account(ctx, "alice")
		if err != nil || !a.Push.LastUsed.Equal(f.e.Now()) || !a.LastSignIn.Equal(f.e.Now()) {
			t.Fatalf("account after sign-in: %+v, %v", a, err)
		}
	})
}

func TestPushWrongNumberDenyAndFraud(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPushFixture(t, s)
		ctx := context.Background()
		for i, tc := range []struct {
			answer, number string
			want           PushStatus
		}{
			{PushApprove, "wrong", PushDenied},
			{PushApprove, "", PushDenied},
			{"something", "", PushDenied},
			{PushDeny, "", PushDenied},
			{PushReport, "", PushFraud},
		} {
			token, n, tag := f.startPush(t, "alice", PurposeSignIn, fmt.Sprintf("sess-%d", i))
			number := tc.number
			if number == "wrong" {
				number = strconv.Itoa(n%89 + 10 + 1) // any other two-digit number
			}
			st, _, err := f.e.AnswerPush(ctx, token, tc.answer, number, phoneClaim)
			if err != nil || st != tc.want {
				t.Fatalf("%s %q: AnswerPush = %q, %v; want %q", tc.answer, number, st, err, tc.want)
			}
			f.wantPushState(t, tag, PurposeSignIn, tc.want)
			if _, err := f.e.FinishPush(ctx, "alice", PurposeSignIn, tag); !errors.Is(err, ErrBadCode) {
				t.Fatalf("%s: FinishPush = %v, want ErrBadCode", tc.answer, err)
			}
			f.wantBlocked(t, "alice", tc.want == PushFraud)
		}
		// A report blocks every way in, until an administrator unlocks.
		if _, err := f.e.StartPush(ctx, "alice", PurposeSignIn, "t", testTopic, testInfo, func(string) push.Notification { return push.Notification{} }); !isRefused(err, "blocked") {
			t.Fatalf("StartPush while blocked: %v", err)
		}
		if was, err := f.e.Regulation.Unlock(ctx, "alice"); err != nil || !was {
			t.Fatalf("Unlock = %v, %v", was, err)
		}
		f.wantBlocked(t, "alice", false)
	})
}

func isRefused(err error, reason regulation.Reason) bool {
	var r *Refused
	return errors.As(err, &r) && r.Reason == reason
}

func TestPushExpires(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPushFixture(t, s)
		ctx := context.Background()
		token, n, tag := f.startPush(t, "alice", PurposeSignIn, "sess")
		f.advance(PushTTL + time.Second)
		if _, err := f.e.PushByToken(ctx, token); !errors.Is(err, ErrPushUnknown) {
			t.Fatalf("PushByToken after expiry: %v", err)
		}
		if _, _, err := f.e.AnswerPush(ctx, token, PushApprove, strconv.Itoa(n), phoneClaim); !errors.Is(err, ErrPushUnknown) {
			t.Fatalf("AnswerPush after expiry: %v", err)
		}
		f.wantPushState(t, tag, PurposeSignIn, PushExpired)
		if _, err := f.e.FinishPush(ctx, "alice", PurposeSignIn, tag); !errors.Is(err, ErrBadCode) {
			t.Fatalf("FinishPush after expiry: %v", err)
		}
	})
}

func TestPushApprovedButExpiredCannotFinish(t *testing.T) {
	f := newPushFixture(t, shortStoreKinds[0])
	ctx := context.Background()
	token, n, tag := f.startPush(t, "alice", PurposeSignIn, "sess")
	if st, _, err := f.e.AnswerPush(ctx, token, PushApprove, strconv.Itoa(n), phoneClaim); err != nil || st != PushApproved {
		t.Fatalf("AnswerPush = %q, %v", st, err)
	}
	f.advance(PushTTL)
	if _, err := f.e.FinishPush(ctx, "alice", PurposeSignIn, tag); !errors.Is(err, ErrBadCode) {
		t.Fatalf("FinishPush after expiry: %v", err)
	}
}

func TestPushFatigueLimit(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		def := regulation.DefaultLimits().PushPerUser
		if def != (limit.Limit{Rate: 3, Period: 5 * time.Minute}) {
			t.Fatalf("default push_per_user = %+v, want 3/5m", def)
		}
		f := newPushFixture(t, s, def)
		for i := range 3 {
			f.startPush(t, "alice", PurposeSignIn, fmt.Sprintf("sess-%d", i))
		}
		_, err := f.e.StartPush(context.Background(), "alice", PurposeSignIn, "x", testTopic, testInfo, func(string) push.Notification { return push.Notification{} })
		if !isRefused(err, "user") {
			t.Fatalf("fourth prompt: %v, want refused for the user", err)
		}
		if len(f.notes.sent()) != 3 {
			t.Fatalf("%d notifications sent, want 3", len(f.notes.sent()))
		}
		// Other users are not affected.
		f.startPush(t, "bob", PurposeSignIn, "bob-sess")
		// An administrator's unlock lets prompts through again.
		if _, err := f.e.Regulation.Unlock(context.Background(), "alice"); err != nil {
			t.Fatal(err)
		}
		f.startPush(t, "alice", PurposeSignIn, "after-unlock")
	})
}

func TestPushTokenStoredHashed(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPushFixture(t, s)
		ctx := context.Background()
		token, _, _ := f.startPush(t, "alice", PurposeSignIn, "sess")
		if _, err := f.kv.Get(ctx, f.e.pushes().key(token)); err == nil {
			t.Fatal("a prompt is stored under its token in clear")
		}
		raw, err := f.kv.Get(ctx, f.e.pushes().key(f.e.pushTokenHash(token)))
		if err != nil {
			t.Fatalf("prompt not under the token's hash: %v", err)
		}
		if bytes.Contains(raw, []byte(token)) || bytes.Contains(raw, []byte(testTopic)) {
			t.Fatalf("stored prompt holds the token or the topic in clear: %s", raw)
		}
	})
}

func TestPushNotifierFailureKillsTheLink(t *testing.T) {
	f := newPushFixture(t, shortStoreKinds[0])
	f.notes.fail = true
	ctx := context.Background()
	_, err := f.e.StartPush(ctx, "alice", PurposeSignIn, "tag", testTopic, testInfo, func(token string) push.Notification {
		return push.Notification{URL: "https://x/?t=" + token}
	})
	if !errors.Is(err, push.ErrNotifier) {
		t.Fatalf("StartPush = %v, want ErrNotifier", err)
	}
	u, _ := url.Parse(f.notes.sent()[0].URL)
	if _, err := f.e.PushByToken(ctx, u.Query().Get("t")); !errors.Is(err, ErrPushUnknown) {
		t.Fatalf("link of a failed prompt: %v", err)
	}
}

func TestPushNewPromptEndsTheOld(t *testing.T) {
	f := newPushFixture(t, shortStoreKinds[0])
	ctx := context.Background()
	old, n, _ := f.startPush(t, "alice", PurposeSignIn, "sess")
	f.startPush(t, "alice", PurposeSignIn, "sess")
	if _, _, err := f.e.AnswerPush(ctx, old, PushApprove, strconv.Itoa(n), phoneClaim); !errors.Is(err, ErrPushUnknown) {
		t.Fatalf("answer to a replaced prompt: %v", err)
	}
}

func TestPushEnrolment(t *testing.T) {
	f := newPushFixture(t, shortStoreKinds[0])
	ctx := context.Background()
	tag := f.e.SessionTag("sess")
	topic, err := f.e.PendingPushTopic(ctx, "alice", tag)
	if err != nil || !push.ValidTopic(topic) {
		t.Fatalf("PendingPushTopic = %q, %v", topic, err)
	}
	if again, err := f.e.PendingPushTopic(ctx, "alice", tag); err != nil || again != topic {
		t.Fatalf("PendingPushTopic again = %q, %v; want %q", again, err, topic)
	}
	if other, err := f.e.PendingPushTopic(ctx, "alice", f.e.SessionTag("other")); err != nil || other == topic {
		t.Fatalf("another session's topic = %q, %v", other, err)
	}
	codes, err := f.e.AddPush(ctx, "alice", topic, true)
	if err != nil || len(codes) == 0 {
		t.Fatalf("AddPush = %d codes, %v", len(codes), err)
	}
	a, err := f.e.Account(ctx, "alice")
	if err != nil || !a.HasSecondFactor() || bytes.Contains(a.Push.Topic, []byte(topic)) {
		t.Fatalf("account %+v, %v", a, err)
	}
	if got, ok, err := f.e.PushTopic(a); err != nil || !ok || got != topic {
		t.Fatalf("PushTopic = %q, %v, %v", got, ok, err)
	}
	if _, err := f.e.AddPush(ctx, "alice", topic, true); !errors.Is(err, ErrAlreadyEnrolled) {
		t.Fatalf("AddPush again: %v", err)
	}
	if _, err := f.e.AddPush(ctx, "bob", "not a topic", true); err == nil {
		t.Fatal("AddPush took a malformed topic")
	}
	// A prompt to the old phone does not sign in after the phone changed.
	token, n, tag2 := f.startPush(t, "alice", PurposeSignIn, "sess-2")
	if _, err := f.e.AddPush(ctx, "alice", "mfa-bbbbbbbbbbbbbbbbbbbbbbbbba", false); err != nil {
		t.Fatal(err)
	}
	if st, _, err := f.e.AnswerPush(ctx, token, PushApprove, strconv.Itoa(n), phoneClaim); err != nil || st != PushApproved {
		t.Fatalf("AnswerPush = %q, %v", st, err)
	}
	if _, err := f.e.FinishPush(ctx, "alice", PurposeSignIn, tag2); !errors.Is(err, ErrBadCode) {
		t.Fatalf("FinishPush after the phone changed: %v", err)
	}
}

// TestPushClaim: the first device to open a link owns it. Another device
// that has the link (from a log, or a shared topic) can neither approve
// nor deny, even with the number, but can still report fraud.
func TestPushClaim(t *testing.T) {
	eachShortStore(t, func(t *testing.T, s shortStores) {
		f := newPushFixture(t, s)
		ctx := context.Background()
		token, n, tag := f.startPush(t, "alice", PurposeSignIn, "sess")
		if _, mine, err := f.e.ClaimPush(ctx, token, phoneClaim); err != nil || !mine {
			t.Fatalf("the phone opening the link again: mine = %v, %v", mine, err)
		}
		for _, claim := range []string{"someone-else", ""} {
			if req, mine, err := f.e.ClaimPush(ctx, token, claim); err != nil || mine || req.User != "alice" {
				t.Fatalf("another device %q: %+v, mine = %v, %v", claim, req, mine, err)
			}
			for _, answer := range []string{PushApprove, PushDeny} {
				if _, _, err := f.e.AnswerPush(ctx, token, answer, strconv.Itoa(n), claim); !errors.Is(err, ErrPushClaimed) {
					t.Fatalf("%s from another device %q: %v", answer, claim, err)
				}
			}
		}
		f.wantPushState(t, tag, PurposeSignIn, PushPending)
		// A link nobody opened cannot be answered either, but reported.
		token2, n2, _ := f.startPush(t, "bob", PurposeSignIn, "sess-bob")
		if _, _, err := f.e.AnswerPush(ctx, token2, PushApprove, strconv.Itoa(n2), "never-opened"); !errors.Is(err, ErrPushClaimed) {
			t.Fatalf("approve without opening: %v", err)
		}
		if st, _, err := f.e.AnswerPush(ctx, token, PushReport, "", "someone-else"); err != nil || st != PushFraud {
			t.Fatalf("fraud report from another device = %q, %v", st, err)
		}
		f.wantBlocked(t, "alice", true)
		// An answered link cannot be opened again.
		token3, n3, _ := f.startPush(t, "carol", PurposeSignIn, "sess-carol")
		if st, _, err := f.e.AnswerPush(ctx, token3, PushApprove, strconv.Itoa(n3), phoneClaim); err != nil || st != PushApproved {
			t.Fatalf("approve = %q, %v", st, err)
		}
		if _, _, err := f.e.ClaimPush(ctx, token3, "x"); !errors.Is(err, ErrPushAnswered) {
			t.Fatalf("opening an answered link: %v", err)
		}
	})
}
