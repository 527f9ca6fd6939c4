package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// rateKeyPrefix is what redis_rate puts before every key of the limiter
// (a constant there): the limiter's keys are rate:<key_prefix>..., so a
// Redis ACL needs both ~<key_prefix>* and ~rate:<key_prefix>*.
const rateKeyPrefix = "rate:"

// aclCheck is one command the gateway runs, as ACL DRYRUN takes it.
type aclCheck struct {
	// rate says the key is the limiter's (else the gateway's own).
	rate bool
	// args is the command; "KEY" stands for the key checked.
	args []string
}

// aclChecks are the commands the gateway runs on its keys: the stores'
// (challenge/store/redis.go), their scripts' and redis_rate's.
var aclChecks = []aclCheck{
	{false, []string{"GET", "KEY"}},
	{false, []string{"SET", "KEY", "v", "PX", "1000", "NX"}},
	{false, []string{"DEL", "KEY"}},
	{false, []string{"GETDEL", "KEY"}},
	{false, []string{"INCR", "KEY"}},
	{false, []string{"PEXPIRE", "KEY", "1000"}},
	{false, []string{"SADD", "KEY", "m"}},
	{false, []string{"SMEMBERS", "KEY"}},
	{false, []string{"SREM", "KEY", "m"}},
	{false, []string{"WATCH", "KEY"}},
	{false, []string{"EVALSHA", "0000000000000000000000000000000000000000", "1", "KEY"}},
	{false, []string{"EVAL", "return 1", "1", "KEY"}},
	{false, []string{"MULTI"}},
	{false, []string{"EXEC"}},
	{true, []string{"EVALSHA", "0000000000000000000000000000000000000000", "1", "KEY"}},
	{true, []string{"EVAL", "return 1", "1", "KEY"}},
	{true, []string{"GET", "KEY"}},
	{true, []string{"SET", "KEY", "v", "EX", "1"}},
	{true, []string{"DEL", "KEY"}},
	{true, []string{"TIME"}},
}

// checkACL asks Redis (7 and later: ACL DRYRUN) whether the configured user
// may run every command the gateway runs on its keys, and fails with the
// key pattern or command to grant if not; otherwise every sign-in would
// fail closed with 503. Where the server has no ACL DRYRUN, or the user
// may not run it, the check is skipped (a debug line says so).
func (a *App) checkACL(ctx context.Context) error {
	user := redisUser(a.rdb)
	ctx, cancel := context.WithTimeout(ctx, store.RedisTimeout(a.rdb))
	defer cancel()
	own, rate := a.redisPrefix+"acl-check", rateKeyPrefix+a.redisPrefix+"acl-check"
	for _, c := range aclChecks {
		key := own
		if c.rate {
			key = rate
		}
		args := []any{"ACL", "DRYRUN", user}
		for _, s := range c.args {
			if s == "KEY" {
				s = key
			}
			args = append(args, s)
		}
		verdict, err := a.rdb.Do(ctx, args...).Text()
		var reply redis.Error
		switch {
		case errors.As(err, &reply):
			// An older server (no DRYRUN), a user that may not run it, or
			// one ACL DRYRUN does not know: nothing to conclude.
			a.logger.Debug("redis ACL check skipped: ACL DRYRUN is not available to this user or server", zap.String("user", user), zap.Error(err))
			return nil
		case err != nil:
			return redisFailed("ACL DRYRUN", err)
		case verdict == "OK":
			continue
		}
		grant := "+" + strings.ToLower(c.args[0])
		if strings.Contains(verdict, "key") {
			grant = "~" + strings.TrimSuffix(key, "acl-check") + "*"
		}
		return fmt.Errorf("mfa: redis user %q may not run %s on %s (Redis says: %s): grant it %s; "+
			"the gateway needs the key patterns ~%s* ~%s%s* (rate limits) and the commands +get +set +del +getdel +incr +pexpire +sadd +smembers +srem +watch +unwatch +multi +exec +eval +evalsha +time +ping +hello",
			user, c.args[0], key, verdict, grant, a.redisPrefix, rateKeyPrefix, a.redisPrefix)
	}
	return nil
}

// redisUser is the user the client signs in as ("default" without one).
func redisUser(rdb redis.UniversalClient) string {
	var u string
	switch c := rdb.(type) {
	case *redis.Client:
		u = c.Options().Username
	case *redis.ClusterClient:
		u = c.Options().Username
	}
	if u == "" {
		return "default"
	}
	return u
}
