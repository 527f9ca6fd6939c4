package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// Outbox keys, in the gateway's KV (under its Redis prefix, if any).
const (
	queueKey    = "notify:queue"
	noticeKey   = "notify:n:"
	leaseKey    = "notify:lease:"
	userRateKey = "notify:rate:"
	onceKey     = "notify:once:"
)

// Defaults of an Outbox.
const (
	DefaultMaxQueued   = 1000
	DefaultPerUserHour = 20
	DefaultMaxAttempts = 10
	DefaultBackoff     = 5 * time.Second
	DefaultMaxBackoff  = 10 * time.Minute
	// DefaultKeep is how long a notice stays in the outbox at most, sent or
	// not: longer than every retry takes.
	DefaultKeep = 48 * time.Hour
)

// ErrFull is returned by Enqueue when the outbox holds its maximum.
var ErrFull = errors.New("notify: outbox full")

// ErrUserRate is returned by Enqueue when a user had their maximum of
// notices in the hour.
var ErrUserRate = errors.New("notify: too many notices for this user in the hour")

// ErrRepeated is returned by Enqueue for a notice that others can cause
// (see unsolicited) when the user already has one of its kind in the hour.
var ErrRepeated = errors.New("notify: the user was told of this in the last hour")

// unsolicited reports whether a notice of kind k can be caused by someone
// who has not signed in (a lockout, by guessing the user's password): at
// most one such notice per user, kind and channel an hour, outside the
// user's own quota, and never in the last quarter of the outbox, so that
// a guesser who knows only names can neither bomb a mailbox, nor use up a
// user's notices before changing their security info, nor fill the
// outbox for everyone.
func unsolicited(k Kind) bool { return k == LockedOut }

// Outbox is the durable queue of notices in a KV store: every gateway
// sharing the store shares it. Its zero values are the defaults.
type Outbox struct {
	KV store.KV
	// MaxQueued caps the notices waiting: beyond it Enqueue refuses.
	// Default DefaultMaxQueued.
	MaxQueued int
	// PerUserHour caps the notices queued per user and clock hour.
	// Default DefaultPerUserHour.
	PerUserHour int
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

func (o *Outbox) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func orInt(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// NewID is a random notice id (128 bits, hex).
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Enqueue stores n (given an ID if it has none) for the worker. It
// refuses with ErrUserRate or ErrFull when a bound is reached.
func (o *Outbox) Enqueue(ctx context.Context, n Notice) error {
	if n.ID == "" {
		n.ID = NewID()
	}
	now := o.now()
	hour := strconv.FormatInt(now.UTC().Truncate(time.Hour).Unix(), 10)
	queued, err := o.KV.SetMembers(ctx, queueKey)
	if err != nil {
		return fmt.Errorf("notify: reading outbox: %w", err)
	}
	limit := orInt(o.MaxQueued, DefaultMaxQueued)
	if unsolicited(n.Kind) {
		limit = limit * 3 / 4
	}
	if len(queued) >= limit {
		return ErrFull
	}
	if unsolicited(n.Kind) {
		first, err := o.KV.Create(ctx, onceKey+hour+":"+string(n.Kind)+":"+n.Channel+":"+n.User, []byte{1}, time.Hour)
		if err != nil {
			return fmt.Errorf("notify: counting notices: %w", err)
		}
		if !first {
			return ErrRepeated
		}
	} else {
		count, err := o.KV.Incr(ctx, userRateKey+hour+":"+n.Channel+":"+n.User, time.Hour)
		if err != nil {
			return fmt.Errorf("notify: counting notices: %w", err)
		}
		if count > int64(orInt(o.PerUserHour, DefaultPerUserHour)) {
			return ErrUserRate
		}
	}
	if err := o.put(ctx, n); err != nil {
		return err
	}
	if err := o.KV.SetAdd(ctx, queueKey, n.ID, DefaultKeep); err != nil {
		return fmt.Errorf("notify: queueing notice: %w", err)
	}
	return nil
}

func (o *Outbox) put(ctx context.Context, n Notice) error {
	b, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("notify: encoding notice: %w", err)
	}
	if err := o.KV.Set(ctx, noticeKey+n.ID, b, DefaultKeep); err != nil {
		return fmt.Errorf("notify: storing notice: %w", err)
	}
	return nil
}

// IDs are the ids of the notices waiting.
func (o *Outbox) IDs(ctx context.Context) ([]string, error) {
	ids, err := o.KV.SetMembers(ctx, queueKey)
	if err != nil {
		return nil, fmt.Errorf("notify: reading outbox: %w", err)
	}
	return ids, nil
}

// nextTry reads when notice id is due, without taking its lease; ok is
// false if it cannot say (gone, unreadable): claim then finds out.
func (o *Outbox) nextTry(ctx context.Context, id string) (time.Time, bool) {
	b, err := o.KV.Get(ctx, noticeKey+id)
	if err != nil {
		return time.Time{}, false
	}
	var n struct {
		NextAt time.Time `json:"next_at"`
	}
	if json.Unmarshal(b, &n) != nil {
		return time.Time{}, false
	}
	return n.NextAt, true
}

// claim takes the lease of notice id for holder, for lease: while it
// holds, no other worker takes the notice. It returns the notice, or ok
// false if another worker holds it or it is gone (then removed from the
// queue).
func (o *Outbox) claim(ctx context.Context, id, holder string, lease time.Duration) (Notice, bool, error) {
	got, err := o.KV.Create(ctx, leaseKey+id, []byte(holder), lease)
	if err != nil || !got {
		return Notice{}, false, err
	}
	b, err := o.KV.Get(ctx, noticeKey+id)
	if errors.Is(err, store.ErrNotFound) {
		// Sent (or expired) meanwhile: the sender deletes the notice
		// before it gives up its lease.
		err = o.KV.SetRemove(ctx, queueKey, id)
		o.release(ctx, id, holder)
		return Notice{}, false, err
	}
	if err != nil {
		o.release(ctx, id, holder)
		return Notice{}, false, fmt.Errorf("notify: reading notice: %w", err)
	}
	var n Notice
	if err := json.Unmarshal(b, &n); err != nil {
		// Not ours to retry: drop it.
		o.done(ctx, id, holder)
		return Notice{}, false, fmt.Errorf("notify: notice %s does not decode: %w", id, err)
	}
	return n, true, nil
}

// done removes notice id (sent, or given up) and then gives up its lease.
func (o *Outbox) done(ctx context.Context, id, holder string) {
	_ = o.KV.Delete(ctx, noticeKey+id)
	_ = o.KV.SetRemove(ctx, queueKey, id)
	o.release(ctx, id, holder)
}

// retry stores n (its attempts and next time updated) and gives up its lease.
func (o *Outbox) retry(ctx context.Context, n Notice, holder string) error {
	err := o.put(ctx, n)
	o.release(ctx, n.ID, holder)
	return err
}

func (o *Outbox) release(ctx context.Context, id, holder string) {
	_, _ = o.KV.DeleteIf(ctx, leaseKey+id, []byte(holder))
}
