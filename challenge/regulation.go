package challenge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// Limits are the rate limits and lockout rules of sign-in.
type Limits struct {
	// LoginPerIP limits password attempts from one client address.
	LoginPerIP limit.Limit
	// LoginPerUser limits password attempts for one user name.
	LoginPerUser limit.Limit
	// CodePerUser limits second-factor checks for one user.
	CodePerUser limit.Limit
	// MaxFailures wrong passwords within FindTime from one source (an
	// address, or the user's familiar browsers) lock that source out for
	// the user for BanTime (see regulation_source.go).
	MaxFailures int
	// MaxUnfamiliarFailures wrong passwords a day from sources other than
	// a familiar browser lock every unfamiliar source out for the user
	// until the count drains; familiar ones still sign in.
	MaxUnfamiliarFailures int
	// FindTime is the window in which MaxFailures failures lock.
	FindTime time.Duration
	// BanTime is how long a lockout lasts.
	BanTime time.Duration
	// MaxCodeFailures second-factor failures in a row lock the user,
	// however slowly they come (the run is remembered for 30 days after its
	// last failure and ended only by a right code); each further run of as
	// many locks for twice as long as the one before (at most a day).
	MaxCodeFailures int
	// Send limits texts and calls (toll fraud, SMS pumping).
	Send SendLimits
	// PushPerUser limits the app notifications sent to one user (against
	// MFA fatigue: prompting until the user approves one by mistake).
	PushPerUser limit.Limit
	// AppPasswordPerIP and AppPasswordPerUser limit wrong app passwords
	// from one client address and for one user; past them, every app
	// password from there (or for that user) is refused until they pass.
	AppPasswordPerIP, AppPasswordPerUser limit.Limit
}

// DefaultLimits are in the spirit of Authelia's regulation and Azure's
// smart lockout: 5 wrong passwords in 2 minutes from one source lock that
// source for 5 minutes, 100 a day from unfamiliar sources lock them all,
// and no more than 10 second-factor failures in a row go by without
// a lockout.
func DefaultLimits() Limits {
	return Limits{
		LoginPerIP:            limit.Limit{Rate: 30, Period: time.Minute},
		LoginPerUser:          limit.Limit{Rate: 10, Period: time.Minute},
		CodePerUser:           limit.Limit{Rate: 10, Period: time.Minute},
		MaxFailures:           5,
		MaxUnfamiliarFailures: 100,
		FindTime:              2 * time.Minute,
		BanTime:               5 * time.Minute,
		MaxCodeFailures:       10,
		Send:                  DefaultSendLimits(),
		PushPerUser:           limit.Limit{Rate: 3, Period: 5 * time.Minute},
		AppPasswordPerIP:      limit.Limit{Rate: 20, Period: time.Minute},
		AppPasswordPerUser:    limit.Limit{Rate: 10, Period: time.Minute},
	}
}

// Validate reports the first nonsensical limit.
func (l Limits) Validate() error {
	for name, x := range map[string]limit.Limit{"login_per_ip": l.LoginPerIP, "login_per_user": l.LoginPerUser, "code_per_user": l.CodePerUser, "push_per_user": l.PushPerUser,
		"app_password_per_ip": l.AppPasswordPerIP, "app_password_per_user": l.AppPasswordPerUser} {
		if x.Rate <= 0 || x.Period <= 0 {
			return fmt.Errorf("limits: %s must be a positive rate per period, e.g. 10/1m", name)
		}
	}
	if l.MaxFailures <= 0 || l.FindTime <= 0 || l.BanTime <= 0 || l.MaxCodeFailures <= 0 || l.MaxUnfamiliarFailures <= 0 {
		return errors.New("limits: max_failures, max_unfamiliar_failures, find_time, ban_time and max_code_failures must be positive")
	}
	if l.MaxUnfamiliarFailures > 100 {
		return errors.New("limits: max_unfamiliar_failures may be at most 100 (NIST SP 800-63B)")
	}
	if err := l.Send.Validate(); err != nil {
		return err
	}
	if l.MaxCodeFailures > 100 {
		return errors.New("limits: max_code_failures may be at most 100 (NIST SP 800-63B)")
	}
	return nil
}

// Regulation applies Limits: rate limits through a limit.Limiter, lockouts
// and failure counters through a store.KV. With Redis behind both, every
// gateway sees the same counts.
type Regulation struct {
	limits  Limits
	limiter limit.Limiter
	kv      store.KV
	now     func() time.Time
}

// NewRegulation returns a Regulation on the system clock.
func NewRegulation(l Limits, limiter limit.Limiter, kv store.KV) *Regulation {
	return &Regulation{limits: l, limiter: limiter, kv: kv, now: time.Now}
}

