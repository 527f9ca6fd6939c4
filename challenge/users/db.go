package users

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// DB holds the parsed users file and re-reads it when it changes on disk.
// Lookups are lock-free reads of an immutable map.
type DB struct {
	path string
	opts Options
	log  *zap.Logger
	// t is the users file as last read: an immutable table.
	t atomic.Pointer[table]
	// mu orders reloads and rehash rewrites; stamp and sum are the
	// modification time, size and SHA-256 of the file t was read from.
	mu    sync.Mutex
	stamp fileStamp
	sum   [sha256.Size]byte
	// rehashFailed is the reading of the file an upgrade failed on: none
	// is tried again until the file is read anew.
	rehashFailed atomic.Pointer[table]
	// rehashing holds a slot while a hash upgrade runs: one at a time.
	rehashing chan struct{}
	// afterRehash, when set (tests), is told the outcome of each upgrade;
	// beforeRename runs just before the rewritten file replaces the old.
	afterRehash  func(user string, err error)
	beforeRename func()
	// beforeHash runs before the argon2id hash of an upgrade is made,
	// afterOwner once the temporary file has its owner (tests).
	beforeHash func()
	afterOwner func(f *os.File)
	// timingHash is checked for unknown users so that they take as long as
	// known ones: a real user's hash, with that user's cost parameters.
	timingHash atomic.Pointer[hashBox]
	// gate bounds concurrent hash checks.
	gate *Gate
	// pad times the kinds of hash, so that failed checks answer as late as
	// the slowest kind's (pad.go); after is its clock (time.After).
	pad   *padder
	after func(time.Duration) <-chan time.Time
}

type hashBox struct{ h Hash }

// pickTimingHash takes a hash of the most common kind in the file (the
// first user's of that kind, in name order), so that an unknown name costs
// what most real users cost even when the file mixes bcrypt and argon2id
// or several argon2id settings.
func pickTimingHash(m map[string]*User) *hashBox {
	names := make([]string, 0, len(m))
	count := map[string]int{}
	for name, u := range m {
		names = append(names, name)
		count[u.hash.Kind()]++
	}
	sort.Strings(names)
	var best *User
	for _, name := range names {
		u := m[name]
		if best == nil || count[u.hash.Kind()] > count[best.hash.Kind()] {
			best = u
		}
	}
	if best != nil {
		return &hashBox{best.hash}
	}
	// An empty file: any argon2id hash at the default cost.
	h, _ := ParseHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$" +
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	return &hashBox{h}
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// same reports whether two looks at the file saw the same modification
// time and size.
func (s fileStamp) same(o fileStamp) bool { return s.mod.Equal(o.mod) && s.size == o.size }

// Open reads and parses the users file at path with opts. Its password
// checks pass through DefaultGate; SetGate changes that.
func Open(path string, opts Options) (*DB, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	db := &DB{path: path, opts: opts, log: opts.logger(), gate: DefaultGate(), rehashing: make(chan struct{}, 1),
		pad: newPadder(), after: time.After}
	if _, err := db.reload(); err != nil {
		return nil, err
	}
	return db, nil
}

// reload reads the file and puts it in force; it returns the users who
// could sign in before and cannot now.
func (db *DB) reload() ([]Gone, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.reloadLocked()
}

// reloadLocked is reload with db.mu held.
func (db *DB) reloadLocked() ([]Gone, error) {
	st, err := os.Stat(db.path)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	data, err := os.ReadFile(db.path)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	t, err := parse(data, db.opts)
	if err != nil {
		return nil, fmt.Errorf("users file %s: %w", db.path, err)
	}
	m := t.users
	if old := db.t.Load(); old != nil && len(old.users) > 0 && len(m) == 0 {
		// Far likelier a file emptied by mistake (or read while a tool
		// rewrote it) than everyone leaving at once.
		return nil, fmt.Errorf("users file %s lists no users; the %d users read before stay in force (to remove everyone, disable them)", db.path, len(old.users))
	}
	for _, s := range t.skipped {
		db.log.Warn("users file: user left out (on_bad_hash skip): their password hash cannot be read",
			zap.String("file", db.path), zap.Int("line", s.Line), zap.String("user", s.User), zap.String("reason", s.Reason.Error()))
	}
	var ended []Gone
	if old := db.t.Swap(t); old != nil {
		ended = gone(old.users, m)
	}
	th := pickTimingHash(m)
	db.timingHash.Store(th)
	db.measureKinds(kindsOf(m, th.h))
	db.stamp = fileStamp{st.ModTime(), st.Size()}
	db.sum = sha256.Sum256(data)
	return ended, nil
}

// currentStamp is the stamp of the file last read.
func (db *DB) currentStamp() fileStamp {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.stamp
}

// Skipped lists the users the last reading of the file left out
// (on_bad_hash skip), in file order.
func (db *DB) Skipped() []Skipped { return append([]Skipped(nil), db.t.Load().skipped...) }

// Watch re-reads the file while ctx lives once its modification time or
// size changed and then stayed the same for one interval (looked at every
// interval), and calls onReload with the number of
// users and those who could sign in before and cannot now (removed or
// disabled). A file that fails to parse, or that lists no users where
// there were some, is reported through onError and the users read before
// stay in force.
func (db *DB) Watch(ctx context.Context, interval time.Duration, onReload func(n int, gone []Gone), onError func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	// changed is the stamp of a change seen on the previous look: the file
	// is read only once it has stayed so for a whole interval, so that a
	// tool still writing it (in place) is not read half-way, which could
	// drop users or cut an entry before its `disabled: true`.
	var changed fileStamp
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, err := os.Stat(db.path)
		if err != nil {
			onError(fmt.Errorf("users file: %w", err))
			continue
		}
		now := fileStamp{st.ModTime(), st.Size()}
		if now.same(db.currentStamp()) {
			changed = fileStamp{}
			continue
		}
		if !now.same(changed) {
			changed = now
			continue
		}
		ended, err := db.reload()
		if err != nil {
			// Remember the stamp so a broken file is reported once, not every tick.
			db.mu.Lock()
			db.stamp = fileStamp{st.ModTime(), st.Size()}
			db.mu.Unlock()
			onError(err)
			continue
		}
		onReload(db.Len(), ended)
	}
}

