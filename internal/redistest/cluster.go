package redistest

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/caddy-mfa/caddy-mfa/internal/netport"
)

// Cluster is a Redis Cluster of three masters (no replicas) on loopback.
type Cluster struct {
	// Nodes are the masters, in the order of Addrs.
	Nodes []*Server
	// Addrs are the nodes' addresses, as clients are given them.
	Addrs []string
	t     testing.TB
}

// clusterNodeTimeout is how long a node must not answer before the others
// mark it failed: longer than any DEBUG SLEEP a test does.
const clusterNodeTimeout = 20 * time.Second

// StartCluster starts three redis-server processes with cluster mode on
// (each its own folder, port and cluster bus port), joins them with
// `redis-cli --cluster create`, waits until every node reports
// cluster_state:ok, and stops them when the test ends. args are further
// redis-server options of every node.
func StartCluster(t testing.TB, args ...string) *Cluster {
	t.Helper()
	needBinary(t, "redis-server")
	needBinary(t, "redis-cli")
	c := &Cluster{t: t}
	for range 3 {
		// The bus port is set explicitly: the default, port+10000, may lie
		// beyond 65535 for a port from the ephemeral range.
		n := StartServer(t, append([]string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-port", strconv.Itoa(netport.Free(t)),
			"--cluster-node-timeout", strconv.FormatInt(clusterNodeTimeout.Milliseconds(), 10)}, args...)...)
		c.Nodes = append(c.Nodes, n)
		c.Addrs = append(c.Addrs, n.Addr)
	}
	create := append([]string{"--cluster", "create"}, c.Addrs...)
	create = append(create, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", create...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	c.waitOK(30 * time.Second)
	return c
}

// waitOK waits until every node reports cluster_state:ok and knows all
// three masters.
func (c *Cluster) waitOK(within time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	var why string
	for time.Now().Before(deadline) {
		if why = c.notOK(); why == "" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("redistest: cluster not ok within %v: %s", within, why)
}

func (c *Cluster) notOK() string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, n := range c.Nodes {
		rdb := redis.NewClient(&redis.Options{Addr: n.Addr})
		info, err := rdb.ClusterInfo(ctx).Result()
		rdb.Close()
		if err != nil {
			return fmt.Sprintf("%s: %v", n.Addr, err)
		}
		if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:3") {
			return fmt.Sprintf("%s: %s", n.Addr, strings.Join(strings.Fields(info)[:3], " "))
		}
	}
	return ""
}

// Client is a cluster client of the default user, closed when the test ends.
func (c *Cluster) Client() *redis.ClusterClient {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs})
	c.t.Cleanup(func() { rdb.Close() })
	return rdb
}
