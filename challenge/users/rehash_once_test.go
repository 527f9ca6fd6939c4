package users

import (
	"os"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// An upgrade that cannot succeed on this file (a password in a YAML block
// style) is found out before any argon2id hash is made, logged once, and
// not tried again at every sign-in: only once the file changes.
func TestRehashThatCannotSucceedIsTriedOncePerFile(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	file := "users:\n  alice:\n    password: >-\n      " + weakSHA512 + "\n"
	db, path, done := openRehash(t, file, zap.New(core))
	var hashed atomic.Int32
	db.beforeHash = func() { hashed.Add(1) }
	for i := range 3 {
		if auth(t, db, "alice", "password") == nil {
			t.Fatal("alice does not sign in")
		}
		if i == 0 {
			if err := waitRehash(t, done); err == nil {
				t.Fatal("a block-style password was rewritten")
			}
		}
	}
	select {
	case err := <-done:
		t.Fatalf("the upgrade was tried again on an unchanged file: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if n := hashed.Load(); n != 0 {
		t.Errorf("%d argon2id hashes were made for a rewrite that cannot be written", n)
	}
	if n := logs.FilterMessageSnippet("not upgraded").Len(); n != 1 {
		t.Errorf("%d warnings for one file; want 1", n)
	}
	// Once the file changes (here: to a form that can be rewritten) and
	// is re-read, the upgrade is tried again, and succeeds.
	writeFile(t, path, "users:\n  alice:\n    password: "+weakSHA512+"\n", time.Now().Add(time.Minute))
	if _, err := db.reload(); err != nil {
		t.Fatal(err)
	}
	if auth(t, db, "alice", "password") == nil {
		t.Fatal("alice does not sign in after the edit")
	}
	if err := waitRehash(t, done); err != nil {
		t.Fatalf("after the file changed the upgrade was not made: %v", err)
	}
}

// The temporary file gets the users file's owner while it is still
// private (mode 0600), and only then the users file's mode: it is never
// readable by the group of the gateway's user before it belongs to the
// file's.
func TestRehashSetsOwnerBeforeMode(t *testing.T) {
	db, _, done := openRehash(t, rehashFile(t), nil)
	var mode os.FileMode
	db.afterOwner = func(f *os.File) {
		if st, err := f.Stat(); err == nil {
			mode = st.Mode().Perm()
		}
	}
	if auth(t, db, "bob", "password") == nil {
		t.Fatal("bob does not sign in")
	}
	if err := waitRehash(t, done); err != nil {
		t.Fatal(err)
	}
	if mode != 0o600 {
		t.Fatalf("when the owner was set the temporary file had mode %v; want 0600 (the mode comes after)", mode)
	}
}
