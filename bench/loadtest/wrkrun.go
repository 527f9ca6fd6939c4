package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkResult is one wrk run that passed every check of wrk.lua.
type wrkResult struct {
	requests int64
	rps      float64
	p50, p99 time.Duration
	// cpu is wrk's own user+system time.
	cpu time.Duration
}

var (
	resultRE = regexp.MustCompile(`RESULT requests=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+) errors=(\d+) non200=(\d+) wrong_user=(\d+) wrong_cookie=(\d+) leaked_auth=(\d+)`)
	sampleRE = regexp.MustCompile(`(?m)^SAMPLE .*$`)
)

// wrk runs the load generator for d against r's target, with r's headers
// and expectations; any socket error, response other than 200, or 200
// that did not reach the upstream as r expects fails it.
func (b *bench) wrk(ctx context.Context, r *row, d time.Duration) (wrkResult, error) {
	args := []string{"-t1", "-c" + strconv.Itoa(b.conns), "-d" + strconv.Itoa(int(d.Seconds())) + "s", "--timeout", "5s", "-s", b.script}
	for _, h := range r.headers {
		args = append(args, "-H", h)
	}
	args = append(args, r.target+"/bench/page")
	cmd := exec.CommandContext(ctx, "wrk", args...)
	cmd.Env = append(os.Environ(), "MAX_REQUESTS="+strconv.Itoa(b.maxReq),
		"EXPECT_USER="+r.expect.user, "EXPECT_IDENTITY="+r.expect.identity, "EXPECT_COOKIE="+r.expect.cookie)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	m := resultRE.FindStringSubmatch(string(out))
	if m == nil {
		return wrkResult{}, fmt.Errorf("no result from wrk:\n%s", out)
	}
	n := func(i int) int64 { v, _ := strconv.ParseInt(m[i], 10, 64); return v }
	if errs, non200, user, cookie, auth := n(5), n(6), n(7), n(8), n(9); errs+non200+user+cookie+auth > 0 {
		return wrkResult{}, fmt.Errorf("row %q failed: of %d responses, %d socket errors, %d not 200, %d 200s without the identity %q/%q at the upstream, %d 200s whose cookies at the upstream were not %q (leaked: the gateway's cookie reached it), %d with an Authorization header at the upstream; first ones:\n%s",
			r.name, n(1), errs, non200, user, r.expect.user, r.expect.identity, cookie, r.expect.cookie, auth,
			strings.Join(sampleRE.FindAllString(string(out), -1), "\n"))
	}
	return wrkResult{
		requests: n(1),
		rps:      float64(n(1)) / (float64(n(2)) / 1e6),
		p50:      time.Duration(n(3)) * time.Microsecond,
		p99:      time.Duration(n(4)) * time.Microsecond,
		cpu:      cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(),
	}, nil
}
