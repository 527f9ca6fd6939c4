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
// entries swept at most once a minute as writes arrive. Opened with
// OpenDurableKV it also keeps its entries in the accounts file (a journal),
// and is then the embedded default: reads are served from memory alone,
// and every change is written to the file before it is made in memory.
type MemoryKV struct {
	mu        sync.RWMutex
	m         map[string]memEntry
	now       func() time.Time
	lastSweep time.Time

	// keyLocks order the changes of each key (striped by hash): a change is
	// computed from the entry in memory, written to the journal, then made
	// in memory, with no other change of that key in between. Reads take
	// none of them.
	keyLocks [64]sync.Mutex
	// journal, if set, is where the entries whose keys persist says so
	// are kept as well.
	journal *Journal
	persist func(key string) bool
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

// change is what an update does to its key.
type change int8

const (
	unchanged change = iota
	put
	drop
)

// update computes the new entry of key from the live one (ok false if
// none) with fn, under the key's lock; writes it to the journal if key
// persists (waiting for the commit unless lazy); then makes it in memory.
// A failed journal write changes nothing.
func (s *MemoryKV) update(key string, lazy bool, fn func(e memEntry, ok bool, now time.Time) (memEntry, change, error)) error {
	l := &s.keyLocks[keyStripe(key, len(s.keyLocks))]
	l.Lock()
	defer l.Unlock()
	now := s.now()
	s.mu.RLock()
	e, ok := s.live(key, now)
	s.mu.RUnlock()
	ne, c, err := fn(e, ok, now)
	if err != nil || c == unchanged {
		return err
	}
	if s.journal != nil && s.persist(key) {
		if c == drop {
			err = s.journal.Delete(KVBucket, key, !lazy)
		} else {
			err = s.journal.Put(KVBucket, key, ne.exp, encodeEntry(ne), !lazy)
		}
		if err != nil {
			return err
		}
	}
	s.mu.Lock()
	if c == drop {
		delete(s.m, key)
	} else {
		s.m[key] = ne
	}
	s.sweep(now)
	s.mu.Unlock()
	return nil
}

// keyStripe is the FNV-1a hash of key modulo n.
func keyStripe(key string, n int) int {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return int(h % uint32(n))
}

// Set implements KV. The value is copied.
func (s *MemoryKV) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	v := append([]byte(nil), value...)
	return s.update(key, false, func(_ memEntry, _ bool, now time.Time) (memEntry, change, error) {
		return memEntry{v: v, exp: now.Add(ttl)}, put, nil
	})
}

// sweep drops expired entries, at most once a minute. Callers hold mu.
// (The journal sweeps the file by itself.)
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
func (s *MemoryKV) Delete(_ context.Context, key string) error { return s.delete(key, false) }

// DeferDelete implements Deferrer.
func (s *MemoryKV) DeferDelete(_ context.Context, key string) error { return s.delete(key, true) }

func (s *MemoryKV) delete(key string, lazy bool) error {
	return s.update(key, lazy, func(_ memEntry, ok bool, _ time.Time) (memEntry, change, error) {
		if !ok {
			return memEntry{}, unchanged, nil
		}
		return memEntry{}, drop, nil
	})
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
	var n int64
	err := s.update(key, false, func(e memEntry, ok bool, now time.Time) (memEntry, change, error) {
		if ok {
			var err error
			if n, err = strconv.ParseInt(string(e.v), 10, 64); err != nil {
				return e, unchanged, fmt.Errorf("counter %q holds %q", key, e.v)
			}
		}
		n++
		return memEntry{v: strconv.AppendInt(nil, n, 10), exp: now.Add(ttl)}, put, nil
	})
	return n, err
}

// Replace implements KV.
func (s *MemoryKV) Replace(_ context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	return s.replace(key, value, ttl, false)
}

// Touch is Replace for a refresh that may reach the accounts file late (by
// at most FlushEvery, and never after a later change of the key): the
// refresh of a session's last-seen time, which every signed-in request may
// make and which must not wait for the disk. Without a journal it is Replace.
func (s *MemoryKV) Touch(_ context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	return s.replace(key, value, ttl, true)
}

func (s *MemoryKV) replace(key string, value []byte, ttl time.Duration, lazy bool) (bool, error) {
	v := append([]byte(nil), value...)
	done := false
	err := s.update(key, lazy, func(_ memEntry, ok bool, now time.Time) (memEntry, change, error) {
		if !ok {
			return memEntry{}, unchanged, nil
		}
		done = true
		return memEntry{v: v, exp: now.Add(ttl)}, put, nil
	})
	return done && err == nil, err
}

// Take implements KV.
func (s *MemoryKV) Take(_ context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.update(key, false, func(e memEntry, ok bool, _ time.Time) (memEntry, change, error) {
		if !ok || e.set != nil {
			return e, unchanged, ErrNotFound
		}
		v = e.v
		return memEntry{}, drop, nil
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// DeleteIf implements KV.
func (s *MemoryKV) DeleteIf(_ context.Context, key string, value []byte) (bool, error) {
	done := false
	err := s.update(key, false, func(e memEntry, ok bool, _ time.Time) (memEntry, change, error) {
		if !ok || e.set != nil || !bytes.Equal(e.v, value) {
			return e, unchanged, nil
		}
		done = true
		return memEntry{}, drop, nil
	})
	return done && err == nil, err
}

// Create implements KV.
func (s *MemoryKV) Create(_ context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	v := append([]byte(nil), value...)
	done := false
	err := s.update(key, false, func(_ memEntry, ok bool, now time.Time) (memEntry, change, error) {
		if ok {
			return memEntry{}, unchanged, nil
		}
		done = true
		return memEntry{v: v, exp: now.Add(ttl)}, put, nil
	})
	return done && err == nil, err
}

// SetAdd implements KV. Sets are copied on change, never changed in place,
// since readers hold no key lock.
func (s *MemoryKV) SetAdd(_ context.Context, key, member string, ttl time.Duration) error {
	return s.setAdd(key, member, ttl, false)
}

// DeferSetAdd implements Deferrer.
func (s *MemoryKV) DeferSetAdd(_ context.Context, key, member string, ttl time.Duration) error {
	return s.setAdd(key, member, ttl, true)
}

func (s *MemoryKV) setAdd(key, member string, ttl time.Duration, lazy bool) error {
	return s.update(key, lazy, func(e memEntry, ok bool, now time.Time) (memEntry, change, error) {
		set := map[string]struct{}{}
		if ok {
			for m := range e.set {
				set[m] = struct{}{}
			}
		}
		set[member] = struct{}{}
		return memEntry{set: set, exp: now.Add(ttl)}, put, nil
	})
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
	return s.setRemove(key, member, false)
}

// DeferSetRemove implements Deferrer.
func (s *MemoryKV) DeferSetRemove(_ context.Context, key, member string) error {
	return s.setRemove(key, member, true)
}

func (s *MemoryKV) setRemove(key, member string, lazy bool) error {
	return s.update(key, lazy, func(e memEntry, ok bool, _ time.Time) (memEntry, change, error) {
		if _, in := e.set[member]; !ok || !in {
			return e, unchanged, nil
		}
		if len(e.set) == 1 {
			return memEntry{}, drop, nil
		}
		set := make(map[string]struct{}, len(e.set)-1)
		for m := range e.set {
			if m != member {
				set[m] = struct{}{}
			}
		}
		return memEntry{set: set, exp: e.exp}, put, nil
	})
}

// Len is the number of entries, expired or not, for tests and metrics.
func (s *MemoryKV) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}
