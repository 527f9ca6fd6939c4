package caddymodule

import (
	"errors"
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// pool shares stores across config reloads: Caddy provisions the new
// config before it cleans up the old one, so both must use the same open
// bbolt file (which allows one opener) and the same in-memory sessions (or
// a reload would sign everyone out). This is Caddy's own pattern for such
// state (caddy.UsagePool); entries close when the last config lets go.
var pool = caddy.NewUsagePool()

// pooledEmbedded is the embedded state of one accounts file: the accounts,
// and the sessions, lockouts and rate limits served from memory and kept in
// the same file through a journal, so that a restart loses none of them.
type pooledEmbedded struct {
	accounts *store.BoltAccounts
	journal  *store.Journal
	kv       *store.MemoryKV
	limiter  *limit.Memory
}

// Destruct writes what the journal holds and closes the file, when no
// config uses it any more (a reload keeps it; a stop of Caddy ends here).
func (p pooledEmbedded) Destruct() error {
	return errors.Join(p.journal.Close(), p.accounts.Close())
}

// poolEmbedded opens (or shares) the accounts file at path and the state
// kept in it.
func (a *App) poolEmbedded(path string) (*store.BoltAccounts, *store.MemoryKV, *limit.Memory, error) {
	key := "embedded:" + path
	logger := a.logger
	v, _, err := pool.LoadOrNew(key, func() (caddy.Destructor, error) {
		b, err := store.OpenBolt(path)
		if err != nil {
			return nil, err
		}
		j := store.NewJournal(b, func(err error) {
			logger.Error("sessions and lockouts could not be written to the accounts file; retrying", zap.String("path", path), zap.Error(err))
		})
		kv, err := store.OpenDurableKV(j, challenge.PersistKey)
		if err == nil {
			lim := limit.NewMemory()
			if err = lim.Persist(j); err == nil {
				return pooledEmbedded{b, j, kv, lim}, nil
			}
		}
		_ = j.Close()
		_ = b.Close()
		return nil, fmt.Errorf("loading sessions and lockouts from %s: %w", path, err)
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("mfa: %w", err)
	}
	a.pooled = append(a.pooled, key)
	e := v.(pooledEmbedded)
	return e.accounts, e.kv, e.limiter, nil
}
