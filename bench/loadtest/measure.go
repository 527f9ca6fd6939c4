package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// measure runs a warm-up and then the measured run of r, reading the CPU
// of r's processes just before and just after the measured one.
func (b *bench) measure(ctx context.Context, r *row, round int) (measurement, error) {
	var idle float64 // redis-server's CPU seconds per second beside this gateway, unloaded
	if r.redisPID != 0 {
		var err error
		if idle, err = idleCPU(ctx, b.tick, r.redisPID, redisIdleSample); err != nil {
			return measurement{}, err
		}
	}
	if _, err := b.wrk(ctx, r, warmUp); err != nil {
		return measurement{}, b.failed(ctx, r, "warm-up", err)
	}
	meter := cpuMeter{tick: b.tick, pids: map[string]int{"upstream": b.upstream.pid()}}
	if r.caddy != nil {
		meter.pids["caddy"] = r.caddy.pid()
	}
	if r.redisPID != 0 {
		meter.pids["redis"] = r.redisPID
	}
	if b.profile != "" && r.caddy != nil && r.caddy.admin != "" {
		done := make(chan error, 1)
		go func() { done <- b.cpuProfile(ctx, r, round) }()
		defer func() {
			if err := <-done; err != nil {
				log.Printf("profile of %s: %v", r.name, err)
			}
		}()
	}
	cpu0, err := meter.read()
	if err != nil {
		return measurement{}, err
	}
	t0 := time.Now()
	res, err := b.wrk(ctx, r, b.duration)
	if err != nil {
		return measurement{}, b.failed(ctx, r, "measured run", err)
	}
	cpu1, err := meter.read()
	elapsed := time.Since(t0)
	if err != nil {
		return measurement{}, err
	}
	m := measurement{wrkResult: res, perReq: map[string]time.Duration{}}
	if res.requests > 0 {
		for role, t := range cpu1 {
			m.perReq[role] = (t - cpu0[role]) / time.Duration(res.requests)
		}
		m.perReq["wrk"] = res.cpu / time.Duration(res.requests)
		if r.redisPID != 0 {
			// What the requests cost redis-server beyond what it spends
			// anyway beside the gateway (its cron, the session cache's
			// PINGs): the idle rate over the run's length comes off.
			extra := cpu1["redis"] - cpu0["redis"] - time.Duration(idle*float64(elapsed))
			m.perReq["redis+"] = max(0, extra) / time.Duration(res.requests)
		}
	}
	return m, nil
}

// redisIdleSample is how long redis-server's CPU is read, unloaded,
// before the Redis row's warm-up.
const redisIdleSample = 4 * time.Second

// idleCPU is pid's CPU seconds per second over d, with nothing else asked
// of it by the bench.
func idleCPU(ctx context.Context, tick time.Duration, pid int, d time.Duration) (float64, error) {
	m := cpuMeter{tick: tick, pids: map[string]int{"p": pid}}
	a, err := m.read()
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(d):
	}
	b, err := m.read()
	if err != nil {
		return 0, err
	}
	return (b["p"] - a["p"]).Seconds() / time.Since(t0).Seconds(), nil
}

// failed is the error of r's failed run (what), with the end of its
// Caddy's log unless the run was interrupted.
func (b *bench) failed(ctx context.Context, r *row, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	return fmt.Errorf("%s: %w%s", what, err, r.caddyLog())
}

// cpuProfile saves a CPU profile of r's Caddy during a measured run.
func (b *bench) cpuProfile(ctx context.Context, r *row, round int) error {
	secs := max(1, int(b.duration.Seconds())-2)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", r.caddy.admin, secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := os.MkdirAll(b.profile, 0o755); err != nil {
		return err
	}
	name := strings.NewReplacer(" ", "-", ",", "", "+", "", ":", "").Replace(r.name)
	f, err := os.Create(filepath.Join(b.profile, fmt.Sprintf("%s-round%d.pprof", name, round)))
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}
