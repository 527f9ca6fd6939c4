package caddymodule

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
	"github.com/caddy-mfa/caddy-mfa/challenge"
	"github.com/caddy-mfa/caddy-mfa/challenge/users"
)

// enderFixture is a userEnder over a real users file, watched, with a
// clock the test moves and an end function that records whom it ended.
type enderFixture struct {
	t       *testing.T
	dir     string
	path    string
	hash    string
	mtime   time.Time
	clock   atomic.Int64 // unix nanoseconds
	db      *users.DB
	u       *userEnder
	logs    *observer.ObservedLogs
	reloads chan struct{}
	cancel  context.CancelFunc
	done    chan struct{}

	mu    sync.Mutex
	ended []string
}

const enderGrace = time.Minute

// usersFileOf is a users file listing names, enabled, then disabled ones.
func (f *enderFixture) usersFileOf(enabled []string, disabled ...string) string {
	var b strings.Builder
	b.WriteString("users:\n")
	for _, n := range enabled {
		b.WriteString("  " + n + ":\n    password: \"" + f.hash + "\"\n")
	}
	for _, n := range disabled {
		b.WriteString("  " + n + ":\n    password: \"" + f.hash + "\"\n    disabled: true\n")
	}
	return b.String()
}

// newEnderFixture makes the users file (content made by file) in dir
// (a fresh one if empty) and starts an ender on it: begin, then the watch.
func newEnderFixture(t *testing.T, dir string, file func(*enderFixture) string) *enderFixture {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	f := &enderFixture{t: t, dir: dir, path: filepath.Join(dir, "users.yml"), hash: endTestHash, mtime: time.Now(), reloads: make(chan struct{}, 16)}
	f.clock.Store(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).UnixNano())
	f.write(file(f))
	db, err := users.Open(f.path, users.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.db = db
	core, logs := observer.New(zapcore.InfoLevel)
	f.logs = logs
	f.u = &userEnder{db: db, now: f.now, log: zap.New(core), events: events.New(zap.New(core)), grace: enderGrace, seenPath: filepath.Join(dir, usersSeenName(filepath.Join(dir, "users.yml"), "embedded")),
		pending: map[string]*pendingEnd{}, end: f.end}
	f.u.begin()
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel, f.done = cancel, make(chan struct{})
	go func() {
		defer close(f.done)
		db.Watch(ctx, 5*time.Millisecond, func(int, []users.Gone) { f.u.reloaded(); f.reloads <- struct{}{} },
			func(err error) { t.Errorf("users file: %v", err) })
	}()
	t.Cleanup(f.stop)
	return f
}

// endTestHash is a bcrypt hash of cost 4 (parsed, never checked here).
const endTestHash = "$2a$04$uJrQ9M3n8y9a8g5m6i0a0eQb7D1yB1sXbUoQ8dC6rG0cW9j1d2n3a"

func (f *enderFixture) stop() {
	if f.cancel != nil {
		f.cancel()
		<-f.done
		f.cancel = nil
	}
}

func (f *enderFixture) now() time.Time { return time.Unix(0, f.clock.Load()).UTC() }

func (f *enderFixture) advance(d time.Duration) { f.clock.Add(int64(d)) }

func (f *enderFixture) end(_ context.Context, user string) (challenge.EndedAccess, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ended = append(f.ended, user)
	return challenge.EndedAccess{Sessions: 1}, nil
}

// endedSoFar is whom end was called for, in order, and clears the list.
func (f *enderFixture) endedSoFar() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.ended
	f.ended = nil
	return out
}

// write writes the users file in place, with a modification time of its
// own so that the watch sees every write.
func (f *enderFixture) write(content string) {
	f.t.Helper()
	f.mtime = f.mtime.Add(time.Second)
	// Whole, by rename: the watcher looks every 5 ms, and on a busy machine
	// a file written in place can stay empty longer than that (the
	// watcher's half-written-file rule is tested in challenge/users).
	tmp := f.path + ".new"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Chtimes(tmp, f.mtime, f.mtime); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Rename(tmp, f.path); err != nil {
		f.t.Fatal(err)
	}
}

// reload writes the users file and waits until the ender took it in.
func (f *enderFixture) reload(content string) {
	f.t.Helper()
	f.write(content)
	select {
	case <-f.reloads:
	case <-time.After(5 * time.Second):
		f.t.Fatal("the users file was not reloaded within 5 s")
	}
}

// tick moves the clock by d and runs the ender, as its ticker does.
func (f *enderFixture) tick(d time.Duration) []string {
	f.advance(d)
	f.u.run(context.Background())
	return f.endedSoFar()
}

