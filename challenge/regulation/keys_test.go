package regulation

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/limit"
	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// keyWrite is one key the Regulation wrote, and where.
type keyWrite struct {
	key   string
	store storeKind
}

// keyRecorder keeps every key written through a recordingKV or a
// recordingLimiter, and the keys that are there now (written and not
// deleted or reset since; expiry aside).
type keyRecorder struct {
	writes []keyWrite
	live   map[string]bool
}

func newKeyRecorder() *keyRecorder { return &keyRecorder{live: map[string]bool{}} }

func (k *keyRecorder) wrote(s storeKind, key string) {
	k.writes = append(k.writes, keyWrite{key, s})
	k.live[key] = true
}

func (k *keyRecorder) removed(s storeKind, key string) {
	k.writes = append(k.writes, keyWrite{key, s})
	delete(k.live, key)
}

// recordingKV is a KV that tells k of every key written.
type recordingKV struct {
	store.KV
	k *keyRecorder
}

func (r recordingKV) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	r.k.wrote(inKV, key)
	return r.KV.Set(ctx, key, v, ttl)
}

func (r recordingKV) Delete(ctx context.Context, key string) error {
	r.k.removed(inKV, key)
	return r.KV.Delete(ctx, key)
}

func (r recordingKV) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	r.k.wrote(inKV, key)
	return r.KV.Incr(ctx, key, ttl)
}

func (r recordingKV) Replace(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error) {
	r.k.wrote(inKV, key)
	return r.KV.Replace(ctx, key, v, ttl)
}

func (r recordingKV) Take(ctx context.Context, key string) ([]byte, error) {
	r.k.removed(inKV, key)
	return r.KV.Take(ctx, key)
}

func (r recordingKV) DeleteIf(ctx context.Context, key string, v []byte) (bool, error) {
	r.k.removed(inKV, key)
	return r.KV.DeleteIf(ctx, key, v)
}

func (r recordingKV) Create(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error) {
	r.k.wrote(inKV, key)
	return r.KV.Create(ctx, key, v, ttl)
}

func (r recordingKV) SetAdd(ctx context.Context, key, member string, ttl time.Duration) error {
	r.k.wrote(inKV, key)
	return r.KV.SetAdd(ctx, key, member, ttl)
}

func (r recordingKV) SetRemove(ctx context.Context, key, member string) error {
	r.k.wrote(inKV, key)
	return r.KV.SetRemove(ctx, key, member)
}

// recordingLimiter is a Limiter that tells k of every key counted.
type recordingLimiter struct {
	limit.Limiter
	k *keyRecorder
}

func (r recordingLimiter) Allow(ctx context.Context, key string, l limit.Limit) (limit.Result, error) {
	r.k.wrote(inLimiter, key)
	return r.Limiter.Allow(ctx, key, l)
}

func (r recordingLimiter) Reset(ctx context.Context, key string) error {
	r.k.removed(inLimiter, key)
	return r.Limiter.Reset(ctx, key)
}

func (r recordingLimiter) Refund(ctx context.Context, key string, l limit.Limit) error {
	r.k.wrote(inLimiter, key)
	return r.Limiter.Refund(ctx, key, l)
}

// familyOf is the family of key, if any.
func familyOf(key string) (family, bool) {
	for _, f := range families() {
		if strings.HasPrefix(key, f.prefix) {
			return f, true
		}
	}
	return family{}, false
}

// recordedRegulation is a Regulation on memory stores that record every
// key written in k, on the clock c, with limits low enough for exercise to
// reach every lock.
func recordedRegulation(t *testing.T) (*Regulation, *keyRecorder, *clock) {
	t.Helper()
	c := new(clock)
	c.Set(time.Date(2025, 3, 1, 12, 0, 10, 0, time.UTC))
	lim, kv := memoryRegulationStores(t, c.Now)
	k := newKeyRecorder()
	l := DefaultLimits()
	l.MaxFailures, l.MaxUnfamiliarFailures, l.MaxCodeFailures = 2, 3, 2
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	return New(l, recordingLimiter{lim, k}, recordingKV{kv, k}, c.Now), k, c
}

// Sources of the attempts of exercise: an address, an address the user
// signed in from, a familiar browser (at an address, by its id), and the
// address of app passwords and texts.
const (
	exerciseAddr, exerciseKnown        = "198.51.100.1", "198.51.100.2"
	exerciseBrowserAt, exerciseBrowser = "203.0.113.5", "f00df00d"
	exerciseAppAddr                    = "192.0.2.1"
)

// exerciseSources are the sources of passwords exercise locks.
func exerciseSources() []PasswordSource {
	return []PasswordSource{{Addr: exerciseAddr}, {Addr: exerciseBrowserAt, Browser: exerciseBrowser}, {Addr: exerciseKnown}}
}

