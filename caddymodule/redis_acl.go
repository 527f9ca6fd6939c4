package caddymodule

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

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
// (challenge/store/redis.go, kv_list.go, account_list.go), their scripts'
// and redis_rate's, and the client's own (PING at start, HELLO on each
// connection). Scripts count: Redis checks each command a script calls.
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
	{false, []string{"UNWATCH"}},
	{false, []string{"EVALSHA", "0000000000000000000000000000000000000000", "1", "KEY"}},
	{false, []string{"EVAL", "return 1", "1", "KEY"}},
	{false, []string{"MULTI"}},
	{false, []string{"EXEC"}},
	{false, []string{"PING"}},
	{false, []string{"HELLO", "3"}},
	{true, []string{"EVALSHA", "0000000000000000000000000000000000000000", "1", "KEY"}},
	{true, []string{"EVAL", "return 1", "1", "KEY"}},
	{true, []string{"GET", "KEY"}},
	{true, []string{"SET", "KEY", "v", "EX", "1"}},
	{true, []string{"DEL", "KEY"}},
	{true, []string{"TIME"}},
}

// aclClusterChecks are what a Cluster client runs besides: the slot map
// (CLUSTER SLOTS) and the command table it routes keys by (COMMAND).
var aclClusterChecks = []aclCheck{
	{false, []string{"CLUSTER", "SLOTS"}},
	{false, []string{"COMMAND"}},
}

// aclCommands is the least command ACL the gateway needs (README, "Many
// gateways").
const aclCommands = "-@all +get +set +del +getdel +incr +pexpire +sadd +smembers +srem +watch +unwatch +multi +exec +eval +evalsha +time +ping +hello +acl|dryrun" +
	" (and in Cluster mode +cluster|slots +command; with a database other than 0, +select)"

// errACLRefused marks an ACL that refuses the gateway a command or key.
var errACLRefused = errors.New("redis ACL refuses the gateway")

// checkACL asks Redis (7 and later: ACL DRYRUN) whether the configured user
// may run every command the gateway runs on its keys, and fails with the
// key pattern or command to grant if not; otherwise every sign-in would
// fail closed with 503. In Cluster mode it asks every master: each node
// keeps its own ACL (ACL SETUSER is not propagated), and a key can live on
// any of them. Where the server has no ACL DRYRUN, or the user may not run
// it, the check is skipped with a warning that says what to grant.
func (a *App) checkACL(ctx context.Context) error {
	user := redisUser(a.rdb)
	ctx, cancel := context.WithTimeout(ctx, store.RedisTimeout(a.rdb))
	defer cancel()
	if cc, ok := a.rdb.(*redis.ClusterClient); ok {
		checks := append(append([]aclCheck(nil), aclChecks...), aclClusterChecks...)
		var mu sync.Mutex
		var first error // a check's own verdict, rather than the cluster's
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			err := a.checkACLOn(ctx, c, c.Options().Addr, user, checks)
			if err != nil {
				mu.Lock()
				first = cmp.Or(first, err)
				mu.Unlock()
			}
			return err
		})
		switch {
		case first != nil:
			return first
		case err != nil:
			return redisFailed("listing the cluster's masters for ACL DRYRUN", err)
		}
		return nil
	}
	return a.checkACLOn(ctx, a.rdb, "", user, aclChecks)
}

// doer runs a command as given.
type doer interface {
	Do(ctx context.Context, args ...any) *redis.Cmd
}

// checkACLOn runs checks on one server (node names it in Cluster mode).
func (a *App) checkACLOn(ctx context.Context, c doer, node, user string, checks []aclCheck) error {
	own, rate := a.redisPrefix+"acl-check", rateKeyPrefix+a.redisPrefix+"acl-check"
	on := ""
	if node != "" {
		on = " (on the cluster node " + node + ")"
	}
	for _, ch := range checks {
		key := own
		if ch.rate {
			key = rate
		}
		args := []any{"ACL", "DRYRUN", user}
		for _, s := range ch.args {
			s = strings.Replace(s, "KEY", key, 1)
			args = append(args, s)
		}
		verdict, err := c.Do(ctx, args...).Text()
		var reply redis.Error
		switch {
		case errors.As(err, &reply):
			a.logger.Warn("redis ACL check skipped"+on+": "+aclSkipReason(user, err.Error())+
				"; if the ACL refuses the gateway a command or key it needs, sign-in fails with 503",
				zap.String("user", user), zap.Error(err))
			return nil
		case err != nil:
			return redisFailed("ACL DRYRUN", err)
		case verdict == "OK":
			continue
		}
		grant := "+" + strings.ToLower(ch.args[0])
		if q := quoted(verdict); q != "" && !strings.Contains(verdict, "key") {
			grant = "+" + q // such as cluster|slots
		}
		if strings.Contains(verdict, "key") {
			grant = "~" + strings.TrimSuffix(key, "acl-check") + "*"
		}
		what := ch.args[0]
		if ch.args[0] == "CLUSTER" {
			what += " " + ch.args[1]
		}
		return fmt.Errorf("mfa: %w: redis user %q may not run %s on %s%s (Redis says: %s): grant it %s; "+
			"the gateway needs the key patterns ~%s* ~%s%s* (rate limits) and the commands %s",
			errACLRefused, user, what, key, on, verdict, grant, a.redisPrefix, rateKeyPrefix, a.redisPrefix, aclCommands)
	}
	return nil
}

// aclSkipReason says why ACL DRYRUN answered reply, an error, and what to
// grant to have the check.
func aclSkipReason(user, reply string) string {
	switch {
	case strings.HasPrefix(reply, "NOPERM"):
		return fmt.Sprintf("the redis user %q may not run ACL DRYRUN; grant it +acl|dryrun to have this check at start", user)
	case strings.Contains(strings.ToLower(reply), "unknown subcommand"), strings.Contains(strings.ToLower(reply), "unknown command"):
		return "this Redis server has no ACL DRYRUN (Redis 7 and later have it); on Redis 7 with +acl|dryrun granted, the check runs at start"
	default:
		return fmt.Sprintf("ACL DRYRUN answered with an error; grant the redis user %q +acl|dryrun on Redis 7 or later to have this check at start", user)
	}
}

// quoted is the first 'quoted' word of s ("" if none).
func quoted(s string) string {
	_, rest, ok := strings.Cut(s, "'")
	if !ok {
		return ""
	}
	q, _, ok := strings.Cut(rest, "'")
	if !ok {
		return ""
	}
	return q
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
