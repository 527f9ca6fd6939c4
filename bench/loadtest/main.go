// Command loadtest measures what the gateway costs per request against
// plain Caddy reverse_proxy and against the floor of any inline gateway
// (reverse_proxy that sets the identity headers and strips a cookie), in
// one run, with one load generator (wrk) and the same settings for every
// row, in interleaved rounds. Besides req/s and latency it reports the CPU
// each process (Caddy, the upstream, redis-server, wrk) used per request.
// bench/run.sh builds Caddy and runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	caddyBin := flag.String("caddy", "", "Caddy binary with the plugin (required)")
	duration := flag.Duration("duration", 10*time.Second, "length of each measured load run")
	conns := flag.Int("connections", 16, "concurrent connections of each run")
	maxReq := flag.Int("max-requests", 2_000_000, "requests after which each run stops, whatever its duration")
	rounds := flag.Int("rounds", 3, "rounds: each measures every row once, in order, before the next round")
	redisURL := flag.String("redis", "redis://127.0.0.1:6379/0", "Redis for the Redis row (row 5); empty to leave the row out")
	profile := flag.String("pprof", "", "folder to write a CPU profile of Caddy during each measured run")
	only := flag.String("rows", "", "comma-separated row numbers to measure (all are set up), e.g. 2,3,6; empty for all")
	appPwLimit := flag.String("app-password-per-user", "", "row 6's limits app_password_per_user as n/duration; empty for the gateway's default (10/1m)")
	upstream := flag.String("serve-upstream", "", "") // internal: run as the upstream at this address
	flag.Parse()
	if *upstream != "" {
		log.Fatal(serveUpstream(*upstream))
	}
	if *caddyBin == "" || *rounds < 1 || *duration < time.Second {
		log.Fatal("-caddy is required, -rounds at least 1, -duration at least 1s")
	}
	b := &bench{caddy: *caddyBin, duration: *duration, conns: *conns, maxReq: *maxReq, redisURL: *redisURL, profile: *profile, only: *only, appPwLimit: *appPwLimit}
	// An interrupt ends the run in progress and stops what it started.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := b.run(ctx, os.Stdout, *rounds)
	cancel()
	if err != nil {
		log.Fatal(err)
	}
}

type bench struct {
	caddy    string
	duration time.Duration
	conns    int
	maxReq   int
	redisURL string
	profile  string // folder for CPU profiles, or ""
	// only is the rows to measure (-rows), or "" for all.
	only string
	// appPwLimit is row 6's app_password_per_user, or "" for the default.
	appPwLimit string
	dir        string
	script     string
	tick       time.Duration // of /proc/PID/stat
	upstream   *proc
}

// warmUp is the unmeasured run before each measured one.
const warmUp = 2 * time.Second

// sessionIdle is the gateway's default session idle timeout: a row's
// session must be used again within it, so a round must be shorter.
const sessionIdle = 30 * time.Minute

func (b *bench) run(ctx context.Context, w io.Writer, rounds int) (err error) {
	if b.tick, err = clockTick(); err != nil {
		return err
	}
	if b.dir, err = os.MkdirTemp("", "caddy-mfa-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.dir)
	if b.script, err = filepath.Abs("bench/loadtest/wrk.lua"); err != nil {
		return err
	}
	if b.upstream, err = startUpstream(b.dir); err != nil {
		return err
	}
	defer b.upstream.stop()
	all, err := b.setUp(ctx)
	defer func() {
		for _, r := range all {
			r.stop()
		}
	}()
	if err != nil {
		return err
	}
	rows, err := b.measured(all)
	if err != nil {
		return err
	}
	if roundTime := time.Duration(len(rows)) * (warmUp + b.duration); roundTime >= sessionIdle {
		return fmt.Errorf("a round takes %s, longer than the session idle timeout (%s): shorten -duration", roundTime, sessionIdle)
	}
	fmt.Fprintf(w, "wrk -t1 -c%d -d%s (at most %d requests; %s warm-up before each) against 127.0.0.1; %d cores; %d rounds\n",
		b.conns, b.duration, b.maxReq, warmUp, runtime.NumCPU(), rounds)
	fmt.Fprintln(w, "every row's Caddy (and the upstream, its own process) runs through all rounds; each gateway row signed in once")
	fmt.Fprintln(w, "caddy, upstream, redis, wrk: CPU (user+system, /proc/PID/stat) of that process per request, in µs")
	if b.appPwLimit != "" {
		fmt.Fprintf(w, "row 6: HTTP Basic auth with an app password, no cookie; limits app_password_per_user %s (not the default 10/1m)\n", b.appPwLimit)
	} else {
		fmt.Fprintln(w, "row 6: HTTP Basic auth with an app password, no cookie; the gateway's default limits")
	}
	fmt.Fprintln(w, "rps/r2, rps/r3: req/s over row 2's and the floor's (row 3) of the same round; cpu/r3: Caddy CPU per request over the floor's")
	var results []map[string]figures
	for i := 1; i <= rounds; i++ {
		ms := map[string]measurement{}
		for _, r := range rows {
			m, err := b.measure(ctx, r, i)
			if err != nil {
				return fmt.Errorf("round %d: %w", i, err)
			}
			ms[r.id] = m
		}
		f := roundFigures(rows, ms)
		results = append(results, f)
		printTable(w, fmt.Sprintf("round %d", i), rows, f)
	}
	med := map[string]figures{}
	for _, r := range rows {
		med[r.id] = medianFigures(results, r.id)
	}
	printTable(w, fmt.Sprintf("median of %d rounds (ratios: median of each round's ratio)", rounds), rows, med)
	return nil
}

// setUp starts every row's Caddy and signs in, once for all rounds. On
// error it returns the rows started so far, to stop.
func (b *bench) setUp(ctx context.Context) ([]*row, error) {
	rows := []*row{b.upstreamRow()}
	add := func(r *row, err error) error {
		if err == nil {
			rows = append(rows, r)
		}
		return err
	}
	if err := add(b.plainRow()); err != nil {
		return rows, err
	}
	embeddedRow, cookie, err := b.gatewayRow(ctx, embedded)
	if err != nil {
		return rows, err
	}
	floor, err := b.floorRow(cookie)
	if err != nil {
		embeddedRow.stop()
		return rows, err
	}
	rows = append(rows, floor, embeddedRow)
	if b.redisURL != "" {
		r, _, err := b.gatewayRow(ctx, withRedis)
		if err := add(r, err); err != nil {
			return rows, err
		}
	}
	r, _, err := b.gatewayRow(ctx, appPassword)
	return rows, add(r, err)
}

// measured is the rows -rows names, in their order (every row if none).
// Stopping stays with the caller, which has every row.
func (b *bench) measured(rows []*row) ([]*row, error) {
	if b.only == "" {
		return rows, nil
	}
	var out []*row
	for _, id := range strings.Split(b.only, ",") {
		i := slices.IndexFunc(rows, func(r *row) bool { return r.id == strings.TrimSpace(id) })
		if i < 0 {
			return nil, fmt.Errorf("-rows: no row %q", id)
		}
		out = append(out, rows[i])
	}
	return out, nil
}
