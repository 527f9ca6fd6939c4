package challenge

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/push"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// PushStatus is where a sign-in prompt stands.
type PushStatus string

// Prompt statuses. Only Approve with the number the sign-in page shows
// approves; a wrong number denies, as does Deny; "Deny and report fraud"
// also blocks the user's sign-ins until an administrator unlocks them.
const (
	PushPending  PushStatus = "pending"
	PushApproved PushStatus = "approved"
	PushDenied   PushStatus = "denied"
	PushFraud    PushStatus = "fraud"
	// PushExpired is a prompt of the session that ran out of time unanswered.
	PushExpired PushStatus = "expired"
)

// Answers on the approval page.
const (
	PushApprove = "approve"
	PushDeny    = "deny"
	PushReport  = "fraud"
)

// PushTTL is how long a prompt can be answered.
const PushTTL = 2 * time.Minute

// pushSessionTTL is how long a session remembers its last prompt, so that
// its page can tell "expired" from "never sent".
const pushSessionTTL = 10 * time.Minute

// ErrPushUnknown is an approval link that does not exist or has expired.
var ErrPushUnknown = errors.New("no such sign-in request, or it has expired")

// ErrPushAnswered is an approval link whose prompt was already answered.
var ErrPushAnswered = errors.New("this sign-in request has already been answered")

// ErrPushClaimed is an answer from a device other than the one that opened
// the prompt first.
var ErrPushClaimed = errors.New("this sign-in request was opened on another device")

// PushRequest is a prompt as its approval page sees it.
type PushRequest struct {
	// User is who is signing in.
	User string
	// Purpose is PurposeSignIn or PurposeEnrol (the first, test prompt).
	Purpose string
	// Info describes the sign-in.
	Info SignInInfo
	// Expires is when the prompt can no longer be answered.
	Expires time.Time
}

// pushRecord is a prompt under way, in the KV under "push:<token hash>";
// the session that asked for it finds it under "push-session:<session>".
type pushRecord struct {
	User    string     `json:"user"`
	Purpose string     `json:"purpose"`
	Session string     `json:"session"`
	Topic   []byte     `json:"topic"`
	Number  int        `json:"number"`
	Status  PushStatus `json:"status"`
	Expires int64      `json:"expires"`
	Info    SignInInfo `json:"info"`
}

func pushSessionKey(session string) string { return "push-session:" + session }
func pushAnsweredKey(hash string) string   { return "push-answered:" + hash }
func pushClaimKey(hash string) string      { return "push-claim:" + hash }

// pushTokenHash is what a prompt is stored under: a keyed hash of the
// token its link carries, so that the store holds no working link.
func (e *Engine) pushTokenHash(token string) string {
	return hex.EncodeToString(e.Keys.HashCode("push-token", token))
}

// StartPush sends a prompt to topic for user, for the session tagged
// session, after the fatigue limit (*Refused), and returns the number the
// sign-in page must show. build makes the notification from the token of
// the approval link (256 random bits). An earlier prompt of the session
// stops working. A notifier failure wraps push.ErrNotifier.
func (e *Engine) StartPush(ctx context.Context, user, purpose, session, topic string, info SignInInfo, build func(token string) push.Notification) (int, error) {
	if e.Notifier == nil {
		return 0, fmt.Errorf("%w: no notifier configured", push.ErrNotifier)
	}
	v, err := e.Regulation.BeforePush(ctx, user)
	if err != nil {
		return 0, fmt.Errorf("%w: push limits: %w", store.ErrUnavailable, err)
	}
	if !v.Allowed {
		return 0, &Refused{v}
	}
	tok := make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		return 0, fmt.Errorf("making a push token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(tok)
	n, err := rand.Int(rand.Reader, big.NewInt(90))
	if err != nil {
		return 0, fmt.Errorf("making a push number: %w", err)
	}
	sealed, err := e.Keys.Seal([]byte(topic), pushContext(user))
	if err != nil {
		return 0, fmt.Errorf("sealing push topic: %w", err)
	}
	if err := e.dropSessionPush(ctx, session); err != nil {
		return 0, err
	}
	now := e.Now()
	hash := e.pushTokenHash(token)
	rec := pushRecord{User: user, Purpose: purpose, Session: session, Topic: sealed, Number: int(n.Int64()) + 10,
		Status: PushPending, Expires: now.Add(PushTTL).Unix(), Info: info}
	if err := e.pushes().Put(ctx, hash, rec); err != nil {
		return 0, err
	}
	if err := e.KV.Set(ctx, pushSessionKey(session), []byte(hash), pushSessionTTL); err != nil {
		return 0, fmt.Errorf("%w: saving push request: %w", store.ErrUnavailable, err)
	}
	note := build(token)
	note.Topic, note.User, note.Time, note.Expires = topic, user, info.Time, time.Unix(rec.Expires, 0)
	note.Test = purpose == PurposeEnrol
	nctx, cancel := context.WithTimeout(ctx, push.SendTimeout)
	defer cancel()
	if err := e.Notifier.Notify(nctx, note); err != nil {
		if !errors.Is(err, push.ErrNotifier) {
			// A prompt the notifier refused to send (a malformed field):
			// to the user, a failure to send like any other.
			err = fmt.Errorf("%w: %w", push.ErrNotifier, err)
		}
		// The link must not work for a prompt the user was told failed.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), push.SendTimeout)
		defer cancel()
		if derr := e.pushes().Delete(dctx, hash); derr != nil {
			err = errors.Join(err, derr)
		}
		return 0, fmt.Errorf("sending a push notification: %w", err)
	}
	return rec.Number, nil
}

// dropSessionPush ends the earlier prompt of the session tagged session.
func (e *Engine) dropSessionPush(ctx context.Context, session string) error {
	old, err := e.KV.Get(ctx, pushSessionKey(session))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: ending earlier push request: %w", store.ErrUnavailable, err)
	}
	return e.pushes().Delete(ctx, string(old))
}