// SetClock replaces the clock (the engine's, or a test's).
func (r *Regulation) SetClock(now func() time.Time) { r.now = now }

// Verdict says whether an attempt may go ahead.
type Verdict struct {
	// Allowed is false when the attempt must not be checked.
	Allowed bool
	// RetryAfter is when to try again, when not allowed.
	RetryAfter time.Duration
	// Reason is "ip", "user" (rate), "locked", "unfamiliar" (every
	// unfamiliar source of a password: BeforePassword), or "blocked" (after
	// a fraud report, until an administrator unlocks), for the log.
	Reason string
}

func allowed() Verdict { return Verdict{Allowed: true} }

// BeforeCode rates a second-factor check for user.
func (r *Regulation) BeforeCode(ctx context.Context, user string) (Verdict, error) {
	return r.userVerdict(ctx, user, "code-user:", r.limits.CodePerUser)
}

// BeforePush rates an app notification for user. Reasons: "locked",
// "blocked", "user" (too many prompts in a row: MFA fatigue).
func (r *Regulation) BeforePush(ctx context.Context, user string) (Verdict, error) {
	return r.userVerdict(ctx, user, "push-user:", r.limits.PushPerUser)
}

func (r *Regulation) userVerdict(ctx context.Context, user, kind string, l limit.Limit) (Verdict, error) {
	if v, err := r.lockVerdict(ctx, user); err != nil || !v.Allowed {
		return v, err
	}
	res, err := r.limiter.Allow(ctx, kind+user, l)
	if err != nil {
		return Verdict{}, err
	}
	if !res.Allowed {
		return Verdict{RetryAfter: res.RetryAfter, Reason: "user"}, nil
	}
	return allowed(), nil
}

// lockVerdict refuses while the user is blocked (after a fraud report, until
// an administrator unlocks) or a lock key (holding when it ends) exists.
// The two are separate keys, so that a lockout can never replace a block.
func (r *Regulation) lockVerdict(ctx context.Context, user string) (Verdict, error) {
	if _, err := r.kv.Get(ctx, "block:"+user); err == nil {
		return Verdict{Reason: "blocked"}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return Verdict{}, err
	}
	v, err := r.kv.Get(ctx, "lock:"+user)
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
	return Verdict{RetryAfter: max(until.Sub(r.now()), time.Second), Reason: "locked"}, nil
}

// blockFor is how long a block lasts in the store: for good, in practice.
const blockFor = 10 * 365 * 24 * time.Hour

// Block stops every sign-in of user until an administrator lifts it with
// Unlock: the user reported a sign-in they did not start.
func (r *Regulation) Block(ctx context.Context, user string) error {
	return r.kv.Set(ctx, "block:"+user, []byte(r.now().UTC().Format(time.RFC3339)), blockFor)
}

// Locked reports whether user is locked out account-wide (a fraud block,
// a lockout after wrong codes), and for how long; locks of password
// sources are listed by SourceLocks.
func (r *Regulation) Locked(ctx context.Context, user string) (bool, time.Duration, error) {
	v, err := r.lockVerdict(ctx, user)
	return !v.Allowed, v.RetryAfter, err
}

func (r *Regulation) lock(ctx context.Context, user string, d time.Duration) error {
	return r.setLock(ctx, "lock:"+user, d)
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
	n, err := r.kv.Incr(ctx, "codefail:"+user, codeFailMemory)
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
	return r.kv.Delete(ctx, "codefail:"+user)
}

// Unlock lifts every lockout and block of user (the locks of password
// sources too) and forgets their failures and rate counts: an
// administrator's action.
func (r *Regulation) Unlock(ctx context.Context, user string) (wasLocked bool, err error) {
	locked, _, err := r.Locked(ctx, user)
	if err != nil {
		return false, err
	}
	sources, err := r.SourceLocks(ctx, user)
	if err != nil {
		return false, err
	}
	locked = locked || len(sources) > 0
	if err := r.newGeneration(ctx, user); err != nil {
		return false, err
	}
	for _, k := range []string{"code-user:", "send-user:", "push-user:", "apppw-fail-user:"} {
		if err := r.limiter.Reset(ctx, k+user); err != nil {
			return false, err
		}
	}
	if err := r.kv.Delete(ctx, "codefail:"+user); err != nil {
		return false, err
	}
	if err := r.kv.Delete(ctx, "block:"+user); err != nil {
		return false, err
	}
	return locked, r.kv.Delete(ctx, "lock:"+user)
}
