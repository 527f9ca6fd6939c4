package challenge

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// testRecord is a value kept in a record for these tests.
type testRecord struct {
	Name    string    `json:"name"`
	Expires time.Time `json:"expires"`
}

// recordFixture is a record of testRecord over a memory KV, with the KV's
// clock and the record's clock apart, so that a test can move either.
type recordFixture struct {
	kv       *store.MemoryKV
	kvClock  *clock
	recClock *clock
	r        record[testRecord]
}

func newRecordFixture() *recordFixture {
	f := &recordFixture{kv: store.NewMemoryKV(), kvClock: new(clock), recClock: new(clock)}
	f.kvClock.Advance(time.Hour)
	f.recClock.Advance(time.Hour)
	f.kv.SetClock(f.kvClock.Now)
	f.r = record[testRecord]{kv: f.kv, now: f.recClock.Now, prefix: "test:", what: "test thing",
		expires: func(v testRecord) time.Time { return v.Expires }}
	return f
}

// put stores a testRecord named name under id, expiring in ttl.
func (f *recordFixture) put(t *testing.T, id, name string, ttl time.Duration) testRecord {
	t.Helper()
	v := testRecord{Name: name, Expires: f.recClock.Now().Add(ttl)}
	if err := f.r.Put(context.Background(), id, v); err != nil {
		t.Fatalf("Put: %v", err)
	}
	return v
}

func TestRecordPutGet(t *testing.T) {
	f := newRecordFixture()
	ctx := context.Background()
	f.put(t, "a", "first", time.Minute)
	if _, err := f.kv.Get(ctx, "test:a"); err != nil {
		t.Fatalf("not stored under its prefix: %v", err)
	}
	got, err := f.r.Get(ctx, "a")
	if err != nil || got.Name != "first" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	f.put(t, "a", "second", time.Minute)
	if got, err := f.r.Get(ctx, "a"); err != nil || got.Name != "second" {
		t.Fatalf("Get after a second Put = %+v, %v", got, err)
	}
}

func TestRecordMissing(t *testing.T) {
	f := newRecordFixture()
	ctx := context.Background()
	if _, err := f.r.Get(ctx, "nope"); !errors.Is(err, errNoRecord) || errors.Is(err, errRecordExpired) {
		t.Fatalf("Get of a missing record: %v, want errNoRecord", err)
	}
	if _, err := f.r.Take(ctx, "nope"); !errors.Is(err, errNoRecord) {
		t.Fatalf("Take of a missing record: %v, want errNoRecord", err)
	}
	if _, taken, err := f.r.TakeIf(ctx, "nope", func(testRecord) bool { return true }); taken || err != nil {
		t.Fatalf("TakeIf of a missing record = %v, %v", taken, err)
	}
	if err := f.r.Delete(ctx, "nope"); err != nil {
		t.Fatalf("Delete of a missing record: %v", err)
	}
}

// A record read after its own expiry is expired, though the store (whose
// clock here stands still) still holds it.
func TestRecordExpiresByItsOwnTime(t *testing.T) {
	f := newRecordFixture()
	ctx := context.Background()
	f.put(t, "a", "x", time.Minute)
	f.recClock.Advance(time.Minute - time.Nanosecond)
	if _, err := f.r.Get(ctx, "a"); err != nil {
		t.Fatalf("Get just before expiry: %v", err)
	}
	f.recClock.Advance(time.Nanosecond)
	if _, err := f.kv.Get(ctx, "test:a"); err != nil {
		t.Fatalf("the store should still hold it: %v", err)
	}
	_, err := f.r.Get(ctx, "a")
	if !errors.Is(err, errRecordExpired) || !errors.Is(err, errNoRecord) {
		t.Fatalf("Get at expiry: %v, want errRecordExpired (and errNoRecord)", err)
	}
	if _, taken, err := f.r.TakeIf(ctx, "a", func(testRecord) bool { return true }); taken || err != nil {
		t.Fatalf("TakeIf at expiry = %v, %v", taken, err)
	}
	if _, err := f.r.Take(ctx, "a"); !errors.Is(err, errRecordExpired) {
		t.Fatalf("Take at expiry: %v, want errRecordExpired", err)
	}
	if _, err := f.kv.Get(ctx, "test:a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Take left an expired record in the store: %v", err)
	}
}

// The store keeps a record until it expires, and a second at least.
func TestRecordStoreTTLFollowsExpiry(t *testing.T) {
	f := newRecordFixture()
	f.put(t, "a", "x", time.Minute)
	f.wantKeptFor(t, "test:a", time.Minute)
	f.put(t, "b", "x", -time.Hour) // already expired
	f.wantKeptFor(t, "test:b", time.Second)
}