// pushes are the prompts under way, by the hash of their token.
func (e *Engine) pushes() record[pushRecord] {
	return record[pushRecord]{kv: e.KV, now: e.Now, prefix: "push:", what: "push request", expires: pushRecord.expiry}
}

func (r pushRecord) expiry() time.Time { return time.Unix(r.Expires, 0) }

// loadPush is the prompt of hash while it can be answered: ErrPushUnknown
// once it has expired, and if it is gone, what pushGone says.
func (e *Engine) loadPush(ctx context.Context, hash string) (pushRecord, error) {
	rec, err := e.pushes().Get(ctx, hash)
	switch {
	case errors.Is(err, errRecordExpired):
		return pushRecord{}, ErrPushUnknown
	case errors.Is(err, errNoRecord):
		return pushRecord{}, e.pushGone(ctx, hash)
	}
	return rec, err
}

// pushGone tells why the prompt of hash is not in the store: answered and
// used (ErrPushAnswered), or expired or never made (ErrPushUnknown).
func (e *Engine) pushGone(ctx context.Context, hash string) error {
	_, err := e.KV.Get(ctx, pushAnsweredKey(hash))
	switch {
	case err == nil:
		return ErrPushAnswered
	case errors.Is(err, store.ErrNotFound):
		return ErrPushUnknown
	}
	return fmt.Errorf("%w: reading push request: %w", store.ErrUnavailable, err)
}

// PushByToken is the prompt whose approval link carries token, while it
// can be answered: ErrPushUnknown (also after expiry) and ErrPushAnswered.
func (e *Engine) PushByToken(ctx context.Context, token string) (PushRequest, error) {
	rec, err := e.loadPush(ctx, e.pushTokenHash(token))
	if err != nil {
		return PushRequest{}, err
	}
	if rec.Status != PushPending {
		return PushRequest{}, ErrPushAnswered
	}
	return PushRequest{User: rec.User, Purpose: rec.Purpose, Info: rec.Info, Expires: time.Unix(rec.Expires, 0)}, nil
}

// ClaimPush opens the prompt of token on the device that holds claim (a
// random secret in a cookie of the approval page): the first device to
// open it claims it, and only that device may approve or deny it, so that
// a link read elsewhere (a log, a shared topic) cannot answer for the user.
// mine is false for any other device. Errors as PushByToken.
func (e *Engine) ClaimPush(ctx context.Context, token, claim string) (PushRequest, bool, error) {
	req, err := e.PushByToken(ctx, token)
	if err != nil {
		return PushRequest{}, false, err
	}
	hash := e.pushTokenHash(token)
	want := e.Keys.HashCode("push-claim", claim)
	first, err := e.KV.Create(ctx, pushClaimKey(hash), want, PushTTL)
	if err != nil {
		return PushRequest{}, false, fmt.Errorf("%w: claiming push request: %w", store.ErrUnavailable, err)
	}
	if first {
		return req, true, nil
	}
	mine, err := e.claimedBy(ctx, hash, claim)
	return req, mine, err
}

// claimedBy reports whether the prompt of hash was claimed with claim.
func (e *Engine) claimedBy(ctx context.Context, hash, claim string) (bool, error) {
	got, err := e.KV.Get(ctx, pushClaimKey(hash))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%w: reading push claim: %w", store.ErrUnavailable, err)
	}
	return claim != "" && subtle.ConstantTimeCompare(got, e.Keys.HashCode("push-claim", claim)) == 1, nil
}

