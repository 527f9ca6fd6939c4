package main

import (
	"crypto/sha256"
	"os"
	"syscall"
	"testing"
	"time"
)

// rusageCPU is this process's user+system time by getrusage.
func rusageCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestProcCPU checks the CPU read from /proc/PID/stat against getrusage's
// for this process, after it burns some.
func TestProcCPU(t *testing.T) {
	tick, err := clockTick()
	if err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	for start := rusageCPU(t); rusageCPU(t)-start < 300*time.Millisecond; {
		for range 10000 {
			sum = sha256.Sum256(sum[:])
		}
	}
	proc, err := procCPU(os.Getpid(), tick)
	if err != nil {
		t.Fatal(err)
	}
	// /proc counts whole ticks, getrusage finer: they differ by a few ticks.
	if ru := rusageCPU(t); proc < ru-5*tick || proc > ru+5*tick {
		t.Fatalf("/proc says %s of CPU, getrusage %s", proc, ru)
	}
	if _, err := procCPU(1<<30, tick); err == nil {
		t.Fatal("no error for a process that does not exist")
	}
}
