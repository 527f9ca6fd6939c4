package caddymodule

import (
	"context"
	"time"
)

// every calls fn every interval (with first, also once at once) until fn
// reports that it is done or ctx ends: the loop of the app's background
// work (the users watch, the Redis re-checks, the app-password index).
func every(ctx context.Context, interval time.Duration, first bool, fn func() (done bool)) {
	if first && fn() {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if fn() {
			return
		}
	}
}
