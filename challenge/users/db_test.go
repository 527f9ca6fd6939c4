package users

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// usersFile is a users file with alice (password alicePW, in staff) and bob
// (disabled, password bob-pw).
func usersFile(t *testing.T, alicePW string) string {
	t.Helper()
	return fmt.Sprintf(`users:
  alice:
    displayname: Alice
    password: "%s"
    email: alice@example.com
    groups: [staff]
  bob:
    displayname: Bob
    password: "%s"
    disabled: true
`, mustHash(t, alicePW), mustHash(t, "bob-pw"))
}

// writeFile replaces path atomically (as editors and config tools do) with
// the given modification time, so a watcher never reads half a file.
func writeFile(t *testing.T, path, content string, mtime time.Time) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(tmp, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func openTestDB(t *testing.T, content string) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.yml")
	writeFile(t, path, content, time.Now().Add(-time.Hour))
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db, path
}

func TestDBAuthenticate(t *testing.T) {
	db, _ := openTestDB(t, usersFile(t, "alice-pw"))
	if n := db.Len(); n != 2 {
		t.Fatalf("Len = %d, want 2", n)
	}
	u := auth(t, db, "alice", "alice-pw")
	if u == nil || u.Name != "alice" || u.DisplayName != "Alice" || u.Email != "alice@example.com" || !u.InGroup("staff") {
		t.Fatalf("Authenticate(alice, right password) = %+v", u)
	}
	tests := []struct{ name, user, pw string }{
		{"wrong password", "alice", "alice-PW"},
		{"empty password", "alice", ""},
		{"unknown user", "mallory", "alice-pw"},
		{"user name differs in case", "Alice", "alice-pw"},
		{"empty user name", "", "alice-pw"},
		{"disabled user with the right password", "bob", "bob-pw"},
	}
	for _, tt := range tests {
		if u := auth(t, db, tt.user, tt.pw); u != nil {
			t.Errorf("%s: Authenticate(%q, %q) = %+v, want nil", tt.name, tt.user, tt.pw, u)
		}
	}
}

func TestDBLookup(t *testing.T) {
	db, _ := openTestDB(t, usersFile(t, "alice-pw"))
	if u := db.Lookup("alice"); u == nil || u.Name != "alice" {
		t.Fatalf("Lookup(alice) = %+v", u)
	}
	// A disabled user's existing session must not find them any more.
	if u := db.Lookup("bob"); u != nil {
		t.Fatalf("Lookup of a disabled user = %+v, want nil", u)
	}
	if u := db.Lookup("mallory"); u != nil {
		t.Fatalf("Lookup of an unknown user = %+v, want nil", u)
	}
}

// Unknown users are checked against a real user's hash, so a sign-in for a
// name that does not exist costs as much as one that does.
func TestDBTimingHashIsARealUsersHash(t *testing.T) {
	db, _ := openTestDB(t, usersFile(t, "alice-pw"))
	if !db.timingHash.Load().h.Matches("alice-pw") {
		t.Fatal("timing hash for unknown users is not the first user's hash")
	}
}

func TestDBEmptyFile(t *testing.T) {
	db, _ := openTestDB(t, "users: {}\n")
	if db.Len() != 0 {
		t.Fatalf("Len = %d", db.Len())
	}
	if u := auth(t, db, "anyone", "anything"); u != nil {
		t.Fatalf("Authenticate on an empty file = %+v", u)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "missing.yml"), Options{}); err == nil {
		t.Fatal("Open of a missing file succeeded")
	}
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("users:\n  alice:\n    password: nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(bad, Options{})
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("Open of a bad file: err = %v, want it to name the file and the line", err)
	}
}

func TestDBWatch(t *testing.T) {
	db, path := openTestDB(t, usersFile(t, "old-pw"))
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	mtime := st.ModTime()

	reloads := make(chan int, 100)
	errs := make(chan error, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.Watch(ctx, 5*time.Millisecond,
			func(n int, _ []Gone) {
				select {
				case reloads <- n:
				default:
				}
			},
			func(err error) {
				select {
				case errs <- err:
				default:
				}
			})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	waitReload := func(want int) {
		t.Helper()
		select {
		case n := <-reloads:
			if n != want {
				t.Fatalf("reloaded %d users, want %d", n, want)
			}
		case err := <-errs:
			t.Fatalf("watch reported %v, want a reload", err)
		case <-time.After(5 * time.Second):
			t.Fatal("changed users file not picked up within 5s")
		}
	}

	// Unchanged file: nothing happens.
	time.Sleep(30 * time.Millisecond)
	if len(reloads)+len(errs) != 0 {
		t.Fatalf("watch acted on an unchanged file: %d reloads, %d errors", len(reloads), len(errs))
	}

	// The operator changes alice's password and adds carol.
	mtime = mtime.Add(time.Second)
	writeFile(t, path, usersFile(t, "new-pw")+"  carol:\n    password: \""+mustHash(t, "carol-pw")+"\"\n", mtime)
	waitReload(3)
	if auth(t, db, "alice", "new-pw") == nil {
		t.Fatal("new password refused after reload")
	}
	if auth(t, db, "alice", "old-pw") != nil {
		t.Fatal("old password still accepted after reload")
	}
	if auth(t, db, "carol", "carol-pw") == nil {
		t.Fatal("added user not found after reload")
	}

	// A broken file is reported, once, and the users read before stay.
	mtime = mtime.Add(time.Second)
	writeFile(t, path, "users:\n  alice: [\n", mtime)
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), path) {
			t.Fatalf("error %q does not name the file", err)
		}
	case n := <-reloads:
		t.Fatalf("broken file reloaded (%d users)", n)
	case <-time.After(5 * time.Second):
		t.Fatal("broken users file not reported within 5s")
	}
	if auth(t, db, "alice", "new-pw") == nil || db.Len() != 3 {
		t.Fatal("users lost after a broken file was written")
	}
	time.Sleep(50 * time.Millisecond) // ten ticks
	if len(errs) != 0 {
		t.Fatalf("broken file reported %d more times; want once", len(errs))
	}

	// The file is fixed (same modification time, other size): picked up.
	writeFile(t, path, usersFile(t, "fixed-pw"), mtime)
	waitReload(2)
	if auth(t, db, "alice", "fixed-pw") == nil || db.Lookup("carol") != nil {
		t.Fatal("fixed file not in force after reload")
	}
}

func TestDBWatchStopsWithContext(t *testing.T) {
	db, _ := openTestDB(t, "users: {}\n")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.Watch(ctx, time.Millisecond, func(int, []Gone) {}, func(error) {})
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after its context ended")
	}
}
