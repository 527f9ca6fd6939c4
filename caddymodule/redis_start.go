package caddymodule

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// errStorageKeyWithRedis refuses Redis without storage_key: each gateway
// would generate a key of its own, and what one seals and signs (seeds,
// numbers, cookies) the others could not read.
var errStorageKeyWithRedis = errors.New("mfa: storage_key is required with redis: every gateway that shares this Redis must seal and sign with the same key; " +
	"set storage_key {env.MFA_STORAGE_KEY} (at least 32 bytes, the same on every gateway) in the global mfa block")

// errStorageKeyMismatch marks a storage key whose fingerprint is not the
// one stored in Redis.
var errStorageKeyMismatch = errors.New("storage_key differs from the one the gateways on this Redis use")

// fingerprintKey is where, under the key prefix, the gateways on one Redis
// keep the fingerprint of their storage key (never the key itself).
const fingerprintKey = "storage-key-fingerprint"

// redisRecheck is how often checks that Redis could not answer at start
// are tried again: every request is held until they pass, so service
// starts within about a second of Redis answering.
const redisRecheck = time.Second

// startRedis checks, when Caddy starts the app, that this gateway may
// share the Redis it is given: that its Redis user may run the commands
// it needs on its keys (redis_acl.go), and that it has the same storage key
// as the gateways already on it. These checks do I/O, so they run here and not in
// Provision (`caddy validate` provisions too). A check Redis refuses fails
// the start with a message that says what to fix. A Redis that cannot be
// reached does not stop Caddy: every request is held (redis_gate.go) and
// the checks run again in the background every second until they can;
// then the gateway serves if they pass, and holds every request for good
// if one fails (too late to refuse the start), each refusal's log line
// saying why.
func (a *App) startRedis(ctx context.Context) error {
	if a.rdb == nil {
		return nil
	}
	err := a.redisChecks(ctx)
	if err != nil && !unreachable(err) {
		return err
	}
	// Not for a start that fails: Caddy does not stop what it failed to start.
	a.startSessionCache(ctx)
	if err == nil {
		a.checksPassed()
		a.logger.Info("redis start-up checks passed; serving")
		return nil
	}
	a.gate.close(&redisHold{why: whyPending, err: err, retry: true})
	a.logger.Error("redis is not reachable at start: the ACL and storage_key checks run when it is; until they pass, every request fails closed", zap.Error(err))
	go a.recheckRedis(ctx)
	return nil
}

// recheckRedis runs the start-up checks every redisRecheck until Redis
// answers them (or ctx ends), then opens the gate or closes it for good.
func (a *App) recheckRedis(ctx context.Context) {
	every(ctx, redisRecheck, false, func() bool {
		err := a.redisChecks(ctx)
		switch {
		case err == nil:
			a.checksPassed()
			a.logger.Info("redis start-up checks passed; serving")
			return true
		case unreachable(err):
			a.gate.close(&redisHold{why: whyPending, err: err, retry: true})
			return false
		}
		why := whyRefusing
		switch {
		case errors.Is(err, errStorageKeyMismatch):
			why = whyKey
		case errors.Is(err, errACLRefused):
			why = whyACL
		}
		a.gate.close(&redisHold{why: why, err: err})
		a.logger.Error("redis start-up check failed after start: every request fails closed until the configuration is fixed and reloaded", zap.Error(err))
		return true
	})
}

// redisChecks runs every start-up check once.
func (a *App) redisChecks(ctx context.Context) error {
	if err := a.checkACL(ctx); err != nil {
		return err
	}
	return a.checkStorageKey(ctx)
}

// errRedisUnreachable marks a check that Redis did not answer.
var errRedisUnreachable = errors.New("redis did not answer")

// unreachable reports whether a check failed for want of an answer.
func unreachable(err error) bool { return errors.Is(err, errRedisUnreachable) }

// redisFailed wraps the error of a command of a start-up check. An answer
// that says the configuration is wrong (NOPERM, WRONGPASS, NOAUTH: the
// ACL or the credentials) is final. Anything else is marked
// errRedisUnreachable, to be tried again: no answer (the network, a
// deadline), or an answer of a Redis that is not ready yet, such as
// LOADING after a restart, READONLY or MASTERDOWN during a failover,
// CLUSTERDOWN, TRYAGAIN or BUSY; holding the gateway for good on one of
// those would turn a power cut into an outage until someone reloads.
func redisFailed(what string, err error) error {
	var reply redis.Error
	if errors.As(err, &reply) && configReply(reply.Error()) {
		return fmt.Errorf("mfa: redis: %s: %w", what, err)
	}
	return fmt.Errorf("mfa: redis: %s: %w: %w", what, errRedisUnreachable, err)
}

// configReply reports whether a Redis error reply says the configuration
// is wrong, rather than that the server is not ready.
func configReply(msg string) bool {
	for _, code := range []string{"NOPERM", "WRONGPASS", "NOAUTH"} {
		if strings.HasPrefix(msg, code) {
			return true
		}
	}
	return false
}

// checkStorageKey compares this gateway's key fingerprint with the one
// stored in Redis, storing it if there is none yet (the first gateway).
func (a *App) checkStorageKey(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, store.RedisTimeout(a.rdb))
	defer cancel()
	key := a.redisPrefix + fingerprintKey
	fp := a.engine.Keys.Fingerprint()
	created, err := a.rdb.SetNX(ctx, key, fp, 0).Result()
	if err != nil {
		return redisFailed("storing the storage key fingerprint at "+key, err)
	}
	if created {
		a.logger.Info("stored the storage key's fingerprint in redis: gateways with another storage_key will not start on it", zap.String("key", key))
		return nil
	}
	stored, err := a.rdb.Get(ctx, key).Result()
	if err != nil {
		return redisFailed("reading the storage key fingerprint at "+key, err)
	}
	if subtle.ConstantTimeCompare([]byte(stored), []byte(fp)) != 1 {
		return fmt.Errorf("mfa: %w (the key fingerprint at %s was stored by a gateway with another key): "+
			"give every gateway on this Redis and key_prefix the same storage_key; what the other key sealed (authenticator seeds, phone numbers) cannot be read with this one. "+
			"Only if every account was registered under this key, delete %s to let it take over", errStorageKeyMismatch, key, key)
	}
	return nil
}

// checkID names what the start-up checks proved of this config: its key
// prefix, storage key and Redis user, on the pooled client's connection.
func (a *App) checkID() string {
	user := ""
	if a.Redis != nil {
		user = a.Redis.Username
	}
	return a.redisPrefix + "\x00" + a.engine.Keys.Fingerprint() + "\x00" + user
}

// checksPassed opens the gate and records that the checks passed for this
// config on its client.
func (a *App) checksPassed() {
	a.redisPassed.Store(a.checkID(), true)
	a.gate.open()
}

// reopenPassedGate opens, at Provision, the gate of a config whose checks
// passed in this process before (a config reload that keeps the Redis
// settings, prefix, storage key and user): it serves from the start, as
// the config it replaces did, instead of answering 503 until Start runs
// them again (they still run, and close the gate if they fail now).
func (a *App) reopenPassedGate() {
	if a.redisPassed == nil {
		return
	}
	if _, ok := a.redisPassed.Load(a.checkID()); ok {
		a.gate.open()
	}
}
