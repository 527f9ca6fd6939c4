package fakectl

import (
	"fmt"
	"testing"
)

func TestRecorderKeepsErrorsAndCleanups(t *testing.T) {
	rec := NewRecorder(t)
	rec.Errorf("one %d", 1)
	rec.Error("two", 2)
	var order []int
	rec.Cleanup(func() { order = append(order, 1) })
	rec.Cleanup(func() { order = append(order, 2) })
	rec.Run(func() {
		rec.Fatalf("three")
		t.Error("Fatalf returned")
	})
	if got := fmt.Sprint(rec.Errors()); got != "[one 1 two2 three]" {
		t.Errorf("Errors = %q", got)
	}
	if len(order) != 0 {
		t.Error("cleanups ran before Finish")
	}
	rec.Finish()
	rec.Finish() // runs them once
	if fmt.Sprint(order) != "[2 1]" {
		t.Errorf("cleanups ran in order %v, want last first, once", order)
	}
}