// exercise goes through every path of r that writes for user, and leaves
// user locked in every way there is: a source, a familiar browser, every
// unfamiliar source, the account (wrong codes), a fraud block; with every
// rate counted (second factor, prompts, texts, app passwords).
func exercise(t *testing.T, r *Regulation, user string) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// The rates the account-wide locks stop, before they do.
	_, err := r.BeforeCode(ctx, user)
	must(err)
	_, err = r.BeforePush(ctx, user)
	must(err)
	_, err = r.BeforeSend(ctx, user, purposeSignIn, ChannelText, "number-key", exerciseAppAddr)
	must(err)
	// App passwords: a right one from a new address, which is then
	// familiar, and one from there.
	_, a, err := r.BeforeAppPassword(ctx, user, exerciseAppAddr)
	must(err)
	must(r.AppPasswordOK(ctx, a))
	_, _, err = r.BeforeAppPassword(ctx, user, exerciseAppAddr)
	must(err)
	// Passwords: a right one, then wrong ones from an address, a familiar
	// browser and a familiar address, as many as lock each, and every
	// unfamiliar source with them.
	must(r.SignedInFrom(ctx, user, exerciseKnown))
	_, pa, err := r.BeforePassword(ctx, user, PasswordSource{Addr: exerciseAddr})
	must(err)
	must(r.PasswordOK(ctx, pa))
	for _, src := range exerciseSources() {
		for range r.limits.MaxFailures {
			v, pa, err := r.BeforePassword(ctx, user, src)
			must(err)
			if v.Allowed {
				_, err = r.PasswordFailed(ctx, pa)
				must(err)
			}
		}
	}
	// Codes: a wrong one and a right one, then a run that locks.
	_, err = r.CodeFailed(ctx, user)
	must(err)
	must(r.CodeOK(ctx, user))
	for range r.limits.MaxCodeFailures {
		_, err = r.CodeFailed(ctx, user)
		must(err)
	}
	must(r.Block(ctx, user))
}

// TestFamilies: the table itself is sound. Each prefix names its family
// alone, and what Unlock does fits where the keys live.
func TestFamilies(t *testing.T) {
	fs := families()
	generations := 0
	for i, f := range fs {
		if f.prefix == "" || f.layout == "" || f.limits == "" {
			t.Errorf("family %d (%q) lacks a prefix, layout or what it limits", i, f.prefix)
		}
		for j, g := range fs {
			if i != j && strings.HasPrefix(g.prefix, f.prefix) {
				t.Errorf("prefix %q starts %q: a key of one family would be taken for the other's", f.prefix, g.prefix)
			}
		}
		switch f.lift {
		case deleted, advanced:
			if f.store != inKV {
				t.Errorf("%s: Unlock deletes or advances it in the KV, but it lives in the limiter", f.prefix)
			}
		case reset:
			if f.store != inLimiter {
				t.Errorf("%s: Unlock resets it in the limiter, but it lives in the KV", f.prefix)
			}
		case inGeneration, kept:
		default:
			t.Errorf("%s: no lift", f.prefix)
		}
		if f.lift == advanced {
			generations++
		}
	}
	if generations != 1 {
		t.Errorf("%d families are the generation, want 1", generations)
	}
	if got := KeyPrefixes(); len(got) != len(fs) {
		t.Errorf("KeyPrefixes lists %d prefixes, families %d", len(got), len(fs))
	}
}

