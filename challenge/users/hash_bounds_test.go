package users

import (
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// withCost returns a bcrypt hash string with its cost field set to cost
// (two digits). Only parsed, never checked: a real cost-17 hash would take
// seconds to make.
func withCost(t *testing.T, cost string) string {
	t.Helper()
	b, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(b[:4]) + cost + string(b[6:])
}

// withArgon2 returns an argon2id hash string with parameters params
// ("m=..,t=..,p=.."). Only parsed, never checked.
func withArgon2(t *testing.T, params string) string {
	t.Helper()
	parts := strings.Split(mustHash(t, "pw"), "$")
	parts[3] = params
	return strings.Join(parts, "$")
}

// A users file cannot make one password check take absurd memory or time:
// hash parameters beyond the bounds are refused when the file is read,
// with an error that names the line and the bound, and the largest allowed
// values are still read.
func TestUsersFileHashBounds(t *testing.T) {
	tests := []struct {
		name string
		hash string
		// want is empty if the hash must be accepted, else words of the error.
		want []string
	}{
		{"bcrypt cost 16 (the bound)", withCost(t, "16"), nil},
		{"bcrypt cost 17", withCost(t, "17"), []string{"bcrypt cost 17", "at most 16"}},
		{"bcrypt cost 31", withCost(t, "31"), []string{"bcrypt cost 31", "at most 16"}},
		{"argon2id 1 GiB (the bound)", withArgon2(t, "m=1048576,t=1,p=1"), nil},
		{"argon2id memory over 1 GiB", withArgon2(t, "m=1048577,t=1,p=1"), []string{"memory", "1048577 KiB", "at most 1 GiB"}},
		{"argon2id memory 4 GiB", withArgon2(t, "m=4194304,t=1,p=1"), []string{"memory", "at most 1 GiB"}},
		{"argon2id time 10 (the bound)", withArgon2(t, "m=64,t=10,p=1"), nil},
		{"argon2id time 11", withArgon2(t, "m=64,t=11,p=1"), []string{"time", "t=11", "at most 10"}},
		{"argon2id time 1000000", withArgon2(t, "m=64,t=1000000,p=1"), []string{"time", "at most 10"}},
		{"argon2id 16 lanes (the bound)", withArgon2(t, "m=64,t=1,p=16"), nil},
		{"argon2id 17 lanes", withArgon2(t, "m=136,t=1,p=17"), []string{"parallelism", "p=17", "at most 16"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := "users:\n  alice:\n    displayname: Alice\n    password: \"" + tt.hash + "\"\n"
			m, err := Parse([]byte(file))
			if tt.want == nil {
				if err != nil || m["alice"] == nil {
					t.Fatalf("a hash at the bound is refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("users file with %s accepted", tt.name)
			}
			for _, w := range append([]string{"line 4", `"alice"`}, tt.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// A gateway refuses to start on such a file, and a reload with one keeps
// the users read before (and reports the error naming the bound).
func TestUsersFileHashBoundsAtStartAndReload(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/users.yml"
	writeFile(t, path, "users:\n  alice:\n    password: \""+withCost(t, "20")+"\"\n", time.Now().Add(-time.Hour))
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "at most 16") {
		t.Fatalf("Open of a file with bcrypt cost 20: %v; want an error naming line 3 and the bound", err)
	}

	db, path := openTestDB(t, usersFile(t, "alice-pw"))
	errs := make(chan error, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.Watch(ctx, 5*time.Millisecond, func(int, []Gone) {}, func(err error) { errs <- err })
	}()
	defer func() { cancel(); <-done }()
	writeFile(t, path, "users:\n  alice:\n    password: \""+withArgon2(t, "m=8388608,t=1,p=1")+"\"\n", time.Now())
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "at most 1 GiB") {
			t.Fatalf("reload error %q does not name the line and the bound", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a file with 8 GiB argon2id memory was not reported within 5s")
	}
	if auth(t, db, "alice", "alice-pw") == nil || db.Len() != 2 {
		t.Fatal("the users read before were lost on a reload with a refused hash")
	}
}
