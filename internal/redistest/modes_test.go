package redistest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestStartSentinel: a failover client given the sentinels writes to the
// master, and the write reaches the replica.
func TestStartSentinel(t *testing.T) {
	s := StartSentinel(t, SentinelOptions{Sentinels: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rdb := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: s.MasterName, SentinelAddrs: s.Addrs})
	defer rdb.Close()
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Master.Client().Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("master holds %q, %v", v, err)
	}
	rep := s.Replica.Client()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if v, _ := rep.Get(ctx, "k").Result(); v == "v" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the write did not reach the replica")
		}
	}
}

// TestStartCluster: keys of every node's slots can be written, and the
// three nodes share the 16384 slots.
func TestStartCluster(t *testing.T) {
	c := StartCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rdb := c.Client()
	for i := range 30 {
		if err := rdb.Set(ctx, fmt.Sprintf("k%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	slots := 0
	for _, n := range c.Nodes {
		keys, err := n.Client().DBSize(ctx).Result()
		if err != nil || keys == 0 {
			t.Fatalf("node %s holds %d keys (%v): the keys do not spread", n.Addr, keys, err)
		}
	}
	ranges, err := rdb.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ranges {
		slots += int(r.End-r.Start) + 1
	}
	if len(ranges) != 3 || slots != 16384 {
		t.Fatalf("%d slot ranges cover %d slots", len(ranges), slots)
	}
}
