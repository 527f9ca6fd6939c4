package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Journal keeps the embedded short-lived state (sessions, lockouts, failure
// counters, rate limits) in the accounts file, in buckets of its own, so that
// a restart or a crash of Caddy forgets none of it. The state itself is
// served from memory (MemoryKV, limit.Memory); the journal only writes.
//
// One goroutine commits. A durable write (Put or Delete with durable set)
// returns once its transaction is committed, so a sign-in whose response
// was sent survives a kill -9; writes that arrive while a commit is under
// way go together into the next one (group commit), so concurrent sign-ins
// share the cost of the disk sync. A lazy write only marks the entry and is
// committed within FlushEvery (or with the next durable write): used for
// what may lag by that much after a crash, never for what would let a
// refused thing through (see DurableKV and limit.Memory.Persist).
//
// Every entry carries its expiry; expired entries are skipped when loading
// and removed from the file by a sweep every SweepEvery, so the file stays
// bounded by the live state (bbolt reuses the freed pages).
type Journal struct {
	db  *bolt.DB
	now func() time.Time
	// onError is told of a failed lazy commit (durable writers get theirs).
	onError func(error)

	mu      sync.Mutex
	pending map[journalKey]journalOp
	waiters []chan error
	closed  bool

	kick chan struct{}
	stop chan struct{}
	done chan struct{}

	flushEvery, sweepEvery time.Duration
	// durableWait bounds how long a durable write waits for its commit.
	durableWait time.Duration
}

// Flush and sweep intervals of a Journal.
const (
	// FlushEvery bounds how long a lazy write waits for its commit.
	FlushEvery = time.Second
	// SweepEvery is how often expired entries are removed from the file.
	SweepEvery = time.Minute
	// DurableWait bounds how long a durable write waits for its commit (a
	// hung disk): past it the write fails as unavailable, so requests fail
	// closed with the 503 page instead of hanging. The commit may still
	// land later: the file is then ahead of memory, never behind it.
	DurableWait = 5 * time.Second
)

type journalKey struct{ bucket, key string }

type journalOp struct {
	del bool
	exp time.Time
	val []byte
	// durable ops failed with their batch are dropped (their callers were
	// told); lazy ones are kept for the next commit.
	durable bool
}

// errJournalClosed is a write after Close.
var errJournalClosed = fmt.Errorf("%w: state journal closed", ErrUnavailable)

// NewJournal starts a journal on the accounts file of b. onError (may be
// nil) is told of failed lazy commits. Close it before closing b.
func NewJournal(b *BoltAccounts, onError func(error)) *Journal {
	return newJournal(b.db, time.Now, onError, FlushEvery, SweepEvery)
}

func newJournal(db *bolt.DB, now func() time.Time, onError func(error), flush, sweep time.Duration) *Journal {
	if onError == nil {
		onError = func(error) {}
	}
	j := &Journal{
		db: db, now: now, onError: onError,
		pending: map[journalKey]journalOp{},
		kick:    make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		flushEvery: flush, sweepEvery: sweep, durableWait: DurableWait,
	}
	go j.run()
	return j
}

// Put writes value under key in bucket, to expire at exp. With durable it
// returns once that is committed.
func (j *Journal) Put(bucket, key string, exp time.Time, value []byte, durable bool) error {
	return j.enqueue(journalKey{bucket, key}, journalOp{exp: exp, val: value, durable: durable})
}

// Delete removes key from bucket. With durable it returns once that is
// committed.
func (j *Journal) Delete(bucket, key string, durable bool) error {
	return j.enqueue(journalKey{bucket, key}, journalOp{del: true, durable: durable})
}

// enqueue records op as the latest for k (a later op of a key supersedes
// an earlier one still pending: every op is a whole value or a deletion, so
// callers that order their ops per key get that order on disk).
func (j *Journal) enqueue(k journalKey, op journalOp) error {
	var wait chan error
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return errJournalClosed
	}
	j.pending[k] = op
	if op.durable {
		wait = make(chan error, 1)
		j.waiters = append(j.waiters, wait)
	}
	j.mu.Unlock()
	if wait == nil {
		return nil
	}
	select {
	case j.kick <- struct{}{}:
	default:
	}
	// Not bounded by a request's context: the caller changes its memory
	// only after the commit, so it must learn how the commit went; but
	// bounded, so that a hung disk fails requests closed. The channel is
	// buffered: a commit that comes later does not block on it.
	t := time.NewTimer(j.durableWait)
	defer t.Stop()
	select {
	case err := <-wait:
		return err
	case <-t.C:
		return fmt.Errorf("%w: the accounts file did not commit within %v", ErrUnavailable, j.durableWait)
	}
}

