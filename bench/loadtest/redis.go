package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// redisPID is the process id of the redis-server rdb talks to (INFO
// server's process_id), checked to be a redis-server process on this
// machine, whose CPU /proc shows.
func redisPID(ctx context.Context, rdb *redis.Client) (int, error) {
	info, err := rdb.Info(ctx, "server").Result()
	if err != nil {
		return 0, fmt.Errorf("INFO server: %w", err)
	}
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || k != "process_id" {
			continue
		}
		pid, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("INFO server process_id %q: %w", v, err)
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil {
			return 0, fmt.Errorf("redis-server's process %d is not on this machine (its CPU is read from /proc): %w", pid, err)
		}
		if !strings.HasPrefix(string(comm), "redis-server") {
			return 0, fmt.Errorf("process %d (INFO server process_id) is %q, not redis-server: is Redis in another PID namespace?", pid, strings.TrimSpace(string(comm)))
		}
		return pid, nil
	}
	return 0, fmt.Errorf("no process_id in INFO server")
}
