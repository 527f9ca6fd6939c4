package users

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// oneBadHash is a users file whose carol (password on line 8) has a hash no one can read.
func oneBadHash(t *testing.T) string {
	return "users:\n" +
		"  alice:\n    password: \"" + mustHash(t, "alice-pw") + "\"\n" +
		"  # carol's hash came from another system\n" +
		"  bob:\n    password: \"" + mustHash(t, "bob-pw") + "\"\n" +
		"  carol:\n    password: \"$1$saltsalt$qjXMvbEw8oaL.CzflDugX/\"\n"
}

// A file with one unreadable hash refuses the start, naming its line, the
// user and the reason: the default, and on_bad_hash refuse.
func TestBadHashRefusesTheFile(t *testing.T) {
	for _, mode := range []string{"", OnBadHashRefuse} {
		path := writeTemp(t, oneBadHash(t))
		_, err := Open(path, Options{OnBadHash: mode})
		if err == nil {
			t.Fatalf("on_bad_hash %q: a file with an md5crypt hash was accepted", mode)
		}
		for _, w := range []string{"line 8", `"carol"`, "md5", "not accepted"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("on_bad_hash %q: error %q does not contain %q", mode, err, w)
			}
		}
	}
}

// With on_bad_hash skip the others load and sign in; the one left out is
// logged with its line and name (and never signs in), at start and at each
// reload.
func TestBadHashSkip(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	path := writeTemp(t, oneBadHash(t))
	db, err := Open(path, Options{OnBadHash: OnBadHashSkip, Logger: zap.New(core)})
	if err != nil {
		t.Fatalf("on_bad_hash skip: %v", err)
	}
	if db.Len() != 2 || auth(t, db, "alice", "alice-pw") == nil || auth(t, db, "bob", "bob-pw") == nil {
		t.Fatalf("the readable users were not loaded: %d users", db.Len())
	}
	if db.Lookup("carol") != nil || db.Known("carol") || auth(t, db, "carol", "password") != nil {
		t.Fatal("the user with an unreadable hash is in force")
	}
	sk := db.Skipped()
	if len(sk) != 1 || sk[0].User != "carol" || sk[0].Line != 8 || !strings.Contains(sk[0].Reason.Error(), "not accepted") {
		t.Fatalf("Skipped = %+v", sk)
	}
	checkSkipLog(t, logs, 1)

	// A reload with the same problem (and a change elsewhere) logs it again.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	reloaded := make(chan int, 4)
	go func() {
		defer close(done)
		db.Watch(ctx, 5*time.Millisecond, func(n int, _ []Gone) { reloaded <- n }, func(err error) { t.Errorf("reload: %v", err) })
	}()
	defer func() { cancel(); <-done }()
	writeFile(t, path, oneBadHash(t)+"  dave:\n    password: \""+mustHash(t, "dave-pw")+"\"\n", time.Now())
	select {
	case n := <-reloaded:
		if n != 3 {
			t.Fatalf("%d users after the reload, want 3", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no reload within 5s")
	}
	checkSkipLog(t, logs, 2)
}

func checkSkipLog(t *testing.T, logs *observer.ObservedLogs, want int) {
	t.Helper()
	entries := logs.FilterMessageSnippet("left out").All()
	if len(entries) != want {
		t.Fatalf("%d warnings about the user left out, want %d", len(entries), want)
	}
	f := entries[want-1].ContextMap()
	if f["user"] != "carol" || f["line"] != int64(8) || !strings.Contains(f["reason"].(string), "md5") {
		t.Fatalf("warning fields = %v; want user carol, line 8 and the reason", f)
	}
}

// A file otherwise broken is refused even with skip: skip is for hashes.
func TestBadHashSkipRefusesOtherErrors(t *testing.T) {
	path := writeTemp(t, "users:\n  alice:\n    password: \""+mustHash(t, "pw")+"\"\n    groups: {a: b}\n")
	if _, err := Open(path, Options{OnBadHash: OnBadHashSkip}); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("Open with skip of a file with bad groups: %v", err)
	}
}

// Bad option values are refused with a clear error.
func TestOptionsValidate(t *testing.T) {
	err := Options{OnBadHash: "maybe"}.Validate()
	if err == nil || !strings.Contains(err.Error(), `on_bad_hash "maybe"`) || !strings.Contains(err.Error(), "refuse") {
		t.Fatalf("Validate(on_bad_hash maybe) = %v", err)
	}
	if _, err := Open(writeTemp(t, "users: {}\n"), Options{OnBadHash: "maybe"}); err == nil {
		t.Fatal("Open accepted on_bad_hash maybe")
	}
}

// writeTemp writes content to a users file in a new directory.
func writeTemp(t *testing.T, content string) string {
	t.Helper()
	path := t.TempDir() + "/users.yml"
	writeFile(t, path, content, time.Now().Add(-time.Hour))
	return path
}