// Load calls fn with every unexpired entry of bucket.
func (j *Journal) Load(bucket string, fn func(key string, exp time.Time, value []byte) error) error {
	now := j.now()
	err := j.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			exp, val, ok := decodeJournal(v)
			if !ok || !now.Before(exp) {
				return nil
			}
			return fn(string(k), exp, bytes.Clone(val))
		})
	})
	if err != nil {
		return fmt.Errorf("loading %s from the accounts file: %w", bucket, err)
	}
	return nil
}

// Flush commits every pending write now.
func (j *Journal) Flush() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return errJournalClosed
	}
	// An empty durable op would write nothing; a marker waiter does.
	wait := make(chan error, 1)
	j.waiters = append(j.waiters, wait)
	j.mu.Unlock()
	select {
	case j.kick <- struct{}{}:
	default:
	}
	return <-wait
}

// Close commits what is pending and stops the journal; later writes fail.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		<-j.done
		return nil
	}
	j.closed = true
	j.mu.Unlock()
	close(j.stop)
	<-j.done
	return nil
}

func (j *Journal) run() {
	defer close(j.done)
	flush := time.NewTicker(j.flushEvery)
	defer flush.Stop()
	lastSweep := j.now()
	for {
		select {
		case <-j.kick:
		case <-flush.C:
		case <-j.stop:
			j.commit(false)
			return
		}
		sweep := j.now().Sub(lastSweep) >= j.sweepEvery
		if sweep {
			lastSweep = j.now()
		}
		j.commit(sweep)
	}
}

// commit writes every pending op in one transaction (and sweeps expired
// entries if asked), then tells the waiters.
func (j *Journal) commit(sweep bool) {
	j.mu.Lock()
	var ops map[journalKey]journalOp
	if len(j.pending) > 0 {
		ops, j.pending = j.pending, map[journalKey]journalOp{}
	}
	waiters := j.waiters
	j.waiters = nil
	j.mu.Unlock()
	var err error
	if len(ops) > 0 || sweep {
		err = j.db.Update(func(tx *bolt.Tx) error {
			for k, op := range ops {
				b, err := tx.CreateBucketIfNotExists([]byte(k.bucket))
				if err != nil {
					return err
				}
				if op.del {
					err = b.Delete([]byte(k.key))
				} else {
					err = b.Put([]byte(k.key), encodeJournal(op.exp, op.val))
				}
				if err != nil {
					return err
				}
			}
			swept := 0
			if sweep {
				var err error
				if swept, err = j.sweep(tx); err != nil {
					return err
				}
			}
			if len(ops) == 0 && swept == 0 {
				return errNothingToCommit
			}
			return nil
		})
		if errors.Is(err, errNothingToCommit) {
			err = nil
		}
	}
	if err != nil {
		err = fmt.Errorf("%w: writing state to the accounts file: %w", ErrUnavailable, err)
		j.mu.Lock()
		for k, op := range ops {
			if _, newer := j.pending[k]; !newer && !op.durable {
				j.pending[k] = op
			}
		}
		j.mu.Unlock()
		if len(waiters) == 0 {
			j.onError(err)
		}
	}
	for _, w := range waiters {
		w <- err
	}
}

// errNothingToCommit rolls back a sweep that found nothing, so that an idle
// gateway does not write (and sync) the file every minute.
var errNothingToCommit = errors.New("nothing to commit")

// sweep removes the expired entries of every journal bucket and returns
// how many it removed.
func (j *Journal) sweep(tx *bolt.Tx) (int, error) {
	now := j.now()
	n := 0
	for _, name := range journalBuckets {
		b := tx.Bucket([]byte(name))
		if b == nil {
			continue
		}
		var expired [][]byte
		if err := b.ForEach(func(k, v []byte) error {
			if exp, _, ok := decodeJournal(v); !ok || !now.Before(exp) {
				expired = append(expired, bytes.Clone(k))
			}
			return nil
		}); err != nil {
			return n, err
		}
		for _, k := range expired {
			if err := b.Delete(k); err != nil {
				return n, err
			}
		}
		n += len(expired)
	}
	return n, nil
}

// journalBuckets are the buckets a Journal sweeps: the KV's and the
// limiter's. Never "accounts", whose records do not expire.
var journalBuckets = []string{KVBucket, LimitsBucket}

// Buckets of the journal in the accounts file.
const (
	// KVBucket holds the entries of the DurableKV.
	KVBucket = "state"
	// LimitsBucket holds the rate limiter's state (limit.Memory.Persist).
	LimitsBucket = "limits"
)

// encodeJournal is an entry as stored: the expiry (Unix nanoseconds, big
// endian) then the value.
func encodeJournal(exp time.Time, val []byte) []byte {
	b := make([]byte, 8, 8+len(val))
	binary.BigEndian.PutUint64(b, uint64(exp.UnixNano()))
	return append(b, val...)
}

func decodeJournal(v []byte) (time.Time, []byte, bool) {
	if len(v) < 8 {
		return time.Time{}, nil, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(v))), v[8:], true
}
