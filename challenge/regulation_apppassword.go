package challenge

import (
	"context"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
)

// App passwords are limited per client address and per user. Every attempt
// takes a token of both limits before it is checked, in one atomic step of
// the limiter (a Redis script with Redis), so that however many guesses
// come at once, no more are checked than the limits hold; past either
// limit, app passwords from that address (or for that user) are refused,
// right or wrong, until it refills. A right app password gives its tokens
// back (AppPasswordOK), so only wrong ones use the limits up: a client
// that syncs every few seconds is never limited by its own requests.
//
// A right app password is then refused while the account is blocked (a
// fraud report) or locked out (second-factor failures, an administrator):
// the same account-level state that stops sign-in, lifted by `caddy mfa
// unlock`. That is told only to whoever has the right app password; a wrong
// one is answered the same whatever the state of the account.

// appPasswordKeys are the limits' keys for user and for ip. Unlock resets
// the user's (by its name in regulation.go).
func appPasswordKeys(user, ip string) (userKey, ipKey string) {
	return "apppw-fail-user:" + user, "apppw-fail-ip:" + ip
}

// appPasswordWaitKeys are the keys where versions before the tokens were
// taken up front marked a limit as used up; Unlock still deletes the
// user's, so that none outlives an upgrade (they expire within a period).
func appPasswordWaitKeys(user, ip string) [2]string {
	return [2]string{"apppw-wait-ip:" + ip, "apppw-wait-user:" + user}
}

// BeforeAppPassword takes a token of the per-address and the per-user limit
// for an app password of user from ip, or refuses it (Reason "ip" or
// "user") without taking any: a refused attempt is not checked, so it does
// not count. Call AppPasswordOK if the app password turns out right.
func (r *Regulation) BeforeAppPassword(ctx context.Context, user, ip string) (Verdict, error) {
	userKey, ipKey := appPasswordKeys(user, ip)
	res, err := r.limiter.Allow(ctx, ipKey, r.limits.AppPasswordPerIP)
	if err != nil {
		return Verdict{}, err
	}
	if !res.Allowed {
		return Verdict{RetryAfter: retryAfter(res), Reason: "ip"}, nil
	}
	if res, err = r.limiter.Allow(ctx, userKey, r.limits.AppPasswordPerUser); err != nil {
		return Verdict{}, err
	}
	if !res.Allowed {
		// Not checked, so not a guess from this address either.
		if err := r.limiter.Refund(ctx, ipKey, r.limits.AppPasswordPerIP); err != nil {
			return Verdict{}, err
		}
		return Verdict{RetryAfter: retryAfter(res), Reason: "user"}, nil
	}
	return allowed(), nil
}

// AppPasswordOK gives back the tokens BeforeAppPassword took for a right
// app password of user from ip.
func (r *Regulation) AppPasswordOK(ctx context.Context, user, ip string) error {
	userKey, ipKey := appPasswordKeys(user, ip)
	if err := r.limiter.Refund(ctx, userKey, r.limits.AppPasswordPerUser); err != nil {
		return err
	}
	return r.limiter.Refund(ctx, ipKey, r.limits.AppPasswordPerIP)
}

// AppPasswordAccount says whether a right app password of user may be
// used now: not while the account is blocked after a fraud report (Reason
// "blocked") or locked out (Reason "locked", with RetryAfter), until it
// ends or an administrator unlocks. Ask only after a right app password.
func (r *Regulation) AppPasswordAccount(ctx context.Context, user string) (Verdict, error) {
	return r.lockVerdict(ctx, user)
}

// retryAfter is when a refused attempt may come again: at least a second.
func retryAfter(res limit.Result) time.Duration {
	return max(res.RetryAfter, time.Second)
}