// wantKeptFor checks that the store holds key for d more on its clock, and
// no longer.
func (f *recordFixture) wantKeptFor(t *testing.T, key string, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	f.kvClock.Advance(d - time.Millisecond)
	if _, err := f.kv.Get(ctx, key); err != nil {
		t.Fatalf("store dropped %s before %v: %v", key, d, err)
	}
	f.kvClock.Advance(time.Millisecond)
	if _, err := f.kv.Get(ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("store kept %s past %v: %v", key, d, err)
	}
}

func TestRecordMalformed(t *testing.T) {
	f := newRecordFixture()
	ctx := context.Background()
	if err := f.kv.Set(ctx, "test:a", []byte("{not json"), time.Minute); err != nil {
		t.Fatal(err)
	}
	_, err := f.r.Get(ctx, "a")
	if !errors.Is(err, errBadRecord) || errors.Is(err, errNoRecord) || !strings.Contains(err.Error(), "decoding test thing") {
		t.Fatalf("Get of bad JSON: %v, want errBadRecord naming the kind", err)
	}
	if _, _, err := f.r.TakeIf(ctx, "a", func(testRecord) bool { return true }); !errors.Is(err, errBadRecord) {
		t.Fatalf("TakeIf of bad JSON: %v, want errBadRecord", err)
	}
	if _, err := f.r.Take(ctx, "a"); !errors.Is(err, errBadRecord) {
		t.Fatalf("Take of bad JSON: %v, want errBadRecord", err)
	}
}

// Take returns a record once; Delete removes it.
func TestRecordTakeOnceAndDelete(t *testing.T) {
	f := newRecordFixture()
	ctx := context.Background()
	f.put(t, "a", "x", time.Minute)
	if got, err := f.r.Take(ctx, "a"); err != nil || got.Name != "x" {
		t.Fatalf("Take = %+v, %v", got, err)
	}
	if _, err := f.r.Take(ctx, "a"); !errors.Is(err, errNoRecord) {
		t.Fatalf("second Take: %v, want errNoRecord", err)
	}
	f.put(t, "b", "x", time.Minute)
	if err := f.r.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Get(ctx, "b"); !errors.Is(err, errNoRecord) {
		t.Fatalf("after Delete: %v, want errNoRecord", err)
	}
}

func TestRecordTakeIf(t *testing.T) {
	f := newRecordFixture()
	ctx := context.Background()
	f.put(t, "a", "x", time.Minute)
	if _, taken, err := f.r.TakeIf(ctx, "a", func(v testRecord) bool { return v.Name == "y" }); taken || err != nil {
		t.Fatalf("TakeIf refused = %v, %v", taken, err)
	}
	if _, err := f.r.Get(ctx, "a"); err != nil {
		t.Fatalf("a refused TakeIf removed the record: %v", err)
	}
	// A newer value put between the read and the removal stays.
	_, taken, err := f.r.TakeIf(ctx, "a", func(testRecord) bool {
		f.put(t, "a", "newer", time.Minute)
		return true
	})
	if taken || err != nil {
		t.Fatalf("TakeIf of a value replaced meanwhile = %v, %v", taken, err)
	}
	if got, err := f.r.Get(ctx, "a"); err != nil || got.Name != "newer" {
		t.Fatalf("the newer value = %+v, %v", got, err)
	}
	got, taken, err := f.r.TakeIf(ctx, "a", func(v testRecord) bool { return v.Name == "newer" })
	if !taken || err != nil || got.Name != "newer" {
		t.Fatalf("TakeIf = %+v, %v, %v", got, taken, err)
	}
	if _, err := f.r.Get(ctx, "a"); !errors.Is(err, errNoRecord) {
		t.Fatalf("after TakeIf: %v, want errNoRecord", err)
	}
}

// downKV is a KV that cannot be reached.
type downKV struct{ store.KV }

var errKVDown = errors.New("connection refused")

func (downKV) Get(context.Context, string) ([]byte, error) { return nil, errKVDown }
func (downKV) Set(context.Context, string, []byte, time.Duration) error {
	return errKVDown
}
func (downKV) Take(context.Context, string) ([]byte, error) { return nil, errKVDown }
func (downKV) Delete(context.Context, string) error         { return errKVDown }

func TestRecordStoreDown(t *testing.T) {
	f := newRecordFixture()
	f.r.kv = downKV{}
	ctx := context.Background()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, errKVDown) || !strings.Contains(err.Error(), "test thing") {
			t.Errorf("%s with the store down: %v, want ErrUnavailable naming the kind", op, err)
		}
		if errors.Is(err, errNoRecord) {
			t.Errorf("%s with the store down is errNoRecord: %v", op, err)
		}
	}
	check("Put", f.r.Put(ctx, "a", testRecord{Expires: f.recClock.Now().Add(time.Minute)}))
	_, err := f.r.Get(ctx, "a")
	check("Get", err)
	_, err = f.r.Take(ctx, "a")
	check("Take", err)
	_, _, err = f.r.TakeIf(ctx, "a", func(testRecord) bool { return true })
	check("TakeIf", err)
	check("Delete", f.r.Delete(ctx, "a"))
}
