package main

import (
	"crypto/sha256"
	"os"
	"testing"
	"time"
)

// TestProcCPU checks that the CPU read from /proc/PID/stat grows by about
// what this process burns.
func TestProcCPU(t *testing.T) {
	tick, err := clockTick()
	if err != nil {
		t.Fatal(err)
	}
	before, err := procCPU(os.Getpid(), tick)
	if err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
		sum = sha256.Sum256(sum[:])
	}
	after, err := procCPU(os.Getpid(), tick)
	if err != nil {
		t.Fatal(err)
	}
	// At least most of the 300 ms on a busy machine, and not absurdly more.
	if d := after - before; d < 100*time.Millisecond || d > 5*time.Second {
		t.Fatalf("CPU grew by %s while burning 300 ms", d)
	}
	if _, err := procCPU(1<<30, tick); err == nil {
		t.Fatal("no error for a process that does not exist")
	}
}
