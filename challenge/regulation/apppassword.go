package regulation

import (
	"context"
	"fmt"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
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
// As with passwords (smart lockout), an address where a right app password
// of the user was used in the last 30 days is familiar: its wrong ones are
// counted for the user apart from everyone else's, so that whoever knows a
// user name and guesses from elsewhere cannot keep the user's own mail
// client out.
//
// A right app password is then refused while the account is blocked (a
// fraud report) or locked out (second-factor failures, an administrator):
// the same account-level state that stops sign-in, lifted by `caddy mfa
// unlock`. That is told only to whoever has the right app password; a wrong
// one is answered the same whatever the state of the account.

// AppPasswordAttempt is an app-password attempt as BeforeAppPassword rated
// it, for AppPasswordOK.
type AppPasswordAttempt struct {
	user, ip string
	// gen is the generation of user's lockout keys (see Unlock).
	gen string
	// known: a right app password of user came from ip lately.
	known bool
	// flight is the check in flight, ended by AppPasswordOK or
	// AppPasswordDone.
	flight *flightTicket
}

// userKey is the key of the per-user limit the attempt counts against:
// the user's own for a familiar address (in the generation of the user's
// lockout keys, so that Unlock lifts it), else the one of every other
// address (which Unlock resets: see families). A
// generation holds no ":" and an address no "|", so no user name makes one
// user's key another's.
func (a AppPasswordAttempt) userKey() string {
	if a.known {
		return prefixAppPasswordOwn + a.gen + ":" + a.ip + "|" + a.user
	}
	return userKey(prefixAppPasswordUser, a.user)
}

func (a AppPasswordAttempt) ipKey() string { return prefixAppPasswordIP + a.ip }

// appPasswordKnownKey marks ip as familiar for user's app passwords.
func appPasswordKnownKey(user, ip string) string { return prefixAppPasswordAddr + ip + "|" + user }

// BeforeAppPassword takes a token of the per-address and the per-user limit
// for an app password of user from ip, or refuses it (ReasonIP or
// ReasonUser) without taking any: a refused attempt is not checked, so it does
// not count. Call AppPasswordOK with the attempt if the app password turns
// out right. Known and unknown names, familiar and other addresses, do the
// same reads.
func (r *Regulation) BeforeAppPassword(ctx context.Context, user, ip string) (Verdict, AppPasswordAttempt, error) {
	a := AppPasswordAttempt{user: user, ip: ip}
	res, err := r.limiter.Allow(ctx, a.ipKey(), r.limits.AppPasswordPerIP)
	if err != nil {
		return Verdict{}, a, err
	}
	if !res.Allowed {
		return Verdict{RetryAfter: retryAfter(res), Reason: ReasonIP}, a, nil
	}
	if a.known, err = r.present(ctx, appPasswordKnownKey(user, ip)); err != nil {
		return Verdict{}, a, err
	}
	if a.gen, err = r.generation(ctx, user); err != nil {
		return Verdict{}, a, err
	}
	if res, a.flight, err = r.allowUser(ctx, a.userKey()); err != nil {
		return Verdict{}, a, err
	}
	if !res.Allowed {
		// Not checked, so not a guess from this address either.
		if err := r.limiter.Refund(ctx, a.ipKey(), r.limits.AppPasswordPerIP); err != nil {
			return Verdict{}, a, err
		}
		return Verdict{RetryAfter: retryAfter(res), Reason: ReasonUser}, a, nil
	}
	return allowed(), a, nil
}

// allowUser takes a token of the per-user limit under key, and returns
// the check in flight that holds it. Refused while checks under key are in
// flight on this gateway, it waits for one to end and asks again
// (flights.go): right ones give their token back.
func (r *Regulation) allowUser(ctx context.Context, key string) (limit.Result, *flightTicket, error) {
	var deadline <-chan time.Time
	for try := 1; ; try++ {
		t := r.checking.begin(key)
		res, err := r.limiter.Allow(ctx, key, r.limits.AppPasswordPerUser)
		if err == nil && res.Allowed {
			return res, t, nil
		}
		t.drop()
		if err != nil || try >= maxFlightTries {
			return res, nil, err
		}
		if deadline == nil {
			timer := time.NewTimer(maxFlightWait)
			defer timer.Stop()
			deadline = timer.C
		}
		if !r.checking.await(ctx, t, deadline) {
			return res, nil, nil
		}
	}
}

// AppPasswordDone ends the check of a that BeforeAppPassword allowed, when
// it was not right (AppPasswordOK ends a right one). Calling it again, or
// after AppPasswordOK, does nothing.
func (r *Regulation) AppPasswordDone(a AppPasswordAttempt) { a.flight.end() }

// AppPasswordOK gives back the tokens BeforeAppPassword took for a, a
// right app password, and makes its address familiar for the user (once:
// a client that syncs often writes nothing more).
func (r *Regulation) AppPasswordOK(ctx context.Context, a AppPasswordAttempt) error {
	// The token is back before the check counts as ended, so that whoever
	// waits for it finds it.
	defer a.flight.end()
	if err := r.limiter.Refund(ctx, a.userKey(), r.limits.AppPasswordPerUser); err != nil {
		return err
	}
	if err := r.limiter.Refund(ctx, a.ipKey(), r.limits.AppPasswordPerIP); err != nil {
		return err
	}
	if a.known {
		return nil
	}
	if err := r.kv.Set(ctx, appPasswordKnownKey(a.user, a.ip), []byte{1}, KnownAddressFor); err != nil {
		return fmt.Errorf("%w: remembering the address of an app password: %w", store.ErrUnavailable, err)
	}
	return nil
}

// AppPasswordAccount says whether a right app password of user may be
// used now: not while the account is blocked after a fraud report
// (ReasonBlocked) or locked out (ReasonLocked, with RetryAfter), until it
// ends or an administrator unlocks. Ask only after a right app password.
func (r *Regulation) AppPasswordAccount(ctx context.Context, user string) (Verdict, error) {
	return r.lockVerdict(ctx, user)
}

// retryAfter is when a refused attempt may come again: at least a second.
func retryAfter(res limit.Result) time.Duration {
	return max(res.RetryAfter, time.Second)
}
