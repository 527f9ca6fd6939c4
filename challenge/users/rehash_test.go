package users

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// Weak hashes of "password": sha512crypt without rounds= (5,000) and
// bcrypt at cost 8, from testdata/generated/every-kind.yml.
const (
	weakSHA512 = "$6$6uL2uPfnmY5t9aC6$Gb4m..RMkQ7CIuK6m.WJJJdB16aX/vmFto4c.KkKx229rdsE5whOxAsfrhAPLeizXYN.a1YbQzduM.RW0RbGp0"
	weakBcrypt = "$2a$08$cLlbNFjQwmrLI4OJv7OE/OarBOmkTEejXEAxBNx.3rQctXGO7OBMC"
)

// rehashFile has comments, odd spacing and three quoting styles: alice
// (weak, {CRYPT}, double quotes, a trailing comment), bob (weak, plain)
// and carol (argon2id, single quotes).
func rehashFile(t *testing.T) string {
	return "# users of the gateway\n" +
		"users:\n" +
		"  alice:   # the first\n" +
		"    displayname: \"Alice\"\n" +
		"    password: \"{CRYPT}" + weakSHA512 + "\"   # from the old server\n" +
		"    email: alice@example.com\n" +
		"\n" +
		"  bob:\n" +
		"    password: " + weakBcrypt + "\n" +
		"    groups: [staff]\n" +
		"  carol:\n" +
		"    password: '" + mustHash(t, "carol-pw") + "'\n" +
		"# end\n"
}

// openRehash opens content (mode 0640) with rehash_on_sign_in and returns
// the db, the path and a channel of each upgrade's outcome.
func openRehash(t *testing.T, content string, log *zap.Logger) (*DB, string, chan error) {
	t.Helper()
	path := writeTemp(t, content)
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, Options{RehashOnSignIn: true, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 4)
	db.afterRehash = func(_ string, err error) { done <- err }
	return db, path, done
}

func waitRehash(t *testing.T, done chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no hash upgrade within 10s")
		return nil
	}
}

