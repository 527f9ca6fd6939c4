package notify

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/caddy-mfa/caddy-mfa/challenge/store"
)

// writeCountingKV counts the writes made to a KV (each a synced write
// on the embedded store, a round trip on Redis).
type writeCountingKV struct {
	store.KV
	writes atomic.Int32
}

func (k *writeCountingKV) Create(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error) {
	k.writes.Add(1)
	return k.KV.Create(ctx, key, v, ttl)
}

func (k *writeCountingKV) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	k.writes.Add(1)
	return k.KV.Set(ctx, key, v, ttl)
}

func (k *writeCountingKV) Delete(ctx context.Context, key string) error {
	k.writes.Add(1)
	return k.KV.Delete(ctx, key)
}

func (k *writeCountingKV) DeleteIf(ctx context.Context, key string, v []byte) (bool, error) {
	k.writes.Add(1)
	return k.KV.DeleteIf(ctx, key, v)
}

// A poll over notices none of which is due (the mail server is down and
// they wait for their retry) writes nothing: it reads each one's next try
// before taking its lease, so a full outbox does not keep the disk busy.
func TestPollOfNothingDueWritesNothing(t *testing.T) {
	kv := &writeCountingKV{KV: store.NewMemoryKV()}
	o := &Outbox{KV: kv}
	for range 50 {
		n := sampleNotice(MethodAdded, "en")
		n.ID, n.User, n.NextAt = NewID(), NewID(), time.Now().Add(time.Hour)
		if err := o.Enqueue(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	kv.writes.Store(0)
	w := NewWorker(o, map[string]Sender{}, zap.NewNop())
	w.RunOnce(context.Background())
	if n := kv.writes.Load(); n != 0 {
		t.Fatalf("a poll over 50 notices not due made %d writes, want none", n)
	}
}
