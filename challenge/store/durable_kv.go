package store

import (
	"context"
	"encoding/binary"
	"errors"
	"time"
)

// Toucher is a KV with a cheaper Replace for refreshes that may reach
// durable storage late: the session store refreshes last-seen times with it
// when the KV has it (MemoryKV does; Redis needs none).
type Toucher interface {
	// Touch is Replace, except that a crash may lose it if it came less
	// than FlushEvery before (never a change made after it).
	Touch(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
}

// Interface guard.
var _ Toucher = (*MemoryKV)(nil)

// OpenDurableKV returns a MemoryKV that keeps, beside memory, every entry
// whose key persist accepts in j (the accounts file), loaded back from it
// now: the embedded KV, whose sessions, lockouts and counters survive a
// restart or a crash of Caddy. Every change of such a key is committed to
// the file before it takes effect (and before the caller answers), except
// Touch, which may lag by FlushEvery. Keys persist refuses live in memory
// only; entries of them found in the file (under an older policy) are left
// to expire there, as are entries that do not decode (treated as absent,
// which for a session means signed out).
func OpenDurableKV(j *Journal, persist func(key string) bool) (*MemoryKV, error) {
	s := NewMemoryKV()
	s.journal, s.persist = j, persist
	err := j.Load(KVBucket, func(key string, exp time.Time, v []byte) error {
		if !persist(key) {
			return nil
		}
		e, err := decodeEntry(v)
		if err != nil {
			return nil
		}
		e.exp = exp
		s.m[key] = e
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Entry kinds as stored.
const (
	entryValue byte = 'v'
	entrySet   byte = 's'
)

var errEntry = errors.New("malformed state entry")

// encodeEntry is an entry as the journal keeps it (its expiry is kept by
// the journal): a kind byte, then the value, or the set's members each
// length-prefixed.
func encodeEntry(e memEntry) []byte {
	if e.set == nil {
		return append([]byte{entryValue}, e.v...)
	}
	n := 1
	for m := range e.set {
		n += binary.MaxVarintLen32 + len(m)
	}
	b := make([]byte, 1, n)
	b[0] = entrySet
	for m := range e.set {
		b = binary.AppendUvarint(b, uint64(len(m)))
		b = append(b, m...)
	}
	return b
}

func decodeEntry(b []byte) (memEntry, error) {
	if len(b) == 0 {
		return memEntry{}, errEntry
	}
	switch b[0] {
	case entryValue:
		return memEntry{v: b[1:]}, nil
	case entrySet:
		set := map[string]struct{}{}
		r := b[1:]
		for len(r) > 0 {
			l, n := binary.Uvarint(r)
			if n <= 0 || uint64(len(r)-n) < l {
				return memEntry{}, errEntry
			}
			set[string(r[n:n+int(l)])] = struct{}{}
			r = r[n+int(l):]
		}
		return memEntry{set: set}, nil
	}
	return memEntry{}, errEntry
}
