package limit

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// Persist loads the limiter's state from j (the accounts file) and keeps it
// there from now on, so that a restart of Caddy does not hand every client
// a fresh allowance. Call it before first use.
//
// The writes are lazy: committed within store.FlushEvery, not before Allow
// returns, since every sign-in attempt changes several keys and must not
// wait for the disk each time. A crash (kill -9, not a clean stop, which
// writes everything) can therefore forget at most the last second of
// counted events; the lockouts those events caused are kept by the KV,
// durably, and are not lost.
func (m *Memory) Persist(j *store.Journal) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	err := j.Load(store.LimitsBucket, func(key string, exp time.Time, _ []byte) error {
		m.tat[key] = exp
		return nil
	})
	if err != nil {
		return fmt.Errorf("loading rate limits: %w", err)
	}
	m.journal = j
	return nil
}

// record keeps the new theoretical arrival time of key (zero: reset) in
// the journal. Callers hold mu, so records of a key reach the journal in
// the order they were made. The entry expires at tat: past it, the key
// allows as much as a key never seen.
func (m *Memory) record(key string, tat time.Time) {
	if m.journal == nil {
		return
	}
	if tat.IsZero() {
		_ = m.journal.Delete(store.LimitsBucket, key, false)
		return
	}
	// The value is unused (the expiry is the state); one byte of version
	// leaves room to change that.
	_ = m.journal.Put(store.LimitsBucket, key, tat, binary.AppendUvarint(nil, 1), false)
}
