package fakectl

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestFailNextIsForOneRequest(t *testing.T) {
	var c Control[int]
	if fail, ok := c.Next(t.Context()); fail != 0 || !ok {
		t.Fatalf("untouched Next = %d, %v; want 0, true", fail, ok)
	}
	c.FailNext(500)
	c.FailNext(503) // replaces
	if fail, ok := c.Next(t.Context()); fail != 503 || !ok {
		t.Errorf("Next = %d, %v; want 503, true", fail, ok)
	}
	if fail, _ := c.Next(t.Context()); fail != 0 {
		t.Errorf("second Next = %d; want 0", fail)
	}
	c.FailNext(500)
	c.FailNext(0) // takes it back
	if fail, _ := c.Next(t.Context()); fail != 0 {
		t.Errorf("Next after FailNext(0) = %d; want 0", fail)
	}
}

func TestFailNextTakesAStruct(t *testing.T) {
	type apiError struct {
		Status int
		Text   string
	}
	var c Control[apiError]
	c.FailNext(apiError{400, "bad number"})
	if fail, _ := c.Next(t.Context()); fail != (apiError{400, "bad number"}) {
		t.Errorf("Next = %+v", fail)
	}
	if fail, _ := c.Next(t.Context()); fail != (apiError{}) {
		t.Errorf("second Next = %+v; want none", fail)
	}
}

func TestHangNextWaitsOnce(t *testing.T) {
	var c Control[int]
	c.FailNext(502)
	c.HangNext(50 * time.Millisecond)
	start := time.Now()
	fail, ok := c.Next(t.Context())
	if d := time.Since(start); d < 50*time.Millisecond || fail != 502 || !ok {
		t.Errorf("Next = %d, %v after %v; want 502, true after 50ms", fail, ok, d)
	}
	start = time.Now()
	if _, ok := c.Next(t.Context()); !ok || time.Since(start) > 20*time.Millisecond {
		t.Errorf("second Next waited %v (ok %v); want no wait", time.Since(start), ok)
	}
}

func TestHangEndsWithTheRequest(t *testing.T) {
	var c Control[int]
	c.FailNext(500)
	c.HangNext(time.Minute)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if fail, ok := c.Next(ctx); ok || fail != 0 || time.Since(start) > time.Second {
		t.Errorf("Next = %d, %v after %v; want 0, false at once", fail, ok, time.Since(start))
	}
}

func TestEndHangsEndsHangs(t *testing.T) {
	var c Control[int]
	c.HangNext(time.Minute)
	done := make(chan bool)
	go func() {
		_, ok := c.Next(context.Background())
		done <- ok
	}()
	time.Sleep(20 * time.Millisecond)
	c.EndHangs()
	select {
	case ok := <-done:
		if ok {
			t.Error("Next after EndHangs = ok; want dropped")
		}
	case <-time.After(time.Second):
		t.Fatal("EndHangs did not end the hang")
	}
	c.EndHangs() // twice is harmless
	c.HangNext(time.Minute)
	if _, ok := c.Next(context.Background()); ok {
		t.Error("Next hung after EndHangs = ok; want dropped at once")
	}
}

func TestRejectRecordsInOrder(t *testing.T) {
	var c Control[int]
	if got := c.Reject("bad %s", "path"); got != "bad path" {
		t.Errorf("Reject returned %q", got)
	}
	c.Reject("no credentials")
	got := c.Rejected()
	if fmt.Sprint(got) != "[bad path no credentials]" {
		t.Errorf("Rejected = %q", got)
	}
	got[0] = "changed"
	if c.Rejected()[0] != "bad path" {
		t.Error("Rejected shares its slice with the caller")
	}
}

func TestControlIsSafeForConcurrentUse(t *testing.T) {
	var c Control[int]
	var wg sync.WaitGroup
	fails := make(chan int, 100)
	for i := range 50 {
		wg.Go(func() {
			c.FailNext(i + 1)
			c.HangNext(time.Microsecond)
			c.Reject("r%d", i)
			fail, _ := c.Next(t.Context())
			fails <- fail
			_ = c.Rejected()
		})
	}
	wg.Wait()
	close(fails)
	n := 0
	for f := range fails {
		if f != 0 {
			n++
		}
	}
	if n == 0 || n > 50 {
		t.Errorf("%d requests failed; want 1 to 50", n)
	}
	if len(c.Rejected()) != 50 {
		t.Errorf("%d rejected, want 50", len(c.Rejected()))
	}
	c.EndHangs()
}