// TestEveryKeyIsInTheTable: every key any path of Regulation writes is of
// a family of the table, in the store the table says, built as its layout
// says where Unlock builds it too; and every family is written by some
// path (else exercise misses one).
func TestEveryKeyIsInTheTable(t *testing.T) {
	r, k, _ := recordedRegulation(t)
	ctx := context.Background()
	exercise(t, r, "alice")
	exercise(t, r, "bob")
	if _, err := r.Unlock(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	// The reads write nothing, but go through them all the same.
	for _, read := range []func() error{
		func() error { _, _, err := r.Locked(ctx, "alice"); return err },
		func() error { _, err := r.SourceLocks(ctx, "alice"); return err },
		func() error { _, err := r.AccountVerdict(ctx, "alice"); return err },
		func() error { _, err := r.AppPasswordAccount(ctx, "alice"); return err },
		func() error { _, err := r.SentToday(ctx); return err },
	} {
		if err := read(); err != nil {
			t.Fatal(err)
		}
	}
	inGen := regexp.MustCompile(`^[0-9]+:`)
	seen := map[string]bool{}
	for _, w := range k.writes {
		f, ok := familyOf(w.key)
		if !ok {
			t.Errorf("key %q is of no family in the table (keys.go): Unlock would not know of it", w.key)
			continue
		}
		seen[f.prefix] = true
		if w.store != f.store {
			t.Errorf("key %q written in store %d, the table says %d", w.key, w.store, f.store)
		}
		rest := strings.TrimPrefix(w.key, f.prefix)
		switch f.lift {
		case deleted, reset, advanced:
			if rest != "alice" && rest != "bob" {
				t.Errorf("key %q of a family Unlock lifts by the user's name is not prefix+user", w.key)
			}
		case inGeneration:
			if !inGen.MatchString(rest) {
				t.Errorf("key %q of a family held in a generation does not start with one", w.key)
			}
		}
	}
	for _, f := range families() {
		if !seen[f.prefix] {
			t.Errorf("no path exercise takes writes a key of family %q: add one", f.prefix)
		}
	}
}

// TestUnlockLiftsEveryFamily: after Unlock, no key of the user's lockouts
// and counts is read again (deleted, reset, or of a generation gone), the
// families Unlock leaves are exactly those meant to stay, nothing of
// another user changes, and every kind of attempt the user makes goes
// through.
func TestUnlockLiftsEveryFamily(t *testing.T) {
	r, k, c := recordedRegulation(t)
	ctx := context.Background()
	exercise(t, r, "alice")
	exercise(t, r, "bob")
	wantKept := []string{prefixKnownAddress, prefixAppPasswordAddr, prefixLoginIP, prefixLoginIPFamiliar,
		prefixAppPasswordIP, prefixSendNumber, prefixSendIP, prefixSendWait, prefixSendDaily}
	var gotKept []string
	for _, f := range families() {
		if f.lift == kept {
			gotKept = append(gotKept, f.prefix)
		}
	}
	slices.Sort(wantKept)
	slices.Sort(gotKept)
	if !slices.Equal(gotKept, wantKept) {
		t.Errorf("families Unlock leaves: %q, want %q (a lockout or count of the user must be lifted)", gotKept, wantKept)
	}
	oldGen, err := r.generation(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	before := maps.Clone(k.live)
	was, err := r.Unlock(ctx, "alice")
	if err != nil || !was {
		t.Fatalf("Unlock = %v, %v; want it was locked", was, err)
	}
	for _, f := range families() {
		key := userKey(f.prefix, "alice")
		switch f.lift {
		case deleted, reset:
			if !before[key] {
				t.Errorf("%s was not there before Unlock: exercise misses a path", key)
			}
			if k.live[key] {
				t.Errorf("Unlock left %s", key)
			}
		case advanced:
			if gen, err := r.generation(ctx, "alice"); err != nil || gen == oldGen {
				t.Errorf("generation of alice after Unlock %q, %v; want another than %q", gen, err, oldGen)
			}
		}
	}
	for key := range before {
		f, _ := familyOf(key)
		if k.live[key] || f.lift == deleted || f.lift == reset {
			continue
		}
		t.Errorf("Unlock of alice removed %s, of a family it does not lift", key)
	}
	for key := range k.live {
		if !before[key] && key != userKey(prefixGeneration, "alice") {
			t.Errorf("Unlock wrote %s", key)
		}
		if f, _ := familyOf(key); f.lift == inGeneration && !strings.HasPrefix(key, f.prefix+oldGen+":") {
			t.Errorf("%s is of no generation Unlock left behind", key)
		}
	}
	if _, err := r.Unlock(ctx, "alice"); err != nil {
		t.Fatal(err)
	}

	// alice gets through everywhere, once the wait between texts is over
	// (seconds: not a lockout); bob is still locked.
	c.Advance(r.limits.Send.Resend + time.Second)
	allowed := func(what string, v Verdict, err error) {
		t.Helper()
		if err != nil || !v.Allowed {
			t.Errorf("%s after Unlock: %+v, %v; want allowed", what, v, err)
		}
	}
	for _, src := range append(exerciseSources(), PasswordSource{Addr: "198.51.100.99"}) {
		v, _, err := r.BeforePassword(ctx, "alice", src)
		allowed("a password from "+src.Addr, v, err)
	}
	v, err := r.AccountVerdict(ctx, "alice")
	allowed("the account", v, err)
	v, err = r.BeforeCode(ctx, "alice")
	allowed("a code", v, err)
	v, err = r.BeforePush(ctx, "alice")
	allowed("a prompt", v, err)
	v, err = r.BeforeSend(ctx, "alice", purposeSignIn, ChannelText, "number-key", exerciseAppAddr)
	allowed("a text", v, err)
	v, _, err = r.BeforeAppPassword(ctx, "alice", "192.0.2.99")
	allowed("an app password", v, err)
	if locks, err := r.SourceLocks(ctx, "alice"); err != nil || locks != nil {
		t.Errorf("source locks of alice after Unlock: %v, %v", locks, err)
	}
	if v, err := r.AccountVerdict(ctx, "bob"); err != nil || v.Reason != ReasonBlocked {
		t.Errorf("bob after alice's Unlock: %+v, %v; want still blocked", v, err)
	}
	if locks, err := r.SourceLocks(ctx, "bob"); err != nil || len(locks) != 3 {
		t.Errorf("source locks of bob after alice's Unlock: %v, %v; want all three", locks, err)
	}
}
