package challenge

import (
	"context"
	"errors"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// Wrong app passwords are counted per client address and per user; past
// either limit, app passwords from that address (or for that user) are
// refused, right or wrong, until the limit lets them through again.

func appPasswordWaitKeys(user, ip string) [2]string {
	return [2]string{"apppw-wait-ip:" + ip, "apppw-wait-user:" + user}
}

// BeforeAppPassword refuses an app password for user from ip while either
// has had too many wrong ones (Reason "ip" or "user").
func (r *Regulation) BeforeAppPassword(ctx context.Context, user, ip string) (Verdict, error) {
	for i, k := range appPasswordWaitKeys(user, ip) {
		v, err := r.kv.Get(ctx, k)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return Verdict{}, err
		}
		until, err := time.Parse(time.RFC3339, string(v))
		retry := time.Until(until)
		if err != nil || retry < time.Second {
			retry = time.Second
		}
		return Verdict{RetryAfter: retry, Reason: [2]string{"ip", "user"}[i]}, nil
	}
	return allowed(), nil
}

// AppPasswordFailed counts a wrong app password for user from ip.
func (r *Regulation) AppPasswordFailed(ctx context.Context, user, ip string, now time.Time) error {
	keys := appPasswordWaitKeys(user, ip)
	for i, c := range []struct {
		key string
		l   limit.Limit
	}{{"apppw-fail-ip:" + ip, r.limits.AppPasswordPerIP}, {"apppw-fail-user:" + user, r.limits.AppPasswordPerUser}} {
		res, err := r.limiter.Allow(ctx, c.key, c.l)
		if err != nil {
			return err
		}
		if !res.Allowed {
			wait := max(res.RetryAfter, time.Second)
			if err := r.kv.Set(ctx, keys[i], []byte(now.Add(wait).UTC().Format(time.RFC3339)), wait); err != nil {
				return err
			}
		}
	}
	return nil
}
