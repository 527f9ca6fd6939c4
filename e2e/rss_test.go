package e2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Resource checks read the Caddy process's resident memory from
// /proc/PID/status, as a test of a bound states it.

// readRSS is the resident memory of process pid, in bytes.
func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the status of process %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS line %q: %w", line, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in the status of process %d", pid)
}

// rssPeak samples the resident memory of a process every few
// milliseconds, from its start until stop.
type rssPeak struct {
	peak atomic.Int64
	stop chan struct{}
	done chan struct{}
}

// sampleRSS starts sampling process pid every interval; from is the
// reading to start the peak at.
func sampleRSS(pid int, every time.Duration, from int64) *rssPeak {
	p := &rssPeak{stop: make(chan struct{}), done: make(chan struct{})}
	p.peak.Store(from)
	go func() {
		defer close(p.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			if rss, err := readRSS(pid); err == nil && rss > p.peak.Load() {
				p.peak.Store(rss)
			}
		}
	}()
	return p
}

// Stop ends the sampling, takes one last reading, and returns the peak.
func (p *rssPeak) Stop(pid int) int64 {
	close(p.stop)
	<-p.done
	if rss, err := readRSS(pid); err == nil && rss > p.peak.Load() {
		p.peak.Store(rss)
	}
	return p.peak.Load()
}
