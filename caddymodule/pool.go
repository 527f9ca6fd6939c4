package caddymodule

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

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

// openEmbedded is the embedded state of one accounts file once open: the
// accounts, and the sessions, lockouts and rate limits served from memory
// and kept in the same file through a journal, so that a restart loses
// none of them.
type openEmbedded struct {
	accounts *store.BoltAccounts
	journal  *store.Journal
	kv       *store.MemoryKV
	limiter  *limit.Memory
}

// pooledEmbedded is the pool's entry of one accounts file. Provision only
// creates it: nothing is opened or written then, for `caddy validate`
// provisions too (and must not wait for, nor lock, nor create the file
// a running gateway holds). The app's Start opens it (open); the stores
// handed out at Provision (embedded_stores.go) reach it from then on. A
// reload shares the entry, already open, with the config it replaces.
type pooledEmbedded struct {
	path   string
	logger *zap.Logger
	// mu serialises open; state is the open state (nil before), read
	// with one atomic load by every call of the stores; ready is closed
	// once state is set.
	mu    sync.Mutex
	state atomic.Pointer[openEmbedded]
	ready chan struct{}
}

// open opens the accounts file and loads the state kept in it, once; a
// failed open may be tried again (by the next config's Start).
func (p *pooledEmbedded) open() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state.Load() != nil {
		return nil
	}
	b, err := store.OpenBolt(p.path)
	if err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	logger, path := p.logger, p.path
	j := store.NewJournal(b, func(err error) {
		logger.Error("sessions and lockouts could not be written to the accounts file; retrying", zap.String("path", path), zap.Error(err))
	})
	kv, err := store.OpenDurableKV(j, challenge.PersistKey)
	if err == nil {
		lim := limit.NewMemory()
		if err = lim.Persist(j); err == nil {
			p.state.Store(&openEmbedded{b, j, kv, lim})
			close(p.ready)
			return nil
		}
	}
	_ = j.Close()
	_ = b.Close()
	return fmt.Errorf("mfa: loading sessions and lockouts from %s: %w", path, err)
}

// Destruct writes what the journal holds and closes the file, when no
// config uses it any more (a reload keeps it; a stop of Caddy ends here).
// An entry never opened (`caddy validate`) has nothing to close.
func (p *pooledEmbedded) Destruct() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.state.Load()
	if s == nil {
		return nil
	}
	return errors.Join(s.journal.Close(), s.accounts.Close())
}

// poolEmbedded shares the entry of the accounts file at path (creating it,
// unopened, if no config has it) and returns the stores over it, which
// work once the app's Start has opened it (startEmbedded).
func (a *App) poolEmbedded(path string) (store.Accounts, store.KV, limit.Limiter, error) {
	key := "embedded:" + path
	logger := a.logger
	v, _, err := pool.LoadOrNew(key, func() (caddy.Destructor, error) {
		return &pooledEmbedded{path: path, logger: logger, ready: make(chan struct{})}, nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("mfa: %w", err)
	}
	a.pooled = append(a.pooled, key)
	p := v.(*pooledEmbedded)
	a.embedded = p
	return embeddedAccounts{p}, embeddedKV{p}, embeddedLimiter{p}, nil
}

// startEmbedded opens the embedded stores, at Start (a no-op after a
// reload, whose entry is open already).
func (a *App) startEmbedded() error {
	if a.embedded == nil {
		return nil
	}
	return a.embedded.open()
}
