package challenge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// errNoRecord is a record that is not in the store: never put, taken or
// deleted already, or dropped by the store when its time was up.
var errNoRecord = errors.New("no such record")

// errRecordExpired is a record still in the store whose own expiry has
// passed (the store's clock, Redis's say, may lag the engine's). It is
// errNoRecord too, for callers to whom the two are the same.
var errRecordExpired = fmt.Errorf("%w: it has expired", errNoRecord)

// errBadRecord is a stored record that does not decode: written by
// something else, or damaged.
var errBadRecord = errors.New("stored record is malformed")

// record is one kind of value kept as JSON in the KV, under prefix+id,
// until it expires: a call under way, a push prompt, a texted code, a
// security-key ceremony. The value carries its own expiry (expires): the
// KV keeps it that long (a second at least), and a value read after it is
// errRecordExpired, whatever the KV's clock says. what names the kind in
// errors; a failure to reach the KV wraps store.ErrUnavailable.
type record[T any] struct {
	kv      store.KV
	now     func() time.Time
	prefix  string
	what    string
	expires func(T) time.Time
}

func (r record[T]) key(id string) string { return r.prefix + id }

// Put stores v under id, replacing what was there, until v expires.
func (r record[T]) Put(ctx context.Context, id string, v T) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", r.what, err)
	}
	ttl := max(r.expires(v).Sub(r.now()), time.Second)
	if err := r.kv.Set(ctx, r.key(id), b, ttl); err != nil {
		return fmt.Errorf("%w: saving %s: %w", store.ErrUnavailable, r.what, err)
	}
	return nil
}

// Get returns the value under id: errNoRecord if there is none,
// errRecordExpired if it has expired, errBadRecord if it does not decode.
func (r record[T]) Get(ctx context.Context, id string) (T, error) {
	v, _, err := r.read(ctx, id)
	return v, err
}

// read is Get with the value as stored, for DeleteIf.
func (r record[T]) read(ctx context.Context, id string) (T, []byte, error) {
	var zero T
	raw, err := r.kv.Get(ctx, r.key(id))
	if errors.Is(err, store.ErrNotFound) {
		return zero, nil, errNoRecord
	}
	if err != nil {
		return zero, nil, fmt.Errorf("%w: reading %s: %w", store.ErrUnavailable, r.what, err)
	}
	v, err := r.decode(raw)
	return v, raw, err
}

// Take returns the value under id and removes it in one step, so that of
// two callers racing for it only one gets it. Errors as Get; an expired or
// malformed value is removed all the same.
func (r record[T]) Take(ctx context.Context, id string) (T, error) {
	var zero T
	raw, err := r.kv.Take(ctx, r.key(id))
	if errors.Is(err, store.ErrNotFound) {
		return zero, errNoRecord
	}
	if err != nil {
		return zero, fmt.Errorf("%w: using %s: %w", store.ErrUnavailable, r.what, err)
	}
	return r.decode(raw)
}

// TakeIf removes the value under id if it has not expired and ok accepts
// it, and returns it; taken is false, with no error, if there is none, it
// has expired, ok refuses it, or another caller changed or took it between
// the read and the removal (which never removes a newer value put
// meanwhile). A value that does not decode is errBadRecord.
func (r record[T]) TakeIf(ctx context.Context, id string, ok func(T) bool) (v T, taken bool, err error) {
	v, raw, err := r.read(ctx, id)
	if errors.Is(err, errNoRecord) {
		return v, false, nil
	}
	if err != nil || !ok(v) {
		return v, false, err
	}
	taken, err = r.kv.DeleteIf(ctx, r.key(id), raw)
	if err != nil {
		return v, false, fmt.Errorf("%w: using %s: %w", store.ErrUnavailable, r.what, err)
	}
	return v, taken, nil
}

// Delete removes the value under id; a missing one is no error.
func (r record[T]) Delete(ctx context.Context, id string) error {
	if err := r.kv.Delete(ctx, r.key(id)); err != nil {
		return fmt.Errorf("%w: deleting %s: %w", store.ErrUnavailable, r.what, err)
	}
	return nil
}

// decode decodes a stored value and checks its expiry.
func (r record[T]) decode(raw []byte) (T, error) {
	var v, zero T
	if err := json.Unmarshal(raw, &v); err != nil {
		return zero, fmt.Errorf("%w: decoding %s: %w", errBadRecord, r.what, err)
	}
	if !r.now().Before(r.expires(v)) {
		return zero, errRecordExpired
	}
	return v, nil
}
