package regulation

import (
	"context"
	"errors"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// Regulation applies Limits: rate limits through a limit.Limiter, lockouts
// and failure counters through a store.KV. With Redis behind both, every
// gateway sees the same counts.
type Regulation struct {
	limits  Limits
	limiter limit.Limiter
	kv      store.KV
	now     func() time.Time
	// checking is the app-password checks in flight (flights.go).
	checking *flights
}

// New returns a Regulation that applies l, counting in limiter and kv, on
// the clock now (the engine's: time.Now, or a test's).
func New(l Limits, limiter limit.Limiter, kv store.KV, now func() time.Time) *Regulation {
	return &Regulation{limits: l, limiter: limiter, kv: kv, now: now, checking: &flights{}}
}

// Verdict says whether an attempt may go ahead.
type Verdict struct {
	// Allowed is false when the attempt must not be checked.
	Allowed bool
	// RetryAfter is when to try again, when not allowed.
	RetryAfter time.Duration
	// Reason says why not, when not allowed: one of the Reason constants.
	Reason Reason
}

func allowed() Verdict { return Verdict{Allowed: true} }

// BeforeCode rates a second-factor check for user. Reasons: ReasonLocked,
// ReasonBlocked, ReasonUser.
func (r *Regulation) BeforeCode(ctx context.Context, user string) (Verdict, error) {
	return r.userVerdict(ctx, user, prefixCodeRate, r.limits.CodePerUser)
}

// BeforePush rates an app notification for user. Reasons: ReasonLocked,
// ReasonBlocked, ReasonUser (too many prompts in a row: MFA fatigue).
func (r *Regulation) BeforePush(ctx context.Context, user string) (Verdict, error) {
	return r.userVerdict(ctx, user, prefixPushRate, r.limits.PushPerUser)
}

func (r *Regulation) userVerdict(ctx context.Context, user, prefix string, l limit.Limit) (Verdict, error) {
	if v, err := r.lockVerdict(ctx, user); err != nil || !v.Allowed {
		return v, err
	}
	res, err := r.limiter.Allow(ctx, userKey(prefix, user), l)
	if err != nil {
		return Verdict{}, err
	}
	if !res.Allowed {
		return Verdict{RetryAfter: res.RetryAfter, Reason: ReasonUser}, nil
	}
	return allowed(), nil
}

// lockVerdict refuses while the user is blocked (after a fraud report, until
// an administrator unlocks) or a lock key (holding when it ends) exists.
// The two are separate keys, so that a lockout can never replace a block.
func (r *Regulation) lockVerdict(ctx context.Context, user string) (Verdict, error) {
	if _, err := r.kv.Get(ctx, userKey(prefixBlock, user)); err == nil {
		return Verdict{Reason: ReasonBlocked}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return Verdict{}, err
	}
	v, err := r.kv.Get(ctx, userKey(prefixLock, user))
	if errors.Is(err, store.ErrNotFound) {
		return allowed(), nil
	}
	if err != nil {
		return Verdict{}, err
	}
	until, err := time.Parse(time.RFC3339, string(v))
	if err != nil {
		until = r.now().Add(r.limits.BanTime)
	}
	return Verdict{RetryAfter: max(until.Sub(r.now()), time.Second), Reason: ReasonLocked}, nil
}

// blockFor is how long a block lasts in the store: for good, in practice.
const blockFor = 10 * 365 * 24 * time.Hour

// Block stops every sign-in of user until an administrator lifts it with
// Unlock: the user reported a sign-in they did not start.
func (r *Regulation) Block(ctx context.Context, user string) error {
	return r.kv.Set(ctx, userKey(prefixBlock, user), []byte(r.now().UTC().Format(time.RFC3339)), blockFor)
}

// Locked reports whether user is locked out account-wide (a fraud block,
// a lockout after wrong codes), and for how long; locks of password
// sources are listed by SourceLocks.
func (r *Regulation) Locked(ctx context.Context, user string) (bool, time.Duration, error) {
	v, err := r.lockVerdict(ctx, user)
	return !v.Allowed, v.RetryAfter, err
}

func (r *Regulation) lock(ctx context.Context, user string, d time.Duration) error {
	return r.setLock(ctx, userKey(prefixLock, user), d)
}

// maxBan caps the doubling lockouts of repeated second-factor failures.
const maxBan = 24 * time.Hour

// codeFailMemory is how long the run of second-factor failures is
// remembered after the last one. Only a right code ends a run (not a right
// password, not a lockout running out), so an attacker who has the
// password cannot go on guessing codes slowly.
const codeFailMemory = 30 * 24 * time.Hour

// CodeFailed records a wrong second-factor code and reports whether that
// locked the user out: every MaxCodeFailures in a run lock, each time for
// twice as long (BanTime, then 2x, 4x ... up to a day).
func (r *Regulation) CodeFailed(ctx context.Context, user string) (bool, error) {
	n, err := r.kv.Incr(ctx, userKey(prefixCodeFail, user), codeFailMemory)
	if err != nil {
		return false, err
	}
	if m := int64(r.limits.MaxCodeFailures); n%m == 0 {
		ban := r.limits.BanTime << min(n/m-1, 8)
		return true, r.lock(ctx, user, min(ban, maxBan))
	}
	return false, nil
}

// CodeOK ends the run of second-factor failures of user after a right code.
func (r *Regulation) CodeOK(ctx context.Context, user string) error {
	return r.kv.Delete(ctx, userKey(prefixCodeFail, user))
}
