package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/caddy-mfa/caddy-mfa/internal/redistest"
)

// TestCachedKVSentinelFailover: after a Sentinel failover, the tracking
// connection is on the new master (Sentinel kills the Pub/Sub connections
// of the one it demotes, and the dialer asks the sentinels), so a change
// made there is seen.
func TestCachedKVSentinelFailover(t *testing.T) {
	s := redistest.StartSentinel(t, redistest.SentinelOptions{Sentinels: 1})
	ctx := context.Background()
	fo := &redis.FailoverOptions{MasterName: s.MasterName, SentinelAddrs: s.Addrs, ReadTimeout: time.Second, WriteTimeout: time.Second}
	main := redis.NewFailoverClient(fo)
	defer main.Close()
	kv := NewCachedKV(NewRedisKV(main, "sf:"), SessionCacheOptions{})
	tr := redis.NewFailoverClient(kv.TrackingFailoverOptions(fo))
	defer tr.Close()
	up := make(chan struct{}, 10)
	tctx, cancel := context.WithCancel(ctx)
	wait := kv.Track(tctx, tr, TrackingEvents{Up: func() { up <- struct{}{} }})
	defer func() { cancel(); wait() }()
	waitUp := func() {
		t.Helper()
		select {
		case <-up:
		case <-time.After(20 * time.Second):
			t.Fatal("tracking did not come up")
		}
	}
	waitUp()
	named := func(srv *redistest.Server) bool {
		list, err := srv.Client().ClientList(ctx).Result()
		return err == nil && strings.Contains(list, " name="+TrackingClientName+" ")
	}
	if !named(s.Master) {
		t.Fatal("the tracking connection is not on the master")
	}
	if err := kv.Set(ctx, "session:f", []byte("v1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if v, err := kv.Get(ctx, "session:f"); err != nil || string(v) != "v1" {
		t.Fatal(string(v), err)
	}
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.Addrs[0]})
	defer sc.Close()
	if err := sc.Failover(ctx, s.MasterName).Err(); err != nil {
		t.Fatal(err)
	}
	waitUp()
	for deadline := time.Now().Add(20 * time.Second); !named(s.Replica); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the tracking connection did not move to the new master")
		}
	}
	// A change made on the new master is seen.
	newMaster := s.Replica.Client()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if err := newMaster.Set(ctx, "sf:session:f", "v2", time.Hour).Err(); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the replica did not become master: %v", err)
		}
	}
	start := time.Now()
	for {
		v, _ := kv.Get(ctx, "session:f")
		if string(v) == "v2" {
			break
		}
		if time.Since(start) > 100*time.Millisecond {
			t.Fatalf("still %q %v after the change on the new master", v, time.Since(start))
		}
	}
}