// Len is the number of users.
func (db *DB) Len() int { return len(db.t.Load().users) }

// All returns every user of the file, disabled ones included, by name.
func (db *DB) All() []*User {
	m := db.t.Load().users
	out := make([]*User, 0, len(m))
	for _, u := range m {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns an enabled user by canonical name (see Canonical), or
// nil: one map read, no allocation (it runs on every signed-in request).
func (db *DB) Lookup(name string) *User {
	u := db.t.Load().users[name]
	if u == nil || u.Disabled {
		return nil
	}
	return u
}

// SetGate replaces the gate that bounds concurrent password checks. Call
// it before the DB is used.
func (db *DB) SetGate(g *Gate) { db.gate = g }

// Gate is the gate that bounds concurrent password checks.
func (db *DB) Gate() *Gate { return db.gate }

// Authenticate checks a canonical user name (see Canonical) and password,
// and returns the user, or nil if either is wrong. Unknown and disabled
// users cost the same hash check as known ones, and every answer comes no
// sooner than a check of the slowest kind of hash in the file would
// (pad.go), so timing does not tell them apart. Every check passes through the gate: ErrBusy (or ctx's
// error) means none was made. With rehash_on_sign_in, a weak hash that
// matched is upgraded in the background, after the answer (see rehash).
func (db *DB) Authenticate(ctx context.Context, name, password string) (*User, error) {
	u := db.t.Load().users[name]
	h := db.timingHash.Load().h
	if u != nil && !u.Disabled {
		h = u.hash
	}
	var ok bool
	var took time.Duration
	if err := db.gate.Do(ctx, func() {
		start := time.Now()
		ok = h.Matches(password)
		took = time.Since(start)
	}); err != nil {
		return nil, err
	}
	if len(password) <= MaxPasswordBytes {
		// (a longer one is refused unhashed: it says nothing of the kind)
		db.pad.observe(h.Kind(), took)
	}
	// Every answer, right or wrong, comes as late as the slowest kind's
	// check would (pad.go).
	db.padAnswer(ctx, took)
	if !ok || u == nil || u.Disabled {
		return nil, nil
	}
	if db.opts.RehashOnSignIn && u.hash.Weak() && !truncatedByBcrypt(u.hash, password) {
		db.startRehash(u, password)
	}
	return u, nil
}

// bcryptMaxBytes is the part of a password bcrypt reads.
const bcryptMaxBytes = 72

// truncatedByBcrypt reports a password longer than bcrypt reads checked
// against a bcrypt hash: other passwords of that prefix match too, so the
// one typed is not the one to rehash (the owner's real one would stop
// working).
func truncatedByBcrypt(h Hash, password string) bool {
	return strings.HasPrefix(h.Kind(), "bcrypt/") && len(password) > bcryptMaxBytes
}
