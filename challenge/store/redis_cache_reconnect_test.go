package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCachedKVReconnectUnderTheReader: go-redis's PubSub reconnects by itself when a
// PING write fails (PubSub.Ping -> releaseConn -> reconnect). If the reader
// is not inside a read at that moment (busy handling a message, descheduled),
// trackOnce never sees an error: no lose(), no flush; the new connection's
// "subscribe" confirmation is ignored (up is already true) and its PONGs make
// the cache fresh again, and a session deleted while no tracking connection
// was up would be served from memory until MaxAge. The replacement is a loss.
func TestCachedKVReconnectUnderTheReader(t *testing.T) {
	var hold atomic.Bool
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	r := newCacheRig(t, SessionCacheOptions{}, func(kv *CachedKV) {
		kv.beforeMessage = func() {
			if hold.CompareAndSwap(true, false) {
				entered <- struct{}{}
				<-release // the reader is busy / descheduled
			}
		}
	})
	var once sync.Once
	unhold := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unhold)
	ctx := context.Background()
	r.setSeen("session:victim", "signed-in")
	r.mustGet("session:victim", "signed-in")
	r.mustGet("session:victim", "signed-in")
	old := r.trackingID()

	hold.Store(true)
	<-entered
	if err := r.other.Do(ctx, "CLIENT", "KILL", "ID", old).Err(); err != nil {
		t.Fatal(err)
	}
	// Revocation while the tracking connection is dead: its invalidation is lost.
	if err := r.other.Del(ctx, r.prefix+"session:victim").Err(); err != nil {
		t.Fatal(err)
	}
	// The ping goroutine's writes fail; go-redis reconnects the PubSub.
	var now string
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if now = r.trackingIDOrEmpty(); now != "" && now != old {
			break
		}
		if time.Now().After(deadline) {
			unhold()
			t.Fatal("go-redis did not reconnect from the ping path: the case this test is about did not arise")
		}
	}
	t.Logf("tracking connection %s replaced by %s without trackOnce seeing it", old, now)
	unhold()
	time.Sleep(200 * time.Millisecond) // PONGs on the new connection
	select {
	case err := <-r.lost:
		t.Logf("loss seen: %v", err)
	default:
		t.Log("no loss reported")
	}
	served := 0
	for i := 0; i < 20; i++ { // 2 s, 20x MaxStale
		if _, err := r.get("session:victim"); !errors.Is(err, ErrNotFound) {
			served++
		}
		time.Sleep(100 * time.Millisecond)
	}
	if served > 0 {
		t.Fatalf("a session deleted in Redis was served from memory %d times in the 2 s after the reconnect (MaxStale 100ms)", served)
	}
}

func (r *cacheRig) trackingIDOrEmpty() string {
	list, err := r.other.ClientList(context.Background()).Result()
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(list, "\n") {
		if strings.Contains(line, " name="+TrackingClientName+" ") {
			return strings.TrimPrefix(strings.Fields(line)[0], "id=")
		}
	}
	return ""
}
