package users

import (
	"context"
	"encoding/base64"
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

// key32 and key64 are base64 of 32 and 64 bytes.
var (
	key32 = base64.RawStdEncoding.EncodeToString(make([]byte, 32))
	key64 = base64.RawStdEncoding.EncodeToString(make([]byte, 64))
)

func argon2iWith(params string) string {
	return "$argon2i$v=19$" + params + "$c2FsdHNhbHRzYWx0$" + key32
}

func argon2dWith(params string) string {
	return "$argon2d$v=19$" + params + "$c2FsdHNhbHRzYWx0$" + key32
}

// withArgon2Key is an argon2id hash with a key of n bytes.
func withArgon2Key(t *testing.T, n int) string {
	t.Helper()
	parts := strings.Split(mustHash(t, "pw"), "$")
	parts[5] = base64.RawStdEncoding.EncodeToString(make([]byte, n))
	return strings.Join(parts, "$")
}

func bcryptSHA256Cost(cost string) string {
	return "$bcrypt-sha256$v=2,t=2b,r=" + cost + "$PhuZyUEbjnxPMsI2JdxSXe$UPSPHvoVWU8IzFTkjpG9W7APws1.2LC"
}

func sha512Rounds(rounds string) string {
	return "$6$rounds=" + rounds + "$lv3djv7cJP/NSlJs$U3jMbqfgEOnvPG4kdxZnsjle9jsmBWZa3Hz7FdHRcEOaAUPoXkWsUbRJWCS28roPt5eUz1Z6pUvqKoz5wwm0F0"
}

func pbkdf2Iter(n string) string {
	return "$pbkdf2-sha256$" + n + "$2VlemBvSERA5IoCwZfo2gA$fAty39vogru/CLzvwVSq/6kJD82jxtDiFoyQ79eI70w"
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
		{"argon2i memory over 1 GiB", argon2iWith("m=1048577,t=1,p=1"), []string{"argon2i memory", "at most 1 GiB"}},
		{"argon2d time 11", argon2dWith("m=64,t=11,p=1"), []string{"argon2d time", "at most 10"}},
		{"argon2id without t= or m= (defaults)", "$argon2id$v=19$p=1$c2FsdHNhbHRzYWx0$" + key32, nil},
		{"argon2id key of 512 bytes (the bound)", withArgon2Key(t, 512), nil},
		{"argon2id key of 513 bytes", withArgon2Key(t, 513), []string{"513 bytes", "at most 512"}},
		{"bcrypt-sha256 cost 16 (the bound)", bcryptSHA256Cost("16"), nil},
		{"bcrypt-sha256 cost 17", bcryptSHA256Cost("17"), []string{"bcrypt-sha256 cost 17", "at most 16"}},
		{"sha512crypt 1,000,000 rounds (the bound)", sha512Rounds("1000000"), nil},
		{"sha512crypt 1,000,001 rounds", sha512Rounds("1000001"), []string{"sha512crypt rounds=1000001", "at most 1000000"}},
		{"sha512crypt 999,999,999 rounds", sha512Rounds("999999999"), []string{"at most 1000000"}},
		{"sha256crypt 1,000,001 rounds", "$5$rounds=1000001$Ts.HLAjzi2pPpZvW$uvWzrz9/tfACsjxOb.vhW4sZd.dqAnj.AusLz/CB.Z1", []string{"sha256crypt", "at most 1000000"}},
		{"pbkdf2-sha256 5,000,000 iterations (the bound)", pbkdf2Iter("5000000"), nil},
		{"pbkdf2-sha256 5,000,001 iterations", pbkdf2Iter("5000001"), []string{"pbkdf2-sha256 iterations 5000001", "at most 5000000"}},
		{"pbkdf2-sha1 2,000,000 iterations of 64 bytes (4 blocks)", "$pbkdf2$2000000$cxLqpVeUk0rh6jiMEKQGOQ$" + key64, []string{"4 blocks", "at most 5000000"}},
		{"scrypt 1 GiB (the bound)", "$scrypt$ln=20,r=8,p=1$IHoQppKEphZ5U595XwqAgA$" + key32, nil},
		{"scrypt 2 GiB", "$scrypt$ln=21,r=8,p=1$IHoQppKEphZ5U595XwqAgA$" + key32, []string{"scrypt ln=21", "at most 1 GiB"}},
		{"scrypt 1 GiB twice over (p=2)", "$scrypt$ln=20,r=8,p=2$IHoQppKEphZ5U595XwqAgA$" + key32, []string{"p=2", "at most 1 GiB"}},
		{"scrypt overflowing parameters", "$scrypt$ln=39,r=1073741823,p=1073741823$IHoQppKEphZ5U595XwqAgA$" + key32, []string{"at most 1 GiB"}},
		{"yescrypt 1 GiB (the bound)", "$y$jH5$cb7QSyitPhQev8FaCLxxc.$tunBVHLVyQJXzoahhdTTxRxjJ.wJ0SRC4fsTQ6JbhmC", nil},
		{"yescrypt 2 GiB", "$y$jI5$cb7QSyitPhQev8FaCLxxc.$tunBVHLVyQJXzoahhdTTxRxjJ.wJ0SRC4fsTQ6JbhmC", []string{"yescrypt ln=21", "at most 1 GiB"}},
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
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "at most 16") {
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

// sha2crypt's cost grows with the password's length: a password over
// MaxPasswordBytes is refused without being hashed, so a 64 KiB form
// against a hash at the rounds bound costs nothing, while one at the
// bound is still checked.
func TestLongPasswordIsNotHashed(t *testing.T) {
	h := mustParseHash(t, sha512Rounds("1000000"))
	start := time.Now()
	if h.Matches(strings.Repeat("a", 64<<10)) {
		t.Fatal("a 64 KiB password matched")
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("a 64 KiB password against sha512crypt at 1,000,000 rounds took %v; want it refused at once (< 50ms)", d)
	}
	a := mustHash(t, strings.Repeat("b", MaxPasswordBytes))
	if !mustParseHash(t, a).Matches(strings.Repeat("b", MaxPasswordBytes)) {
		t.Fatalf("a password of MaxPasswordBytes (%d) is refused", MaxPasswordBytes)
	}
}
