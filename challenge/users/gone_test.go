package users

import (
	"context"
	"reflect"
	"strings"
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
	step(file(user("erin", false)), []Gone{{"alice", GoneRemoved}, {"bob", GoneRemoved}, {"dave", GoneRemoved}})
}

// A users file that lists no users at all (`users: {}`), read where there
// were users, is refused like a broken file: the users read before stay in
// force, and nobody is reported gone. Removing everyone is done by
// disabling them, or by stopping the gateway.
func TestReloadRefusesEmptyUsers(t *testing.T) {
	pw := mustHash(t, "pw")
	db, path := openTestDB(t, "users:\n  alice:\n    password: \""+pw+"\"\n")
	errs := make(chan error, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.Watch(ctx, 5*time.Millisecond, func(_ int, g []Gone) { t.Errorf("reloaded a file with no users; gone %v", g) },
			func(err error) { errs <- err })
	}()
	defer func() { cancel(); <-done }()
	writeFile(t, path, "users: {}\n", time.Now().Add(time.Second))
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "no users") {
			t.Errorf("error %q does not say the file lists no users", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no error within 5 s")
	}
	if db.Lookup("alice") == nil {
		t.Error("alice was dropped by a file with no users")
	}
}
