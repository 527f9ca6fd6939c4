package redistest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/caddy-mfa/caddy-mfa/internal/netport"
)

// SentinelOptions shape a Sentinel group.
type SentinelOptions struct {
	// Sentinels is how many sentinel processes watch the master, 1 to 3.
	// Default: 1.
	Sentinels int
	// DownAfter is how long the master must not answer before the
	// sentinels fail over to the replica. Default: 30s (longer than any
	// DEBUG SLEEP a test does, so that a slow master stays the master).
	DownAfter time.Duration
	// Args are further redis-server options of the master and the replica.
	Args []string
}

// Sentinel is a Redis Sentinel group on loopback: a master, one replica of
// it, and sentinels that watch them under MasterName.
type Sentinel struct {
	// MasterName is the name the sentinels know the master by.
	MasterName string
	// Master and Replica are the data servers.
	Master, Replica *Server
	// Addrs are the sentinels' addresses, as clients are given them.
	Addrs []string
	t     testing.TB
	dirs  []string
	cmds  []*exec.Cmd
}

// StartSentinel starts a master, a replica and o.Sentinels sentinels (each
// `redis-server sentinel.conf --sentinel` with a generated configuration
// in a folder of its own), waits until every sentinel sees the master, the
// replica and the other sentinels, and stops them all when the test ends.
func StartSentinel(t testing.TB, o SentinelOptions) *Sentinel {
	t.Helper()
	needBinary(t, "redis-server")
	n := o.Sentinels
	if n == 0 {
		n = 1
	}
	if n < 1 || n > 3 {
		t.Fatalf("redistest: %d sentinels; give 1 to 3", n)
	}
	downAfter := o.DownAfter
	if downAfter == 0 {
		downAfter = 30 * time.Second
	}
	master := StartServer(t, o.Args...)
	replica := StartServer(t, append([]string{"--replicaof", "127.0.0.1", strconv.Itoa(master.port)}, o.Args...)...)
	s := &Sentinel{MasterName: "mfa-test-master", Master: master, Replica: replica, t: t}
	t.Cleanup(s.stop)
	quorum := n/2 + 1
	for range n {
		port := netport.Free(t)
		dir := t.TempDir()
		conf := fmt.Sprintf(`port %d
bind 127.0.0.1
dir %s
logfile %s
sentinel monitor %s 127.0.0.1 %d %d
sentinel down-after-milliseconds %[4]s %d
sentinel failover-timeout %[4]s 60000
sentinel parallel-syncs %[4]s 1
`, port, dir, filepath.Join(dir, "sentinel.log"), s.MasterName, master.port, quorum, downAfter.Milliseconds())
		path := filepath.Join(dir, "sentinel.conf")
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("redis-server", path, "--sentinel")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		s.cmds = append(s.cmds, cmd)
		s.dirs = append(s.dirs, dir)
		s.Addrs = append(s.Addrs, "127.0.0.1:"+strconv.Itoa(port))
	}
	s.waitReady(n, 30*time.Second)
	return s
}

// waitReady waits until the replica is in sync and every sentinel names
// the master, knows the replica and sees the n-1 other sentinels.
func (s *Sentinel) waitReady(n int, within time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(within)
	var why string
	for time.Now().Before(deadline) {
		why = s.notReady(n)
		if why == "" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	logs := ""
	for _, d := range s.dirs {
		logs += readLog(d, "sentinel.log") + "\n"
	}
	s.t.Fatalf("redistest: Sentinel group not ready within %v: %s; sentinel logs:\n%s", within, why, logs)
}

// notReady says what the group still lacks, or "" when it is ready.
func (s *Sentinel) notReady(n int) string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	rep := redis.NewClient(&redis.Options{Addr: s.Replica.Addr})
	defer rep.Close()
	info, err := rep.Info(ctx, "replication").Result()
	if err != nil || !strings.Contains(info, "master_link_status:up") {
		return fmt.Sprintf("replica not in sync (%v)", err)
	}
	for _, addr := range s.Addrs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: addr})
		m, err := sc.Master(ctx, s.MasterName).Result()
		if err != nil {
			sc.Close()
			return fmt.Sprintf("sentinel %s: %v", addr, err)
		}
		replicas, err := sc.Replicas(ctx, s.MasterName).Result()
		sc.Close()
		if err != nil {
			return fmt.Sprintf("sentinel %s: replicas: %v", addr, err)
		}
		switch {
		case m["ip"]+":"+m["port"] != s.Master.Addr:
			return fmt.Sprintf("sentinel %s names master %s:%s", addr, m["ip"], m["port"])
		case m["flags"] != "master":
			return fmt.Sprintf("sentinel %s sees the master as %q", addr, m["flags"])
		case m["num-slaves"] != "1" || len(replicas) != 1 || replicas[0]["flags"] != "slave":
			return fmt.Sprintf("sentinel %s does not see the replica yet", addr)
		case m["num-other-sentinels"] != strconv.Itoa(n-1):
			return fmt.Sprintf("sentinel %s sees %s other sentinels, want %d", addr, m["num-other-sentinels"], n-1)
		}
	}
	return ""
}

// stop ends the sentinels (the servers stop by their own cleanup).
func (s *Sentinel) stop() {
	for _, c := range s.cmds {
		stopProcess(c)
	}
	s.cmds = nil
}
