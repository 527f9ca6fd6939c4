package caddymodule

import (
	"fmt"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// pool shares stores across config reloads: Caddy provisions the new
// config before it cleans up the old one, so both must use the same open
// bbolt file (which allows one opener) and the same in-memory sessions (or
// a reload would sign everyone out). This is Caddy's own pattern for such
// state (caddy.UsagePool); entries close when the last config lets go.
var pool = caddy.NewUsagePool()

type pooledBolt struct{ *store.BoltAccounts }

// Destruct closes the bbolt file when no config uses it any more.
func (p pooledBolt) Destruct() error { return p.Close() }

type pooledMemory struct {
	kv      *store.MemoryKV
	limiter *limit.Memory
}

// Destruct lets the state go with the last config that used it.
func (pooledMemory) Destruct() error { return nil }

func (a *App) poolBolt(path string) (*store.BoltAccounts, error) {
	key := "bolt:" + path
	v, _, err := pool.LoadOrNew(key, func() (caddy.Destructor, error) {
		b, err := store.OpenBolt(path)
		if err != nil {
			return nil, err
		}
		return pooledBolt{b}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("mfa: %w", err)
	}
	a.pooled = append(a.pooled, key)
	return v.(pooledBolt).BoltAccounts, nil
}

// poolMemory returns the embedded short-lived state and rate limiter,
// kept across reloads so that neither sessions nor lockouts reset.
func (a *App) poolMemory() (*store.MemoryKV, *limit.Memory) {
	const key = "memory-state"
	v, _, _ := pool.LoadOrNew(key, func() (caddy.Destructor, error) {
		return pooledMemory{store.NewMemoryKV(), limit.NewMemory()}, nil
	})
	a.pooled = append(a.pooled, key)
	m := v.(pooledMemory)
	return m.kv, m.limiter
}
