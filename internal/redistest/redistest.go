// Package redistest gives tests a real Redis: the shared server on
// 127.0.0.1:6379 (or $MFA_TEST_REDIS) under a key prefix of their own, or a
// private redis-server on a free port for tests that stop or fill it.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
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
	cmd  *exec.Cmd
}

// StartServer starts redis-server on a free loopback port with
// append-only persistence in a temporary folder (so a restart loses
// nothing), and stops it when the test ends.
func StartServer(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is needed (apt-get install redis-server; scripts/test.sh does it): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &Server{t: t, dir: t.TempDir(), port: port, Addr: "127.0.0.1:" + strconv.Itoa(port)}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Start starts (or restarts) the server and waits until it answers.
func (s *Server) Start() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--dir", s.dir, "--logfile", filepath.Join(s.dir, "redis.log"))
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer rdb.Close()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if rdb.Ping(context.Background()).Err() == nil {
			return
		}
	}
	s.t.Fatalf("redis-server on %s did not start", s.Addr)
}

// Stop stops the server (a clean shutdown, as an operator's restart would).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// String names the server in messages.
func (s *Server) String() string { return fmt.Sprintf("redis-server %s", s.Addr) }
