package users

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// A users file that a tool is still writing (in place, over many
// moments) is not read until it has stopped changing for one interval:
// a read in the middle could cut carol's entry before its
// `disabled: true`, and let her sign in. Here the file alternates between
// the cut and the whole for 600 ms, changing every 20 ms, watched every
// 100 ms; carol must never be enabled, and the whole file is read once it
// settles.
//
// The property holds only while the writer never pauses for a whole
// interval (a tool that pauses that long has, for the watch, finished).
// On a loaded machine the test's own writer can be held that long; such
// a run shows nothing either way and is run again (at most 5 times).
func TestWatchWaitsForTheFileToSettle(t *testing.T) {
	for attempt := 1; ; attempt++ {
		if watchSettleRun(t) || attempt == 5 {
			return
		}
		t.Logf("run %d: the writer was held for an interval or more; again", attempt)
	}
}

// watchSettleRun is one run of TestWatchWaitsForTheFileToSettle; it
// reports false if the writer paused for an interval, so the run shows
// nothing.
func watchSettleRun(t *testing.T) bool {
	t.Helper()
	const interval = 100 * time.Millisecond
	pw := mustHash(t, "pw")
	whole := "users:\n  alice:\n    password: \"" + pw + "\"\n  carol:\n    password: \"" + pw + "\"\n    disabled: true\n"
	cut := strings.TrimSuffix(whole, "    disabled: true\n")
	db, path := openTestDB(t, whole)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.Watch(ctx, interval, func(int, []Gone) {}, func(err error) { t.Errorf("users file: %v", err) })
	}()
	defer func() { cancel(); <-done }()

	enabled := make(chan struct{}, 1)
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stopWatch:
				return
			case <-time.After(time.Millisecond):
			}
			if db.Lookup("carol") != nil {
				select {
				case enabled <- struct{}{}:
				default:
				}
			}
		}
	}()
	mtime := time.Now()
	var longest time.Duration
	last := time.Now()
	for i := 0; i < 30; i++ {
		if gap := time.Since(last); gap > longest {
			longest = gap
		}
		last = time.Now()
		content := cut
		if i%2 == 1 {
			content = whole
		}
		mtime = mtime.Add(time.Second)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Settled on the whole file (i = 29): read within two intervals.
	time.Sleep(300 * time.Millisecond)
	close(stopWatch)
	<-watched
	select {
	case <-enabled:
		if longest >= interval*9/10 {
			return false
		}
		t.Fatalf("carol, disabled, could sign in: a half-written users file was read (the writer's longest pause %v)", longest)
	default:
	}
	if db.Lookup("alice") == nil || db.Lookup("carol") != nil {
		t.Fatal("the settled file is not in force")
	}
	return true
}
