package regulation

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// SendLimits bound the texts and calls the gateway pays for, against toll
// fraud and SMS pumping: per user, per destination number, per client
// address, a wait between two sends to one user on one channel, and a cap
// per day across the whole gateway. Texts and calls count together, but
// for the wait: a call right after a text (or the reverse) is a user
// choosing another way, not asking again.
type SendLimits struct {
	// PerUser limits sends for one user.
	PerUser limit.Limit
	// PerNumber limits sends to one phone number, whoever asks.
	PerNumber limit.Limit
	// PerIP limits sends asked for from one client address (IPv6: its /64).
	PerIP limit.Limit
	// Daily caps the sends of the whole gateway in one UTC day.
	Daily int
	// Resend is the least time between two sends to one user on one
	// channel (two texts, or two calls). Default 30s.
	Resend time.Duration
}

// DefaultSendLimits allow a user a few tries an hour: enough for a phone
// that was out of reach, too few to be worth anything to a fraudster.
func DefaultSendLimits() SendLimits {
	return SendLimits{
		PerUser:   limit.Limit{Rate: 5, Period: time.Hour},
		PerNumber: limit.Limit{Rate: 5, Period: time.Hour},
		PerIP:     limit.Limit{Rate: 50, Period: time.Hour},
		Daily:     1000,
		Resend:    30 * time.Second,
	}
}

// Validate reports the first nonsensical send limit.
func (l SendLimits) Validate() error {
	for name, x := range map[string]limit.Limit{"send_per_user": l.PerUser, "send_per_number": l.PerNumber, "send_per_ip": l.PerIP} {
		if x.Rate <= 0 || x.Period <= 0 {
			return fmt.Errorf("limits: %s must be a positive rate per period, e.g. 5/1h", name)
		}
	}
	if l.Daily <= 0 {
		return errors.New("limits: send_daily must be a positive number of texts and calls per day")
	}
	if l.Resend < 0 {
		return errors.New("limits: resend_after must not be negative")
	}
	return nil
}

// Channels of a send, each with its own resend wait.
const (
	// ChannelText is a text message.
	ChannelText = "text"
	// ChannelCall is a phone call.
	ChannelCall = "call"
	// ChannelEmail is an e-mailed registration code (verified_email).
	ChannelEmail = "email"
)

// BeforeSend decides whether a text or call (channel: ChannelText or
// ChannelCall) for purpose may go out for user, to the number known by numberKey (a keyed hash: no number is kept in
// clear), asked for from ip, and counts it if so. Reasons: ReasonLocked,
// ReasonBlocked, ReasonResend (too soon after the last one on the channel), ReasonUser,
// ReasonNumber, ReasonIP, ReasonDaily. purpose keeps the counts per number
// of different purposes apart (challenge.PurposeSignIn and PurposeEnrol).
//
// The checks run from the most to the least specific, so that a refusal
// spends nothing of the wider buckets: a user who keeps sending to one
// number uses up their own quota, not their office's address. Registration
// (the user picks the number) and sign-in (to a proven number) count per
// number apart, so nobody can use up another's sign-ins by trying to
// register their number.
func (r *Regulation) BeforeSend(ctx context.Context, user, purpose, channel, numberKey, ip string) (Verdict, error) {
	now := r.now()
	if v, err := r.lockVerdict(ctx, user); err != nil || !v.Allowed {
		return v, err
	}
	l := r.limits.Send
	wait := resendKey(channel, user)
	if l.Resend > 0 {
		if _, err := r.kv.Get(ctx, wait); err == nil {
			return Verdict{RetryAfter: r.resendLeft(ctx, wait, now), Reason: ReasonResend}, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return Verdict{}, err
		}
	}
	for _, c := range []struct {
		key    string
		reason Reason
		l      limit.Limit
	}{
		{userKey(prefixSendUser, user), ReasonUser, l.PerUser},
		{prefixSendNumber + purpose + ":" + numberKey, ReasonNumber, l.PerNumber},
		{prefixSendIP + ip, ReasonIP, l.PerIP},
	} {
		res, err := r.limiter.Allow(ctx, c.key, c.l)
		if err != nil {
			return Verdict{}, err
		}
		if !res.Allowed {
			return Verdict{RetryAfter: res.RetryAfter, Reason: c.reason}, nil
		}
	}
	n, err := r.kv.Incr(ctx, dailyKey(now), 48*time.Hour)
	if err != nil {
		return Verdict{}, err
	}
	if n > int64(l.Daily) {
		tomorrow := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		return Verdict{RetryAfter: tomorrow.Sub(now), Reason: ReasonDaily}, nil
	}
	if l.Resend > 0 {
		// Set once it goes out; of two sends racing, the second waits.
		first, err := r.kv.Create(ctx, wait, []byte(now.Add(l.Resend).UTC().Format(time.RFC3339)), l.Resend)
		if err != nil {
			return Verdict{}, err
		}
		if !first {
			return Verdict{RetryAfter: r.resendLeft(ctx, wait, now), Reason: ReasonResend}, nil
		}
	}
	return allowed(), nil
}

// resendKey is the key of the wait before the next send on channel to
// user. A channel other than those known counts as a text.
func resendKey(channel, user string) string {
	if channel != ChannelCall && channel != ChannelEmail {
		channel = ChannelText
	}
	return prefixSendWait + channel + ":" + user
}

// resendLeft is how long until the wait under key is over.
func (r *Regulation) resendLeft(ctx context.Context, key string, now time.Time) time.Duration {
	v, err := r.kv.Get(ctx, key)
	if err != nil {
		return r.limits.Send.Resend
	}
	until, err := time.Parse(time.RFC3339, string(v))
	if err != nil {
		return r.limits.Send.Resend
	}
	return min(max(until.Sub(now), time.Second), r.limits.Send.Resend)
}

// SentToday is how many texts and calls the gateway was asked for on the
// current UTC day and counted against Send.Daily (those the cap refused
// too).
func (r *Regulation) SentToday(ctx context.Context) (int64, error) {
	v, err := r.kv.Get(ctx, dailyKey(r.now()))
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("%w: reading the texts and calls of the day: %w", store.ErrUnavailable, err)
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("the count of texts and calls of the day holds %q", v)
	}
	return n, nil
}

// dailyKey is the key of the count of texts and calls of now's UTC day.
func dailyKey(now time.Time) string { return prefixSendDaily + now.UTC().Format("2006-01-02") }
