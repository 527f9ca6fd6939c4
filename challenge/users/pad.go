package users

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Every answer of a check (an unknown name, a disabled user, a wrong or a
// right password) comes no sooner than a check of the slowest kind of hash
// in the file would, so that timing does not tell apart users whose kind
// is in the minority (one user rehashed to argon2id among sha512crypt
// ones) from unknown names. Right answers are padded too: answered at
// once, they would let a client drop every request still unanswered by
// then (a wrong guess) before its failure is counted. Each kind's check
// time is measured once when the file is read and then followed from real
// checks. The wait holds no gate slot.
const (
	// maxMeasuredKinds bounds the kinds measured when the file is read; the
	// rest are learnt from the checks sign-ins make.
	maxMeasuredKinds = 8
	// maxPad bounds the padding of one answer.
	maxPad = 5 * time.Second
)

// kindSet is the kinds of hash a reading of the file holds (users left
// out excepted), one Hash of each, sorted by kind.
type kindSet struct {
	names  []string
	hashes []Hash
}

// kindsOf lists the kinds of the hashes of m, and of extra (the timing
// hash).
func kindsOf(m map[string]*User, extra Hash) *kindSet {
	by := map[string]Hash{extra.Kind(): extra}
	for _, u := range m {
		by[u.hash.Kind()] = u.hash
	}
	ks := &kindSet{}
	for k := range by {
		ks.names = append(ks.names, k)
	}
	sort.Strings(ks.names)
	for _, k := range ks.names {
		ks.hashes = append(ks.hashes, by[k])
	}
	return ks
}

// padder remembers how long a check of each kind takes.
type padder struct {
	mu  sync.Mutex
	est map[string]time.Duration
	// kinds is the kinds of the file in force.
	kinds atomic.Pointer[kindSet]
}

func newPadder() *padder { return &padder{est: map[string]time.Duration{}} }

// set records d as the time of a check of kind (tests, and the first
// measurement).
func (p *padder) set(kind string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.est[kind] = d
}

// observe folds a check of kind that took d into its estimate (an
// exponentially weighted mean, one eighth per check).
func (p *padder) observe(kind string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.est[kind]; ok {
		p.est[kind] = e + (d-e)/8
	} else {
		p.est[kind] = d
	}
}

// known reports whether kind has an estimate.
func (p *padder) known(kind string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.est[kind]
	return ok
}

// target is the longest estimate of the kinds in force, at most maxPad.
func (p *padder) target() time.Duration {
	ks := p.kinds.Load()
	if ks == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var t time.Duration
	for _, k := range ks.names {
		t = max(t, p.est[k])
	}
	return min(t, maxPad)
}

// measureKinds puts ks in force and times one check of each kind not yet
// measured (at most maxMeasuredKinds), through the gate: a busy gate
// leaves a kind to be learnt from sign-ins.
func (db *DB) measureKinds(ks *kindSet) {
	db.pad.kinds.Store(ks)
	n := 0
	for i, k := range ks.names {
		if n == maxMeasuredKinds || db.pad.known(k) {
			continue
		}
		n++
		h := ks.hashes[i]
		_ = db.gate.Do(context.Background(), func() {
			start := time.Now()
			h.Matches("\x00 not a password")
			db.pad.set(k, time.Since(start))
		})
	}
}

// padAnswer waits until a check that took took has lasted as long as the
// slowest kind's check, on the DB's clock, or until ctx ends (the answer
// is then the check's all the same: the caller still counts a failure).
func (db *DB) padAnswer(ctx context.Context, took time.Duration) {
	d := db.pad.target() - took
	if d <= 0 {
		return
	}
	select {
	case <-db.after(d):
	case <-ctx.Done():
	}
}
