package challenge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/regulation"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// CallStatus is where a sign-in call stands.
type CallStatus string

// Call statuses. Only the callee's "#" approves; "0#" reports fraud; any
// other key, no key, or hanging up denies.
const (
	CallPending  CallStatus = "pending"
	CallApproved CallStatus = "approved"
	CallDenied   CallStatus = "denied"
	CallFraud    CallStatus = "fraud"
)

// ErrCallAnswered is a callback for a call that already has its answer (a
// replay, or a second callback).
var ErrCallAnswered = errors.New("this call has already been answered")

// ErrCallUnknown is a callback for a call that does not exist or expired.
var ErrCallUnknown = errors.New("no such call, or it has expired")

// callRecord is a call under way, in the KV under "call:<id>"; the session
// that asked for it finds it under "call-session:<session>".
type callRecord struct {
	User    string     `json:"user"`
	Purpose string     `json:"purpose"`
	Session string     `json:"session"`
	Number  []byte     `json:"number"`
	Masked  string     `json:"masked"`
	Status  CallStatus `json:"status"`
	Expires int64      `json:"expires"`
	Info    SignInInfo `json:"info"`
	// Ref is the provider's id of the call (Twilio's CallSid), which its
	// callbacks must carry too.
	Ref string `json:"ref,omitempty"`
}

func callSessionKey(session string) string { return "call-session:" + session }

// SessionTag is what call records know a session by: a keyed hash of its
// id, so that no session id is stored beside them.
func (e *Engine) SessionTag(sessionID string) string {
	return hex.EncodeToString(e.Keys.HashCode("call-session", sessionID)[:16])
}

// StartCall places a call to to for user, for the session tagged session
// (info describes its sign-in, for a fraud report),
// after the country allow-list and the send limits (ErrCountry, *Refused).
// build makes the call from the call's id, which its callbacks carry. A
// provider failure wraps phone.ErrProvider.
func (e *Engine) StartCall(ctx context.Context, user, purpose, session, ip string, to phone.Number, info SignInInfo, build func(id string) phone.Call) (string, error) {
	if e.Phone.Voice == nil {
		return "", fmt.Errorf("%w: no voice provider", phone.ErrProvider)
	}
	if err := e.checkSend(ctx, user, purpose, regulation.ChannelCall, ip, to); err != nil {
		return "", err
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making a call id: %w", err)
	}
	id := hex.EncodeToString(b)
	sealed, err := e.SealNumber(user, to)
	if err != nil {
		return "", err
	}
	rec := callRecord{User: user, Purpose: purpose, Session: session, Number: sealed, Masked: to.Masked(),
		Status: CallPending, Expires: e.Now().Add(PhoneCodeTTL).Unix(), Info: info}
	if err := e.calls().Put(ctx, id, rec); err != nil {
		return "", err
	}
	if err := e.KV.Set(ctx, callSessionKey(session), []byte(id), PhoneCodeTTL); err != nil {
		return "", fmt.Errorf("%w: saving call: %w", store.ErrUnavailable, err)
	}
	cctx, cancel := context.WithTimeout(ctx, phone.SendTimeout)
	defer cancel()
	ref, err := e.Phone.Voice.PlaceCall(cctx, build(id))
	if err != nil {
		rec.Status = CallDenied
		// The request may be over (the user gave up while the provider
		// hung): mark the call denied all the same.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), phone.SendTimeout)
		defer cancel()
		if serr := e.calls().Put(dctx, id, rec); serr != nil {
			err = errors.Join(err, serr)
		}
		return "", fmt.Errorf("placing a call: %w", err)
	}
	if ref != "" {
		rec.Ref = ref
		if err := e.calls().Put(ctx, id, rec); err != nil {
			return "", err
		}
	}
	return id, nil
}

// calls are the calls under way, by id.
func (e *Engine) calls() record[callRecord] {
	return record[callRecord]{kv: e.KV, now: e.Now, prefix: "call:", what: "call", expires: callRecord.expiry}
}

func (r callRecord) expiry() time.Time { return time.Unix(r.Expires, 0) }

// loadCall is the call id while it can be answered, or ErrCallUnknown.
func (e *Engine) loadCall(ctx context.Context, id string) (callRecord, error) {
	rec, err := e.calls().Get(ctx, id)
	if errors.Is(err, errNoRecord) {
		return callRecord{}, ErrCallUnknown
	}
	return rec, err
}

// CallFromProvider checks that a callback about call id names the call the
// provider placed (ref: its id of the call), when the provider gave one:
// the call id alone, which travels in URLs, is not enough.
func (e *Engine) CallFromProvider(ctx context.Context, id, ref string) error {
	rec, err := e.loadCall(ctx, id)
	if err != nil {
		return err
	}
	if rec.Ref != "" && rec.Ref != ref {
		return ErrCallUnknown
	}
	return nil
}

