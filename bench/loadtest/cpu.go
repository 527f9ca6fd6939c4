package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The CPU a process has used, read from /proc/PID/stat just before and just
// after a measured run: its user and system time (fields 14 and 15), in
// clock ticks of CLK_TCK (normally 100 a second: 10 ms granularity, about
// 0.1 % of what a process busy through a 10-second run uses).

// clockTick is the length of one clock tick of /proc/PID/stat.
func clockTick() (time.Duration, error) {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		return 0, fmt.Errorf("getconf CLK_TCK: %w", err)
	}
	hz, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || hz <= 0 {
		return 0, fmt.Errorf("getconf CLK_TCK: %q", out)
	}
	return time.Second / time.Duration(hz), nil
}

// procCPU is the user+system CPU time process pid has used so far.
func procCPU(pid int, tick time.Duration) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("CPU of process %d: %w", pid, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// the fields to count start after its closing one.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("CPU of process %d: no command name in %q", pid, s)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state), so fields 14 and 15 are f[11] and f[12].
	if len(f) < 13 {
		return 0, fmt.Errorf("CPU of process %d: %d fields in its stat", pid, len(f)+2)
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("CPU of process %d: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * tick, nil
}

// cpuMeter reads the CPU of the processes of one row.
type cpuMeter struct {
	tick time.Duration
	// pids by role: "caddy", "upstream", "redis"; a role without a
	// process in the row is absent.
	pids map[string]int
}

// read is each role's CPU so far.
func (m cpuMeter) read() (map[string]time.Duration, error) {
	out := make(map[string]time.Duration, len(m.pids))
	for role, pid := range m.pids {
		t, err := procCPU(pid, m.tick)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", role, err)
		}
		out[role] = t
	}
	return out, nil
}