// AnswerPush records the answer on the prompt of token, once: PushApprove
// with the number the sign-in page shows approves (a wrong number denies),
// PushDeny denies, PushReport denies and blocks the user's sign-ins until
// an administrator unlocks them. Approve and Deny need the claim of the
// device that opened the prompt (ClaimPush); a fraud report is taken from
// any device that has the link, since the user's own phone may have been
// beaten to it. It returns the outcome and the prompt; the outcome is
// PushFraud whenever the block was made, even with an error after it.
// Errors: ErrPushUnknown (also after expiry), ErrPushAnswered (a link used
// again), ErrPushClaimed.
func (e *Engine) AnswerPush(ctx context.Context, token, answer, number, claim string) (PushStatus, PushRequest, error) {
	hash := e.pushTokenHash(token)
	rec, err := e.loadPush(ctx, hash)
	if err != nil {
		return "", PushRequest{}, err
	}
	if rec.Status != PushPending {
		return "", PushRequest{}, ErrPushAnswered
	}
	req := PushRequest{User: rec.User, Purpose: rec.Purpose, Info: rec.Info, Expires: time.Unix(rec.Expires, 0)}
	fail := PushStatus("")
	if answer == PushReport {
		// Blocked before anything else: a report must not be lost to a
		// store error after the answer was taken.
		if err := e.Regulation.Block(ctx, rec.User); err != nil {
			return "", PushRequest{}, fmt.Errorf("%w: blocking after a fraud report: %w", store.ErrUnavailable, err)
		}
		// From here on the report is made: say so whatever else fails.
		fail = PushFraud
	} else if mine, err := e.claimedBy(ctx, hash, claim); err != nil {
		return "", PushRequest{}, err
	} else if !mine {
		return "", PushRequest{}, ErrPushClaimed
	}
	first, err := e.KV.Create(ctx, pushAnsweredKey(hash), []byte{1}, PushTTL)
	if err != nil {
		return fail, req, fmt.Errorf("%w: recording push answer: %w", store.ErrUnavailable, err)
	}
	if !first {
		return fail, req, ErrPushAnswered
	}
	switch {
	case answer == PushApprove && strings.TrimSpace(number) == strconv.Itoa(rec.Number):
		rec.Status = PushApproved
	case answer == PushReport:
		rec.Status = PushFraud
	default:
		rec.Status = PushDenied
	}
	return rec.Status, req, e.pushes().Put(ctx, hash, rec)
}

// sessionPush finds the last prompt of the session tagged session for
// purpose. ok is false if there is none (never sent, forgotten, or of
// another purpose); a prompt that expired unanswered has PushExpired.
func (e *Engine) sessionPush(ctx context.Context, session, purpose string) (string, pushRecord, bool, error) {
	hash, err := e.KV.Get(ctx, pushSessionKey(session))
	if errors.Is(err, store.ErrNotFound) {
		return "", pushRecord{}, false, nil
	}
	if err != nil {
		return "", pushRecord{}, false, fmt.Errorf("%w: reading push request: %w", store.ErrUnavailable, err)
	}
	rec, err := e.loadPush(ctx, string(hash))
	if errors.Is(err, ErrPushUnknown) {
		return string(hash), pushRecord{Session: session, Purpose: purpose, Status: PushExpired}, true, nil
	}
	if err != nil {
		return "", pushRecord{}, false, err
	}
	if rec.Session != session || rec.Purpose != purpose {
		return "", pushRecord{}, false, nil
	}
	return string(hash), rec, true, nil
}

// PushState is where the last prompt of the session tagged session stands,
// with the number its page shows; ok is false if there is none.
func (e *Engine) PushState(ctx context.Context, session, purpose string) (PushStatus, int, bool, error) {
	_, rec, ok, err := e.sessionPush(ctx, session, purpose)
	if err != nil || !ok {
		return "", 0, false, err
	}
	return rec.Status, rec.Number, true, nil
}

// FinishPush completes a sign-in (or registration) by the approved prompt
// of the session tagged session, once, and returns the topic it went to.
// A prompt not approved, expired, already used, or of another user or
// purpose is ErrBadCode.
func (e *Engine) FinishPush(ctx context.Context, user, purpose, session string) (string, error) {
	hash, rec, ok, err := e.sessionPush(ctx, session, purpose)
	if err != nil {
		return "", err
	}
	if !ok || rec.Status != PushApproved || rec.User != user {
		return "", ErrBadCode
	}
	if _, err := e.pushes().Take(ctx, hash); errors.Is(err, errNoRecord) {
		return "", ErrBadCode
	} else if err != nil {
		return "", err
	}
	if err := e.KV.Delete(ctx, pushSessionKey(session)); err != nil {
		return "", fmt.Errorf("%w: using push request: %w", store.ErrUnavailable, err)
	}
	topic, err := e.openTopic(user, rec.Topic)
	if err != nil {
		return "", err
	}
	if purpose == PurposeSignIn {
		if err := e.pushUsed(ctx, user, topic); err != nil {
			return "", err
		}
	}
	return topic, nil
}
