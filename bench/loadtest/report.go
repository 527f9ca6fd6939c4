package main

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// measurement is one row's measured run in one round.
type measurement struct {
	wrkResult
	// perReq is CPU per request by process: caddy, upstream, redis, wrk
	// (a process the row lacks is absent).
	perReq map[string]time.Duration
}

// roles are the processes whose CPU the tables show, in their order.
// redis+ is redis-server's CPU per request beyond its idle rate beside the
// gateway (measure).
var roles = []string{"caddy", "upstream", "redis", "redis+", "wrk"}

// figures are one line of a table: a round's measurement of a row, or the
// medians of a row over every round.
type figures struct {
	rps      float64
	p50, p99 time.Duration
	perReq   map[string]time.Duration
	// toPlain and toFloor are req/s over row 2's and row 3's, and
	// cpuToFloor Caddy's CPU per request over row 3's; 0 where unknown.
	toPlain, toFloor, cpuToFloor float64
}

// roundFigures are the lines of one round, with ratios to rows 2 and 3 of
// the same round.
func roundFigures(rows []*row, ms map[string]measurement) map[string]figures {
	plain, floor := ms["2"], ms["3"]
	out := map[string]figures{}
	for _, r := range rows {
		m := ms[r.id]
		f := figures{rps: m.rps, p50: m.p50, p99: m.p99, perReq: m.perReq}
		if plain.rps > 0 {
			f.toPlain = m.rps / plain.rps
		}
		if floor.rps > 0 {
			f.toFloor = m.rps / floor.rps
		}
		if c, ok := m.perReq["caddy"]; ok && floor.perReq["caddy"] > 0 {
			f.cpuToFloor = float64(c) / float64(floor.perReq["caddy"])
		}
		out[r.id] = f
	}
	return out
}

// medianFigures is each figure's median over the rounds (ratios too: the
// median of each round's ratio, so each ratio stays within one round).
func medianFigures(rounds []map[string]figures, id string) figures {
	var rps, toPlain, toFloor, cpuToFloor []float64
	var p50, p99 []time.Duration
	per := map[string][]time.Duration{}
	for _, round := range rounds {
		f := round[id]
		rps, toPlain, toFloor, cpuToFloor = append(rps, f.rps), append(toPlain, f.toPlain), append(toFloor, f.toFloor), append(cpuToFloor, f.cpuToFloor)
		p50, p99 = append(p50, f.p50), append(p99, f.p99)
		for k, v := range f.perReq {
			per[k] = append(per[k], v)
		}
	}
	out := figures{rps: median(rps), p50: median(p50), p99: median(p99),
		toPlain: median(toPlain), toFloor: median(toFloor), cpuToFloor: median(cpuToFloor), perReq: map[string]time.Duration{}}
	for k, v := range per {
		out.perReq[k] = median(v)
	}
	return out
}

func median[T int64 | float64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

const tableHead = "%-36s %8s %9s %9s %7s %8s %7s %7s %7s %8s %8s %9s\n"

// printTable prints one table: a line per row, CPU in µs per request.
func printTable(w io.Writer, title string, rows []*row, lines map[string]figures) {
	fmt.Fprintf(w, "\n%s\n", title)
	fmt.Fprintf(w, tableHead, "row", "req/s", "p50", "p99", "caddy", "upstream", "redis", "redis+", "wrk", "rps/r2", "rps/r3", "cpu/r3")
	for _, r := range rows {
		f := lines[r.id]
		cpu := func(role string) string {
			v, ok := f.perReq[role]
			if !ok {
				return "-"
			}
			if role == "redis+" {
				return fmt.Sprintf("%.2f", float64(v)/float64(time.Microsecond))
			}
			return fmt.Sprintf("%.1f", float64(v)/float64(time.Microsecond))
		}
		ratio := func(x float64) string {
			if x == 0 {
				return "-"
			}
			return fmt.Sprintf("%.3f", x)
		}
		fmt.Fprintf(w, tableHead, r.name, fmt.Sprintf("%.0f", f.rps), round(f.p50), round(f.p99),
			cpu("caddy"), cpu("upstream"), cpu("redis"), cpu("redis+"), cpu("wrk"), ratio(f.toPlain), ratio(f.toFloor), ratio(f.cpuToFloor))
	}
}

// round shows a latency to the microsecond.
func round(d time.Duration) string { return d.Round(time.Microsecond).String() }
