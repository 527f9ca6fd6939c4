package users

import (
	"encoding/base64"
	"strings"
	"testing"
)

// reviewSalt is base64 of a 16-byte salt.
var reviewSalt = base64.RawStdEncoding.EncodeToString([]byte("saltsaltsaltsalt"))

// An argon2 hash whose parameters go-crypt reads otherwise than they look
// (a duplicate key in the v= segment, which go-crypt reads last, or in the
// m=,t=,p= one) is refused, as is one with too many or too few segments:
// the cost checked against the bounds and shown in Kind is the one a check
// pays. The reviewer's strings.
func TestArgon2ParameterOrderCannotHideACost(t *testing.T) {
	refused := []struct{ name, hash, want string }{
		{"t= hidden in the v= segment", "$argon2id$v=19,t=100$m=65536,t=1,p=1$" + reviewSalt + "$" + key32, "v="},
		{"m= hidden in the v= segment", "$argon2id$v=19,m=2097152$m=65536,t=1,p=1$" + reviewSalt + "$" + key32, "v="},
		{"t= twice", "$argon2id$v=19$m=65536,t=1,p=1,t=100$" + reviewSalt + "$" + key32, "twice"},
		{"a seventh segment", "$argon2id$v=19$m=65536,t=1,p=1$x$" + reviewSalt + "$" + key32, "segments"},
		{"no v= segment", "$argon2id$m=65536,t=1,p=1$" + reviewSalt + "$" + key32, "segments"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseHash(tt.hash)
			if err == nil {
				t.Fatalf("accepted as %s", h.Kind())
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
		})
	}
	// The PHC form written by hand in the other order still reads, with
	// the cost go-crypt uses.
	h, err := ParseHash("$argon2id$v=19$t=2,p=1,m=19456$" + reviewSalt + "$" + key32)
	if err != nil {
		t.Fatal(err)
	}
	if k := h.Kind(); k != "argon2id/19456/2/1/32" {
		t.Fatalf("Kind %s; want argon2id/19456/2/1/32", k)
	}
	// The reviewer's pick case: the same hash with t=60 hidden is refused,
	// so it cannot become the hash unknown names are checked against.
	good := mustHash(t, "pw")
	if _, err := ParseHash(strings.Replace(good, "$v=19$", "$v=19,t=60$", 1)); err == nil {
		t.Fatal("a hash with t=60 hidden in its v= segment is accepted")
	}
}

// sha2crypt salts are at most 16 bytes (go-crypt does not cut a longer
// one, and each byte costs every round), and no hash string of any kind
// is longer than MaxHashBytes.
func TestSHACryptSaltAndHashLengthBounds(t *testing.T) {
	key86 := strings.Repeat("A", 86)
	for _, n := range []int{17, 1024, 16384} {
		s := "$6$rounds=100000$" + strings.Repeat("s", n) + "$" + key86
		_, err := ParseHash(s)
		if err == nil {
			t.Fatalf("sha512crypt salt of %d bytes accepted", n)
		}
		if n < MaxHashBytes && !strings.Contains(err.Error(), "salt") {
			t.Errorf("salt of %d bytes: error %q does not name the salt", n, err)
		}
	}
	if _, err := ParseHash("$6$rounds=100000$" + strings.Repeat("s", 16) + "$" + key86); err != nil {
		t.Fatalf("a 16-byte salt is refused: %v", err)
	}
	if _, err := ParseHash("$5$" + strings.Repeat("s", 17) + "$" + strings.Repeat("A", 43)); err == nil || !strings.Contains(err.Error(), "at most 16") {
		t.Fatalf("sha256crypt salt of 17 bytes: %v", err)
	}
	long := withArgon2(t, "m=64,t=1,p=1")
	parts := strings.Split(long, "$")
	parts[4] = base64.RawStdEncoding.EncodeToString(make([]byte, 1000))
	if _, err := ParseHash(strings.Join(parts, "$")); err == nil || !strings.Contains(err.Error(), "at most 1024") {
		t.Fatalf("an argon2id hash of %d bytes: %v; want it refused naming the bound", len(strings.Join(parts, "$")), err)
	}
}

// An error about an unreadable password value shows a piece of it only if
// the piece looks like a parameter: a password typed into the password
// field by mistake is not echoed into the log.
func TestHashErrorsDoNotEchoSecrets(t *testing.T) {
	for _, s := range []string{
		"$Hunter2Secret!$x",
		"$2b$Hunter2Secret!$x",
		"$6$rounds=Hunter2Secret!$salt$" + strings.Repeat("A", 86),
		"$scrypt$ln=Hunter2Secret!$salt$" + key32,
		"$argon2id$v=19$m=Hunter2Secret!,t=1,p=1$" + reviewSalt + "$" + key32,
		"$bcrypt-sha256$v=2,t=2b,r=Hunter2Secret!$salt$hash",
		"$pbkdf2-sha256$Hunter2Secret!$salt$hash",
		"$y$Hunter2Secret!$salt$hash",
		"$argon2id$v=19$m=64,t=1,p=1$Hunter2Secret!$" + key32,
	} {
		_, err := ParseHash(s)
		if err == nil {
			t.Fatalf("%q accepted", s)
		}
		if strings.Contains(err.Error(), "Hunter2") {
			t.Errorf("error echoes the value: %v", err)
		}
	}
	_, err := ParseHash("$2b$xx$abc")
	if err == nil || !strings.Contains(err.Error(), `"xx"`) {
		t.Fatalf("a parameter-like piece is no longer shown: %v", err)
	}
}
