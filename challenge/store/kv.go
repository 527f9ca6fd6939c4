package store

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
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
	// Incr adds one to the counter at key and returns the new value. A new
	// counter starts at 1; every increment sets its expiry to ttl from now,
	// so a counter lives as long as increments keep coming.
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
	// Replace stores value under key for ttl only if key exists now, and
	// reports whether it did: a refresh that must not bring back a key
	// deleted meanwhile (a session signed out during a request).
	Replace(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	// Take returns the value of key and deletes it in one step, so that of
	// two callers racing for a single-use value only one gets it; ErrNotFound
	// if it is missing or expired.
	Take(ctx context.Context, key string) ([]byte, error)
	// DeleteIf deletes key only if it holds value now, and reports whether
	// it did: using up a single-use value without taking a newer one that
	// replaced it meanwhile.
	DeleteIf(ctx context.Context, key string, value []byte) (bool, error)
	// Create stores value under key for ttl only if key does not exist now,
	// and reports whether it did: a once-only guard.
	Create(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	// SetAdd adds member to the set at key and (re)sets the set's expiry to ttl.
	SetAdd(ctx context.Context, key, member string, ttl time.Duration) error
	// SetMembers returns the members of the set at key (none if missing).
	SetMembers(ctx context.Context, key string) ([]string, error)
	// SetRemove removes member from the set at key.
	SetRemove(ctx context.Context, key, member string) error
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
	set map[string]struct{}
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
	s.sweep(now)
	return nil
}

// sweep drops expired entries, at most once a minute. Callers hold mu.
func (s *MemoryKV) sweep(now time.Time) {
	if now.Sub(s.lastSweep) > time.Minute {
		s.lastSweep = now
		for k, e := range s.m {
			if !now.Before(e.exp) {
				delete(s.m, k)
			}
		}
	}
}

// Delete implements KV.
func (s *MemoryKV) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	delete(s.m, key)
	s.mu.Unlock()
	return nil
}

// live returns the entry at key if it has not expired. Callers hold mu.
func (s *MemoryKV) live(key string, now time.Time) (memEntry, bool) {
	e, ok := s.m[key]
	if !ok || !now.Before(e.exp) {
		return memEntry{}, false
	}
	return e, true
}

// Incr implements KV.
func (s *MemoryKV) Incr(_ context.Context, key string, ttl time.Duration) (int64, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.live(key, now)
	var n int64
	if ok {
		var err error
		if n, err = strconv.ParseInt(string(e.v), 10, 64); err != nil {
			return 0, fmt.Errorf("counter %q holds %q", key, e.v)
		}
	} else {
		e = memEntry{}
	}
	n++
	e.v = strconv.AppendInt(nil, n, 10)
	e.exp = now.Add(ttl)
	s.m[key] = e
	s.sweep(now)
	return n, nil
}

// Replace implements KV.
func (s *MemoryKV) Replace(_ context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	now := s.now()
	v := append([]byte(nil), value...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.live(key, now); !ok {
		return false, nil
	}
	s.m[key] = memEntry{v: v, exp: now.Add(ttl)}
	return true, nil
}

// Take implements KV.
func (s *MemoryKV) Take(_ context.Context, key string) ([]byte, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.live(key, now)
	if !ok || e.set != nil {
		return nil, ErrNotFound
	}
	delete(s.m, key)
	return e.v, nil
}

// DeleteIf implements KV.
func (s *MemoryKV) DeleteIf(_ context.Context, key string, value []byte) (bool, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.live(key, now)
	if !ok || e.set != nil || !bytes.Equal(e.v, value) {
		return false, nil
	}
	delete(s.m, key)
	return true, nil
}

// Create implements KV.
func (s *MemoryKV) Create(_ context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	now := s.now()
	v := append([]byte(nil), value...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.live(key, now); ok {
		return false, nil
	}
	s.m[key] = memEntry{v: v, exp: now.Add(ttl)}
	s.sweep(now)
	return true, nil
}

// SetAdd implements KV.
func (s *MemoryKV) SetAdd(_ context.Context, key, member string, ttl time.Duration) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.live(key, now)
	if !ok || e.set == nil {
		e = memEntry{set: map[string]struct{}{}}
	}
	e.set[member] = struct{}{}
	e.exp = now.Add(ttl)
	s.m[key] = e
	s.sweep(now)
	return nil
}

// SetMembers implements KV.
func (s *MemoryKV) SetMembers(_ context.Context, key string) ([]string, error) {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.live(key, now)
	if !ok {
		return nil, nil
	}
	out := make([]string, 0, len(e.set))
	for m := range e.set {
		out = append(out, m)
	}
	return out, nil
}

// SetRemove implements KV.
func (s *MemoryKV) SetRemove(_ context.Context, key, member string) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.live(key, now); ok && e.set != nil {
		delete(e.set, member)
		if len(e.set) == 0 {
			delete(s.m, key)
		}
	}
	return nil
}

// Len is the number of entries, expired or not, for tests and metrics.
func (s *MemoryKV) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}
