package users

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// cheap keeps argon2id fast in tests; the parsing and checking are the same
// whatever the cost.
var cheap = Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

func mustHash(t *testing.T, password string) string {
	t.Helper()
	h, err := HashPassword(password, cheap)
	if err != nil {
		t.Fatalf("HashPassword: %v", err)
	}
	return h
}

func mustParseHash(t *testing.T, s string) Hash {
	t.Helper()
	h, err := ParseHash(s)
	if err != nil {
		t.Fatalf("ParseHash(%q): %v", s, err)
	}
	return h
}

func TestHashPasswordRoundTrip(t *testing.T) {
	s := mustHash(t, "correct horse")
	if !strings.HasPrefix(s, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not in Authelia's PHC format", s)
	}
	if strings.Contains(s, "correct horse") {
		t.Fatal("hash contains the password")
	}
	h := mustParseHash(t, s)
	if !h.Matches("correct horse") {
		t.Fatal("hash does not match its own password")
	}
	for _, wrong := range []string{"", "correct horsE", "correct horse ", "correct hors", "correct horse\x00"} {
		if h.Matches(wrong) {
			t.Errorf("hash matches wrong password %q", wrong)
		}
	}
	if s2 := mustHash(t, "correct horse"); s2 == s {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
}

func TestHashPasswordDefaultCost(t *testing.T) {
	s, err := HashPassword("pw", DefaultArgon2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("default hash %q does not carry the default cost", s)
	}
	h := mustParseHash(t, s)
	if !h.Matches("pw") || h.Matches("pW") {
		t.Fatal("default-cost hash does not check passwords")
	}
}

func TestHashPasswordRefusesEmpty(t *testing.T) {
	if s, err := HashPassword("", cheap); err == nil {
		t.Fatalf("HashPassword(\"\") = %q, want an error", s)
	}
}

// A hash written by Authelia (its documentation's example, of "password")
// works unchanged, so people can bring their users file over.
func TestAutheliaArgon2idHash(t *testing.T) {
	h := mustParseHash(t, "$argon2id$v=19$m=65536,t=3,p=2$BpLnfgDsc2WD8F2q$o/vzA4myCqZZ36bUGsDY//8mKUYNZZaR0t4MFFSs+iM")
	if !h.Matches("password") {
		t.Fatal("Authelia's example hash does not match its password")
	}
}

func TestArgon2idPaddedBase64Accepted(t *testing.T) {
	s := mustHash(t, "pw")
	parts := strings.Split(s, "$")
	parts[4] += "==" // 16-byte salt: 22 characters unpadded, 24 padded
	parts[5] += "="  // 32-byte key: 43 characters unpadded, 44 padded
	h := mustParseHash(t, strings.Join(parts, "$"))
	if !h.Matches("pw") || h.Matches("px") {
		t.Fatal("padded argon2id hash does not check passwords")
	}
}

func TestBcryptAccepted(t *testing.T) {
	b, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	// Go writes $2a$; other tools write $2b$ (OpenBSD, Python) or $2y$
	// (PHP, htpasswd). The algorithm is the same.
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		s := prefix + string(b[4:])
		h := mustParseHash(t, s)
		if !h.Matches("s3cret") {
			t.Errorf("%s hash does not match its password", prefix)
		}
		if h.Matches("s3creT") || h.Matches("") {
			t.Errorf("%s hash matches a wrong password", prefix)
		}
	}
}

func TestParseHashRefuses(t *testing.T) {
	good := mustHash(t, "pw")
	parts := strings.Split(good, "$") // "", argon2id, v=19, params, salt, key
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := []struct {
		name, hash, want string
	}{
		{"empty", "", "empty"},
		{"plain text", "hunter2", "unsupported"},
		{"sha512crypt truncated", "$6$rounds=5000$salt$hash", "at least 16"},
		{"md5crypt", "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", "not accepted"},
		{"sha1crypt", "$sha1$40000$jtNX3nZ2$hBNaIXkt4wBI2o5rsi8KejSjNqIq", "not accepted"},
		{"plain text in PHC form", "$plaintext$hunter2", "not a hash"},
		{"unknown algorithm", "$foo$bar$baz", "unsupported"},
		{"{CRYPT} of an unknown algorithm", "{CRYPT}$foo$bar$baz", "unsupported"},
		{"sha512crypt rounds not a number", "$6$rounds=many$salt$hash", "rounds"},
		{"pbkdf2 iterations not a number", "$pbkdf2-sha256$many$c2FsdHNhbHQ$aGFzaA", "iterations"},
		{"scrypt parameter not a number", "$scrypt$ln=x,r=8,p=1$c2FsdHNhbHQ$aGFzaA", "scrypt"},
		{"yescrypt bad setting", "$y$j9T$$x", "yescrypt"},
		{"argon2id missing part", strings.Join(parts[:5], "$"), "bad argon2id"},
		{"argon2id extra part", good + "$x", "bad argon2id"},
		{"argon2id old version", with(2, "v=16"), "version"},
		{"argon2id zero memory", with(3, "m=0,t=1,p=1"), "zero"},
		{"argon2id zero time", with(3, "m=64,t=0,p=1"), "zero"},
		{"argon2id zero threads", with(3, "m=64,t=1,p=0"), "zero"},
		// Refused when read, not when a sign-in tries to allocate 8 GiB.
		{"argon2id memory over 1 GiB", with(3, "m=8388608,t=1,p=1"), "1 GiB"},
		{"argon2id garbled parameters", with(3, "t=one,m=64,p=1"), "parameters"},
		{"argon2id salt not base64", with(4, "!!!!"), "salt"},
		{"argon2id empty salt", with(4, ""), "salt"},
		{"argon2id key not base64", with(5, "!!!!"), "hash"},
		{"argon2id key too short", with(5, "AAAAAAAAAAA"), "hash"},
		{"bcrypt truncated", "$2a$10$abc", "bcrypt"},
		{"bcrypt bad cost", "$2a$xx$" + strings.Repeat("a", 53), "bcrypt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseHash(tt.hash)
			if err == nil {
				t.Fatalf("ParseHash(%q) accepted it (%T)", tt.hash, h)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseHash(%q) error %q does not mention %q", tt.hash, err, tt.want)
			}
		})
	}
}

// HashPassword refuses a password longer than sign-in checks: it could
// never sign in.
func TestHashPasswordRefusesWhatSignInWouldNot(t *testing.T) {
	if _, err := HashPassword(strings.Repeat("a", MaxPasswordBytes+1), DefaultArgon2); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Fatalf("a %d-byte password: %v", MaxPasswordBytes+1, err)
	}
	if _, err := HashPassword(strings.Repeat("a", MaxPasswordBytes), DefaultArgon2); err != nil {
		t.Fatalf("a %d-byte password: %v", MaxPasswordBytes, err)
	}
}