// After a successful sign-in a weak hash is rewritten to argon2id: only
// that password's bytes change (comments, quoting, the trailing comment and
// every other line stay byte for byte), the file keeps its mode and owner,
// no temporary file is left, and the user signs in afterwards with the same
// password against the argon2id hash. The log says so without the hash.
func TestRehashOnSignIn(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	before := rehashFile(t)
	db, path, done := openRehash(t, before, zap.New(core))
	owned := os.Geteuid() == 0
	if owned {
		if err := os.Chown(path, 4321, 4322); err != nil {
			t.Fatal(err)
		}
		if _, err := db.reload(); err != nil {
			t.Fatal(err)
		}
	}
	if u := auth(t, db, "alice", "password"); u == nil {
		t.Fatal("alice does not sign in with her sha512crypt password")
	}
	if err := waitRehash(t, done); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, a := strings.Split(before, "\n"), strings.Split(string(after), "\n")
	if len(a) != len(b) {
		t.Fatalf("the file has %d lines, had %d", len(a), len(b))
	}
	for i := range b {
		if i == 4 {
			continue
		}
		if a[i] != b[i] {
			t.Errorf("line %d changed: %q, was %q", i+1, a[i], b[i])
		}
	}
	newHash, ok := strings.CutPrefix(a[4], "    password: \"")
	newHash, rest, _ := strings.Cut(newHash, "\"")
	if !ok || rest != "   # from the old server" || !strings.HasPrefix(newHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("alice's line is %q; want her argon2id hash at DefaultArgon2, quoted, with the comment kept", a[4])
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", st.Mode().Perm())
	}
	if owned {
		if s := st.Sys().(*syscall.Stat_t); s.Uid != 4321 || s.Gid != 4322 {
			t.Errorf("owner %d:%d, want 4321:4322 kept", s.Uid, s.Gid)
		}
	} else {
		t.Log("not root: the owner is the test's own, so keeping it is not shown here")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("files left beside the users file: %v", entries)
	}
	u := db.Lookup("alice")
	if u == nil || !strings.HasPrefix(u.hash.Kind(), "argon2id/19456/2/1/") || u.hash.Weak() {
		t.Fatalf("alice's hash in force is %v", u)
	}
	if auth(t, db, "alice", "password") == nil || auth(t, db, "alice", "Password") != nil {
		t.Fatal("alice does not sign in with the same password against the new hash (or a wrong one does)")
	}
	select {
	case err := <-done:
		t.Fatalf("a sign-in with an argon2id hash upgraded again: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	// The log has the upgrade, never a hash.
	ups := logs.FilterMessageSnippet("upgraded").All()
	if len(ups) != 1 || ups[0].ContextMap()["user"] != "alice" {
		t.Fatalf("upgrade log entries: %v", ups)
	}
	for _, e := range logs.All() {
		for k, v := range e.ContextMap() {
			if s, ok := v.(string); ok && (strings.Contains(s, "$argon2id$") || strings.Contains(s, weakSHA512[:20])) {
				t.Errorf("log field %s carries a hash: %q", k, s)
			}
		}
	}
	// bob's plain-style bcrypt is upgraded too, in the plain style.
	if auth(t, db, "bob", "password") == nil {
		t.Fatal("bob does not sign in")
	}
	if err := waitRehash(t, done); err != nil {
		t.Fatalf("bob's upgrade: %v", err)
	}
	again, _ := os.ReadFile(path)
	if l := strings.Split(string(again), "\n")[8]; !strings.HasPrefix(l, "    password: $argon2id$") {
		t.Fatalf("bob's line is %q", l)
	}
	if _, err := Open(path, Options{}); err != nil {
		t.Fatalf("the rewritten file does not open: %v", err)
	}
}

// A wrong password, a strong hash, or no rehash_on_sign_in leave the file
// alone.
func TestRehashOnlyWhenAsked(t *testing.T) {
	db, path, done := openRehash(t, rehashFile(t), nil)
	before, _ := os.ReadFile(path)
	auth(t, db, "alice", "wrong")
	auth(t, db, "carol", "carol-pw")
	plain, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if auth(t, plain, "alice", "password") == nil {
		t.Fatal("alice does not sign in")
	}
	select {
	case err := <-done:
		t.Fatalf("an upgrade ran: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Fatal("the file changed")
	}
}

// An edit made since the file was read (not yet re-read), or made while
// the rewrite runs, is never lost: the upgrade is refused, the file keeps
// the edit, and the old hash stays in force.
func TestRehashRefusesWhenTheFileChanged(t *testing.T) {
	t.Run("edited before the sign-in", func(t *testing.T) {
		db, path, done := openRehash(t, rehashFile(t), nil)
		edited := rehashFile(t) + "  dave:\n    password: " + weakBcrypt + "\n"
		if err := os.WriteFile(path, []byte(edited), 0o640); err != nil {
			t.Fatal(err)
		}
		auth(t, db, "alice", "password")
		if err := waitRehash(t, done); !errors.Is(err, ErrFileChanged) {
			t.Fatalf("upgrade over an edit: %v, want ErrFileChanged", err)
		}
		if got, _ := os.ReadFile(path); string(got) != edited {
			t.Fatal("the edit was lost")
		}
		if u := db.Lookup("alice"); u == nil || !strings.HasPrefix(u.hash.Kind(), "sha512crypt/") {
			t.Fatal("alice's old hash is not in force")
		}
	})
	t.Run("edited during the rewrite", func(t *testing.T) {
		db, path, done := openRehash(t, rehashFile(t), nil)
		edited := strings.Replace(rehashFile(t), "# end", "# end, edited", 1)
		db.beforeRename = func() {
			if err := os.WriteFile(path, []byte(edited), 0o640); err != nil {
				t.Error(err)
			}
		}
		auth(t, db, "alice", "password")
		if err := waitRehash(t, done); !errors.Is(err, ErrFileChanged) {
			t.Fatalf("upgrade over an edit during it: %v, want ErrFileChanged", err)
		}
		if got, _ := os.ReadFile(path); string(got) != edited {
			t.Fatal("the edit made during the rewrite was lost")
		}
		if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
			t.Errorf("files left beside the users file: %v", entries)
		}
	})
}

// The upgrade runs after the answer: a sign-in returns while the rewrite
// is held, and a second weak sign-in meanwhile is left for later rather
// than queued (one upgrade at a time).
func TestRehashDoesNotHoldTheSignIn(t *testing.T) {
	db, _, done := openRehash(t, rehashFile(t), nil)
	hold := make(chan struct{})
	db.beforeRename = func() { <-hold }
	start := time.Now()
	if auth(t, db, "alice", "password") == nil {
		t.Fatal("alice does not sign in")
	}
	took := time.Since(start)
	if auth(t, db, "bob", "password") == nil {
		t.Fatal("bob does not sign in")
	}
	close(hold)
	if err := waitRehash(t, done); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	select {
	case err := <-done:
		t.Fatalf("a second upgrade ran at once: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	// The check of a 5,000-round sha512crypt takes about 2 ms; the argon2id
	// hash and the rewrite, held above, are not waited for.
	if took > 500*time.Millisecond {
		t.Fatalf("the sign-in took %v while its upgrade was held", took)
	}
}

// A password written in a YAML block style is not rewritten (logged).
func TestRehashRefusesABlockStyle(t *testing.T) {
	file := "users:\n  alice:\n    password: >-\n      " + weakSHA512 + "\n"
	db, path, done := openRehash(t, file, nil)
	auth(t, db, "alice", "password")
	if err := waitRehash(t, done); err == nil || !strings.Contains(err.Error(), "block style") {
		t.Fatalf("upgrade of a block-style password: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != file {
		t.Fatal("the file changed")
	}
}

// A password that is a YAML anchor another entry shares is not rewritten:
// that would give the other user this user's password.
func TestRehashRefusesASharedAnchor(t *testing.T) {
	file := "users:\n  alice:\n    password: &pw \"" + weakSHA512 + "\"\n  bob:\n    password: *pw\n"
	db, path, done := openRehash(t, file, nil)
	auth(t, db, "alice", "password")
	if err := waitRehash(t, done); err == nil || !strings.Contains(err.Error(), "anchor") {
		t.Fatalf("upgrade of an anchored password: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != file {
		t.Fatal("the file changed")
	}
	if err := sameButOne(map[string]*User{"a": {rawHash: "x"}, "b": {rawHash: "y"}},
		map[string]*User{"a": {rawHash: "new"}, "b": {rawHash: "new"}}, "a", "new"); err == nil || !strings.Contains(err.Error(), `"b"`) {
		t.Fatalf("sameButOne let another user's password change: %v", err)
	}
}
