package users

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// A reload reports the users who could sign in before and cannot after:
// removed, or newly disabled. Users disabled all along, added, or enabled
// again are not reported.
func TestReloadReportsGoneUsers(t *testing.T) {
	pw := mustHash(t, "pw")
	file := func(lines string) string { return "users:\n" + lines }
	user := func(name string, disabled bool) string {
		s := "  " + name + ":\n    password: \"" + pw + "\"\n"
		if disabled {
			s += "    disabled: true\n"
		}
		return s
	}
	db, path := openTestDB(t, file(user("alice", false)+user("bob", false)+user("carol", true)+user("dave", false)))
	type reload struct {
		n    int
		gone []Gone
	}
	reloads := make(chan reload, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.Watch(ctx, 5*time.Millisecond, func(n int, g []Gone) { reloads <- reload{n, g} }, func(err error) { t.Error(err) })
	}()
	defer func() { cancel(); <-done }()
	mtime := time.Now()
	step := func(content string, want []Gone) {
		t.Helper()
		mtime = mtime.Add(time.Second)
		writeFile(t, path, content, mtime)
		select {
		case r := <-reloads:
			if !reflect.DeepEqual(r.gone, want) {
				t.Fatalf("gone = %+v, want %+v", r.gone, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no reload within 5 s")
		}
	}
	// alice removed, bob disabled, carol (disabled before) removed, erin added.
	step(file(user("bob", true)+user("dave", false)+user("erin", false)), []Gone{{"alice", GoneRemoved}, {"bob", GoneDisabled}})
	if db.Known("alice") || !db.Known("bob") || db.Lookup("bob") != nil {
		t.Fatal("Known/Lookup do not follow the reload")
	}
	// alice back, bob enabled again: nobody is gone.
	step(file(user("alice", false)+user("bob", false)+user("dave", false)+user("erin", false)), nil)
	// Everyone at once.
	step("users: {}\n", []Gone{{"alice", GoneRemoved}, {"bob", GoneRemoved}, {"dave", GoneRemoved}, {"erin", GoneRemoved}})
}
