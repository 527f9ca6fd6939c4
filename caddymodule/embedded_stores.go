package caddymodule

import (
	"context"
	"fmt"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// The stores over the embedded state (pooledEmbedded), handed to the
// engine at Provision and working once the app's Start has opened the
// accounts file. Each call costs one atomic load more than the state's own
// method. Caddy may start the HTTP server before this app: a request that
// comes in between waits for the file to be opened (up to embeddedWait, or
// until it is cancelled), then fails closed with store.ErrUnavailable.

// embeddedWait is how long a call made before the accounts file is open
// waits for it: opening takes milliseconds, or up to bbolt's 5 s wait for
// a lock another process holds (then the start fails).
const embeddedWait = 6 * time.Second

// get returns the open state, waiting for Start if need be.
func (p *pooledEmbedded) get(ctx context.Context) (*openEmbedded, error) {
	if s := p.state.Load(); s != nil {
		return s, nil
	}
	t := time.NewTimer(embeddedWait)
	defer t.Stop()
	select {
	case <-p.ready:
		return p.state.Load(), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: the accounts file %s is not open yet: %w", store.ErrUnavailable, p.path, ctx.Err())
	case <-t.C:
		return nil, fmt.Errorf("%w: the accounts file %s is not open (the mfa app has not started)", store.ErrUnavailable, p.path)
	}
}

// embeddedAccounts is store.Accounts over the accounts file.
type embeddedAccounts struct{ p *pooledEmbedded }

// Get implements store.Accounts.
func (e embeddedAccounts) Get(ctx context.Context, user string) (*store.Account, error) {
	s, err := e.p.get(ctx)
	if err != nil {
		return nil, err
	}
	return s.accounts.Get(ctx, user)
}

// Update implements store.Accounts.
func (e embeddedAccounts) Update(ctx context.Context, user string, fn func(*store.Account) error) error {
	s, err := e.p.get(ctx)
	if err != nil {
		return err
	}
	return s.accounts.Update(ctx, user, fn)
}

// Delete implements store.Accounts.
func (e embeddedAccounts) Delete(ctx context.Context, user string) error {
	s, err := e.p.get(ctx)
	if err != nil {
		return err
	}
	return s.accounts.Delete(ctx, user)
}

// embeddedKV is store.KV (and store.Toucher, store.Deferrer) over the
// in-memory state kept in the accounts file.
type embeddedKV struct{ p *pooledEmbedded }

// Get implements store.KV.
func (e embeddedKV) Get(ctx context.Context, key string) ([]byte, error) {
	s, err := e.p.get(ctx)
	if err != nil {
		return nil, err
	}
	return s.kv.Get(ctx, key)
}

// Set implements store.KV.
func (e embeddedKV) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	s, err := e.p.get(ctx)
	if err != nil {
		return err
	}
	return s.kv.Set(ctx, key, value, ttl)
}

// Delete implements store.KV.
func (e embeddedKV) Delete(ctx context.Context, key string) error {
	s, err := e.p.get(ctx)
	if err != nil {
		return err
	}
	return s.kv.Delete(ctx, key)
}

// Incr implements store.KV.
func (e embeddedKV) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	s, err := e.p.get(ctx)
	if err != nil {
		return 0, err
	}
	return s.kv.Incr(ctx, key, ttl)
}

// Replace implements store.KV.
func (e embeddedKV) Replace(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	s, err := e.p.get(ctx)
	if err != nil {
		return false, err
	}
	return s.kv.Replace(ctx, key, value, ttl)
}

// Touch implements store.Toucher.
func (e embeddedKV) Touch(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	s, err := e.p.get(ctx)
	if err != nil {
		return false, err
	}
	return s.kv.Touch(ctx, key, value, ttl)
}

// Take implements store.KV.
func (e embeddedKV) Take(ctx context.Context, key string) ([]byte, error) {
	s, err := e.p.get(ctx)
	if err != nil {
		return nil, err
	}
	return s.kv.Take(ctx, key)
}

// DeleteIf implements store.KV.
func (e embeddedKV) DeleteIf(ctx context.Context, key string, value []byte) (bool, error) {
	s, err := e.p.get(ctx)
	if err != nil {
		return false, err
	}
	return s.kv.DeleteIf(ctx, key, value)
}

// Create implements store.KV.
func (e embeddedKV) Create(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	s, err := e.p.get(ctx)
	if err != nil {
		return false, err
	}
	return s.kv.Create(ctx, key, value, ttl)
}

// SetAdd implements store.KV.
func (e embeddedKV) SetAdd(ctx context.Context, key, member string, ttl time.Duration) error {
	s, err := e.p.get(ctx)
	if err != nil {
		return err
	}
	return s.kv.SetAdd(ctx, key, member, ttl)
}

// SetMembers implements store.KV.
func (e embeddedKV) SetMembers(ctx context.Context, key string) ([]string, error) {
	s, err := e.p.get(ctx)
	if err != nil {
		return nil, err
	}
	return s.kv.SetMembers(ctx, key)
}

// SetRemove implements store.KV.
func (e embeddedKV) SetRemove(ctx context.Context, key, member string) error {
	s, err := e.p.get(ctx)
	if err != nil {
		return err
	}
	return s.kv.SetRemove(ctx, key, member)
}

// DeferDelete implements store.Deferrer.
func (e embeddedKV) DeferDelete(ctx context.Context, key string) error {
	s, err := e.p.get(ctx)
	if err != nil {
		return err
	}
	return s.kv.DeferDelete(ctx, key)
}

// DeferSetAdd implements store.Deferrer.
func (e embeddedKV) DeferSetAdd(ctx context.Context, key, member string, ttl time.Duration) error {
	s, err := e.p.get(ctx)
	if err != nil {
		return err
	}
	return s.kv.DeferSetAdd(ctx, key, member, ttl)
}

// DeferSetRemove implements store.Deferrer.
func (e embeddedKV) DeferSetRemove(ctx context.Context, key, member string) error {
	s, err := e.p.get(ctx)
	if err != nil {
		return err
	}
	return s.kv.DeferSetRemove(ctx, key, member)
}

// embeddedLimiter is limit.Limiter over the in-memory limits kept in the
// accounts file.
type embeddedLimiter struct{ p *pooledEmbedded }

// Allow implements limit.Limiter.
func (e embeddedLimiter) Allow(ctx context.Context, key string, l limit.Limit) (limit.Result, error) {
	s, err := e.p.get(ctx)
	if err != nil {
		return limit.Result{}, err
	}
	return s.limiter.Allow(ctx, key, l)
}

// Reset implements limit.Limiter.
func (e embeddedLimiter) Reset(ctx context.Context, key string) error {
	s, err := e.p.get(ctx)
	if err != nil {
		return err
	}
	return s.limiter.Reset(ctx, key)
}

// Refund implements limit.Limiter.
func (e embeddedLimiter) Refund(ctx context.Context, key string, l limit.Limit) error {
	s, err := e.p.get(ctx)
	if err != nil {
		return err
	}
	return s.limiter.Refund(ctx, key, l)
}

// Interface guards.
var (
	_ store.Accounts = embeddedAccounts{}
	_ store.KV       = embeddedKV{}
	_ store.Toucher  = embeddedKV{}
	_ store.Deferrer = embeddedKV{}
	_ limit.Limiter  = embeddedLimiter{}
)
