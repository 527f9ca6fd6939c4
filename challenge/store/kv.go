package store

import (
	"context"
	"sync"
	"time"
)

// KV is a key-value store whose entries expire: sessions and short-lived
// challenge state. Implementations must be safe for concurrent use.
type KV interface {
	// Get returns the value of key, or ErrNotFound if it is missing or expired.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key for ttl.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// MemoryKV is the embedded KV: a map guarded by a mutex, with expired
// entries swept at most once a minute as writes arrive.
type MemoryKV struct {
	mu        sync.RWMutex
	m         map[string]memEntry
	now       func() time.Time
	lastSweep time.Time
}

type memEntry struct {
	v   []byte
	exp time.Time
}

// NewMemoryKV returns an empty in-memory KV.
func NewMemoryKV() *MemoryKV {
	return &MemoryKV{m: map[string]memEntry{}, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (s *MemoryKV) SetClock(now func() time.Time) { s.now = now }

// Get implements KV.
func (s *MemoryKV) Get(_ context.Context, key string) ([]byte, error) {
	s.mu.RLock()
	e, ok := s.m[key]
	s.mu.RUnlock()
	if !ok || !s.now().Before(e.exp) {
		return nil, ErrNotFound
	}
	return e.v, nil
}

// Set implements KV. The value is copied.
func (s *MemoryKV) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	now := s.now()
	v := append([]byte(nil), value...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = memEntry{v: v, exp: now.Add(ttl)}
	if now.Sub(s.lastSweep) > time.Minute {
		s.lastSweep = now
		for k, e := range s.m {
			if !now.Before(e.exp) {
				delete(s.m, k)
			}
		}
	}
	return nil
}

// Delete implements KV.
func (s *MemoryKV) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	delete(s.m, key)
	s.mu.Unlock()
	return nil
}

// Len is the number of entries, expired or not, for tests and metrics.
func (s *MemoryKV) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}