func expectEnded(t *testing.T, when string, got []string, want ...string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: ended %q, want %q", when, got, want)
	}
}

var fourUsers = []string{"alice", "bob", "carol", "dave"}

// A users file read in the middle of a write, cut after alice, drops bob,
// carol and dave (not more than 3: no mass removal). Put right within the
// grace period, nobody's access ends, then or later.
func TestUserEnderCutFileRestoredWithinGrace(t *testing.T) {
	f := newEnderFixture(t, "", func(f *enderFixture) string { return f.usersFileOf(fourUsers) })
	expectEnded(t, "at start", f.tick(0))
	f.reload(f.usersFileOf(fourUsers[:1]))
	if f.db.Lookup("bob") != nil {
		t.Fatal("bob can still sign in while the cut file is in force")
	}
	expectEnded(t, "just after the cut", f.tick(usersWatchInterval))
	expectEnded(t, "just before the grace period ends", f.tick(enderGrace-2*usersWatchInterval))
	f.reload(f.usersFileOf(fourUsers))
	expectEnded(t, "restored within the grace period", f.tick(usersWatchInterval))
	expectEnded(t, "long after", f.tick(time.Hour))
	expectEnded(t, "long after", f.tick(time.Hour))
}

// A real removal ends the user's access once the grace period has passed
// and not before; the second pass runs 30 s (confirmEndAfter) after the
// first and not before, and then nothing more runs.
func TestUserEnderRemovalEndsAfterGraceAndConfirms(t *testing.T) {
	f := newEnderFixture(t, "", func(f *enderFixture) string { return f.usersFileOf(fourUsers) })
	f.reload(f.usersFileOf([]string{"alice", "carol", "dave"}))
	expectEnded(t, "1 s before the grace period ends", f.tick(enderGrace-time.Second))
	expectEnded(t, "when the grace period ends", f.tick(time.Second), "bob")
	if ev := f.logs.FilterField(zap.String("event", "user_disabled")).FilterField(zap.String("user", "bob")).All(); len(ev) != 1 {
		t.Errorf("user_disabled events for bob: %d, want 1", len(ev))
	}
	expectEnded(t, "29 s after the first pass", f.tick(confirmEndAfter-time.Second))
	expectEnded(t, "30 s after the first pass", f.tick(time.Second), "bob")
	expectEnded(t, "after the second pass", f.tick(time.Hour))
	// Both passes done: bob leaves the record, and a later start ends
	// nothing of his.
	seen, ok, err := loadUsersSeen(f.u.seenPath)
	if err != nil || !ok {
		t.Fatalf("record: %v, %v", ok, err)
	}
	if _, has := seen["bob"]; has || len(seen) != 3 {
		t.Errorf("record after bob's end = %v; want alice, carol, dave", seen)
	}
}

// Disabled: the same, and enabled again before the second pass, the
// second pass does not run (what bob holds then is new and his).
func TestUserEnderDisabledThenEnabledBeforeConfirm(t *testing.T) {
	f := newEnderFixture(t, "", func(f *enderFixture) string { return f.usersFileOf(fourUsers) })
	f.reload(f.usersFileOf([]string{"alice", "carol", "dave"}, "bob"))
	expectEnded(t, "after the grace period", f.tick(enderGrace), "bob")
	ev := f.logs.FilterField(zap.String("event", "user_disabled")).All()
	if len(ev) != 1 || ev[0].ContextMap()["reason"] != users.GoneDisabled {
		t.Errorf("events: %v; want one user_disabled, reason disabled", ev)
	}
	f.reload(f.usersFileOf(fourUsers))
	expectEnded(t, "second pass after bob is back", f.tick(confirmEndAfter))
}