// answerOnce lets the first answer of call id through, and no other: a
// callback replayed, or a status callback after the keys, changes nothing.
func (e *Engine) answerOnce(ctx context.Context, id string) error {
	first, err := e.KV.Create(ctx, "call-answered:"+id, []byte{1}, PhoneCodeTTL)
	if err != nil {
		return fmt.Errorf("%w: recording call answer: %w", store.ErrUnavailable, err)
	}
	if !first {
		return ErrCallAnswered
	}
	return nil
}

// CallAnswered records the keys the callee pressed on call id: "#"
// approves, "0#" reports fraud and blocks the user's sign-ins until an
// administrator unlocks them, anything else denies. It returns the outcome
// and the call's user. Errors: ErrCallUnknown (also after expiry) and
// ErrCallAnswered (a replay).
func (e *Engine) CallAnswered(ctx context.Context, id, digits string) (CallStatus, string, error) {
	rec, err := e.loadCall(ctx, id)
	if err != nil {
		return "", "", err
	}
	if rec.Status != CallPending {
		return "", "", ErrCallAnswered
	}
	if digits == "0#" {
		// Blocked before anything else: a report must not be lost to a
		// store error after the answer was taken.
		if err := e.Regulation.Block(ctx, rec.User); err != nil {
			return "", "", fmt.Errorf("%w: blocking after a fraud report: %w", store.ErrUnavailable, err)
		}
	}
	if err := e.answerOnce(ctx, id); err != nil {
		return "", "", err
	}
	switch digits {
	case "#":
		rec.Status = CallApproved
	case "0#":
		rec.Status = CallFraud
	default:
		rec.Status = CallDenied
	}
	return rec.Status, rec.User, e.calls().Put(ctx, id, rec)
}

// CallInfo describes the sign-in that call id is for.
func (e *Engine) CallInfo(ctx context.Context, id string) (SignInInfo, error) {
	rec, err := e.loadCall(ctx, id)
	return rec.Info, err
}

// CallEnded records that call id ended (hung up, not answered, failed):
// a call that has no answer yet is denied. It returns the call's user.
func (e *Engine) CallEnded(ctx context.Context, id string) (string, error) {
	rec, err := e.loadCall(ctx, id)
	if err != nil {
		return "", err
	}
	if err := e.answerOnce(ctx, id); errors.Is(err, ErrCallAnswered) {
		return rec.User, nil
	} else if err != nil {
		return "", err
	}
	rec.Status = CallDenied
	return rec.User, e.calls().Put(ctx, id, rec)
}

// sessionCall finds the call of the session tagged session for purpose;
// ok is false if there is none (never placed, expired, or of another
// session or purpose).
func (e *Engine) sessionCall(ctx context.Context, session, purpose string) (string, callRecord, bool, error) {
	id, err := e.KV.Get(ctx, callSessionKey(session))
	if errors.Is(err, store.ErrNotFound) {
		return "", callRecord{}, false, nil
	}
	if err != nil {
		return "", callRecord{}, false, fmt.Errorf("%w: reading call: %w", store.ErrUnavailable, err)
	}
	rec, err := e.loadCall(ctx, string(id))
	if errors.Is(err, ErrCallUnknown) {
		return "", callRecord{}, false, nil
	}
	if err != nil {
		return "", callRecord{}, false, err
	}
	if rec.Session != session || rec.Purpose != purpose {
		return "", callRecord{}, false, nil
	}
	return string(id), rec, true, nil
}

// CallState is where the call of the session tagged session stands, with
// the masked number it went to; ok is false if there is none (or it expired).
func (e *Engine) CallState(ctx context.Context, session, purpose string) (CallStatus, string, bool, error) {
	_, rec, ok, err := e.sessionCall(ctx, session, purpose)
	if err != nil || !ok {
		return "", "", false, err
	}
	return rec.Status, rec.Masked, true, nil
}

// FinishCall completes a sign-in (or registration) by an approved call of
// the session tagged session, once: it returns the number called. A call
// not approved, expired, already used, or of another user or purpose is
// ErrBadCode.
func (e *Engine) FinishCall(ctx context.Context, user, purpose, session string) (phone.Number, error) {
	id, rec, ok, err := e.sessionCall(ctx, session, purpose)
	if err != nil {
		return phone.Number{}, err
	}
	if !ok || rec.Status != CallApproved || rec.User != user {
		return phone.Number{}, ErrBadCode
	}
	if _, err := e.calls().Take(ctx, id); errors.Is(err, errNoRecord) {
		return phone.Number{}, ErrBadCode
	} else if err != nil {
		return phone.Number{}, err
	}
	if err := e.KV.Delete(ctx, callSessionKey(session)); err != nil {
		return phone.Number{}, fmt.Errorf("%w: using call: %w", store.ErrUnavailable, err)
	}
	return e.provedNumber(ctx, user, purpose, rec.Number)
}
