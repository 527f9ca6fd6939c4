// Package redistest gives tests a real Redis: the shared server on
// 127.0.0.1:6379 (or $MFA_TEST_REDIS) under a key prefix of their own, or a
// private redis-server on a free port for tests that stop or fill it.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/caddy-mfa/caddy-mfa/internal/netport"
)

// Addr is the shared test Redis.
func Addr() string {
	if a := os.Getenv("MFA_TEST_REDIS"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// Client connects to the shared Redis and returns a key prefix unique to
// this test; every key under it is deleted when the test ends. A Redis that
// cannot be reached fails the test: scripts/test.sh starts one.
func Client(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: Addr()})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at %s is needed (scripts/test.sh starts it): %v", Addr(), err)
	}
	prefix := "mfatest:" + randomHex(6) + ":"
	t.Cleanup(func() {
		DeletePrefix(context.Background(), rdb, prefix)
		rdb.Close()
	})
	return rdb, prefix
}

// DeletePrefix removes every key under prefix.
func DeletePrefix(ctx context.Context, rdb redis.UniversalClient, prefix string) {
	iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
}

// Advance makes every key under prefix behave as if d had passed: TTLs
// shrink by d and keys whose TTL runs out are deleted. It stands in for a
// clock Redis does not let tests move.
func Advance(t testing.TB, rdb redis.UniversalClient, prefix string, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl < 0 { // no expiry, or gone meanwhile
			continue
		}
		if ttl <= d {
			rdb.Del(ctx, k)
		} else {
			rdb.PExpire(ctx, k, ttl-d)
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Server is a private redis-server, for tests that stop or restart it.
type Server struct {
	t    testing.TB
	Addr string
	dir  string
	port int
	args []string
	cmd  *exec.Cmd
}

// StartServer starts redis-server on a free loopback port with
// append-only persistence in a temporary folder (so a restart loses
// nothing), and stops it when the test ends. args are further
// redis-server options, such as "--replicaof", "127.0.0.1", "6380".
// DEBUG (DEBUG SLEEP, to slow the server down) is allowed from loopback.
func StartServer(t testing.TB, args ...string) *Server {
	t.Helper()
	needBinary(t, "redis-server")
	port := netport.Free(t)
	s := &Server{t: t, dir: t.TempDir(), port: port, Addr: "127.0.0.1:" + strconv.Itoa(port), args: args}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// needBinary fails the test if name is not installed.
func needBinary(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is needed (apt-get install redis-server redis-tools; scripts/test.sh does it): %v", name, err)
	}
}

// Start starts (or restarts) the server and waits until it answers.
func (s *Server) Start() {
	s.t.Helper()
	args := append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--dir", s.dir, "--logfile", filepath.Join(s.dir, "redis.log"),
		"--enable-debug-command", "local"}, s.args...)
	s.cmd = exec.Command("redis-server", args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	if err := waitPing(s.Addr, 10*time.Second); err != nil {
		s.t.Fatalf("redis-server on %s did not start: %v; log:\n%s", s.Addr, err, readLog(s.dir, "redis.log"))
	}
}

// Dir is the server's working folder (its log is redis.log there).
func (s *Server) Dir() string { return s.dir }

// Client is a client of this server as its default user, closed when the
// test ends.
func (s *Server) Client() *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr})
	s.t.Cleanup(func() { rdb.Close() })
	return rdb
}

// waitPing waits until addr answers PING.
func waitPing(addr string, within time.Duration) error {
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rdb.Close()
	var err error
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
	}
	return err
}

// readLog returns a process's log file, for failure messages.
func readLog(dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return err.Error()
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Stop stops the server (a clean shutdown, as an operator's restart would).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	stopProcess(s.cmd)
	s.cmd = nil
}

// stopProcess interrupts a started process and waits for it, killing it
// if it has not ended within 10 seconds.
func stopProcess(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// String names the server in messages.
func (s *Server) String() string { return fmt.Sprintf("redis-server %s", s.Addr) }