// A file that would remove more than half of the users, and more than 3,
// ends nobody, however long it stays: an error names how many. A later
// file that still lacks them confirms it, and the grace period then runs
// from that file.
func TestUserEnderMassRemovalHeldUntilConfirmed(t *testing.T) {
	eight := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
	f := newEnderFixture(t, "", func(f *enderFixture) string { return f.usersFileOf(eight) })
	cut := f.usersFileOf(eight[:3]) // 5 of 8 gone
	f.reload(cut)
	expectEnded(t, "a day after the mass removal", f.tick(24*time.Hour))
	errs := f.logs.FilterLevelExact(zapcore.ErrorLevel).All()
	if len(errs) != 1 || errs[0].ContextMap()["users_gone"] != int64(5) || !strings.Contains(errs[0].Message, "nothing was ended") {
		t.Fatalf("error logs: %v; want one naming 5 users and that nothing was ended", errs)
	}
	for _, n := range eight[3:] {
		if f.db.Lookup(n) != nil {
			t.Fatalf("%s can sign in while the cut file is in force", n)
		}
	}
	// The same file written again (touched): confirmed.
	f.reload(cut)
	expectEnded(t, "just after the confirmation", f.tick(enderGrace-time.Second))
	expectEnded(t, "a grace period after the confirmation", f.tick(time.Second), "dave", "erin", "frank", "grace", "heidi")

	// Held, then put right: nothing ends.
	g := newEnderFixture(t, "", func(f *enderFixture) string { return f.usersFileOf(eight) })
	g.reload(g.usersFileOf(eight[:1]))
	expectEnded(t, "held", g.tick(time.Hour))
	g.reload(g.usersFileOf(eight))
	g.reload(g.usersFileOf(eight))
	expectEnded(t, "put right", g.tick(time.Hour))
}

// At the first start (no record) nothing is ended but the users the file
// disables, and a record is made. A later start ends the users of the
// record that the file no longer lists or now disables, after the grace
// period; users it never listed are never ended.
func TestUserEnderStartUsesRecord(t *testing.T) {
	dir := t.TempDir()
	f := newEnderFixture(t, dir, func(f *enderFixture) string { return f.usersFileOf(fourUsers[:3], "zoe") })
	expectEnded(t, "first start, before the grace period", f.tick(enderGrace-time.Second))
	expectEnded(t, "first start", f.tick(time.Second), "zoe")
	if len(f.logs.FilterMessageSnippet("no record of the users").All()) != 1 {
		t.Error("first start: no info log that a record is being made")
	}
	f.stop()

	// Stopped; bob removed, carol disabled, dave added (never seen).
	g := newEnderFixture(t, dir, func(g *enderFixture) string {
		return g.usersFileOf([]string{"alice", "dave"}, "carol", "zoe")
	})
	expectEnded(t, "second start, before the grace period", g.tick(enderGrace-time.Second))
	expectEnded(t, "second start", g.tick(time.Second), "bob", "carol", "zoe")
	if len(g.logs.FilterMessageSnippet("no record of the users").All()) != 0 {
		t.Error("second start logged that there was no record")
	}
	g.stop()

	// Stopped between the first and second pass: the next start still
	// knows bob is to be ended (he stays in the record until both passes
	// ran); restarted again with nothing changed, only disabled users.
	h := newEnderFixture(t, dir, func(h *enderFixture) string {
		return h.usersFileOf([]string{"alice", "dave"}, "carol", "zoe")
	})
	expectEnded(t, "third start", h.tick(enderGrace), "bob", "carol", "zoe")
	expectEnded(t, "third start, second pass", h.tick(confirmEndAfter), "bob", "carol", "zoe")
	h.stop()
	k := newEnderFixture(t, dir, func(k *enderFixture) string {
		return k.usersFileOf([]string{"alice", "dave"}, "carol", "zoe")
	})
	expectEnded(t, "fourth start", k.tick(enderGrace), "carol", "zoe")
}

// An older users file on another gateway's first start: users of the
// store it never listed (here: everyone it lacks) are not ended.
func TestUserEnderFirstStartEndsNoUnlistedUser(t *testing.T) {
	f := newEnderFixture(t, "", func(f *enderFixture) string { return f.usersFileOf([]string{"alice"}) })
	expectEnded(t, "first start", f.tick(time.Hour))
	seen, ok, err := loadUsersSeen(f.u.seenPath)
	if err != nil || !ok || !reflect.DeepEqual(seen, map[string]bool{"alice": false}) {
		t.Fatalf("record after the first start = %v, %v, %v; want alice", seen, ok, err)
	}
}

// Gateways that share a data dir but not a users file, or not a store,
// keep records of their own: one never takes the other's users for users
// that left. The same file and store always find their record again.
func TestUsersSeenRecordPerFileAndStore(t *testing.T) {
	a := usersSeenName("/etc/caddy/users.yml", "redis mfa:")
	for _, other := range []string{
		usersSeenName("/etc/caddy/other-users.yml", "redis mfa:"),
		usersSeenName("/etc/caddy/users.yml", "redis wiki:"),
		usersSeenName("/etc/caddy/users.yml", "embedded"),
	} {
		if other == a {
			t.Fatalf("two gateways share the record %s", a)
		}
	}
	if again := usersSeenName("/etc/caddy/../caddy/users.yml", "redis mfa:"); again != a {
		t.Fatalf("the same users file and store named %s, then %s", a, again)
	}
}
