package users

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Argon2Params are the argon2id cost parameters of a hash.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	KeyLen  uint32
	SaltLen uint32
}

// DefaultArgon2 follows OWASP's password storage cheat sheet (19 MiB, 2
// passes, 1 lane): one check takes a few tens of milliseconds on one core and
// bounds the memory a burst of sign-ins can take. BENCHMARKS.md has the figure.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}

// HashPassword returns an argon2id hash in the PHC string format used by
// Authelia's users file: $argon2id$v=19$m=...,t=...,p=...$salt$hash.
func HashPassword(password string, p Argon2Params) (string, error) {
	if password == "" {
		return "", errors.New("password is empty")
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("reading salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Hash is a parsed password hash that can check a password.
type Hash interface {
	// Matches reports whether password hashes to this hash, in constant time.
	Matches(password string) bool
	// Kind names the algorithm and cost ("bcrypt/10", "argon2id/19456/2/1/32"):
	// hashes of one kind take the same time to check.
	Kind() string
}

// Bounds on the cost of one password check that a users file may ask for,
// so that a typo or a hostile file cannot make each sign-in attempt take
// gigabytes or minutes (the gate bounds how many run at once, not what one
// costs). Other algorithms (scrypt, pbkdf2, sha2crypt, argon2i/d) are not
// read at all.
const (
	// MaxBcryptCost is the highest bcrypt cost: 2^16 rounds, about 4 s
	// per check on a current core (cost 10, the common default, is 60 ms).
	MaxBcryptCost = 16
	// MaxArgon2Memory is the most memory one argon2id check may take, in
	// KiB: 1 GiB (OWASP's default is 19 MiB, Authelia's 64 MiB).
	MaxArgon2Memory = 1024 * 1024
	// MaxArgon2Time is the most passes over that memory (OWASP: 2,
	// Authelia: 3).
	MaxArgon2Time = 10
	// MaxArgon2Threads is the most lanes (parallelism) of one check;
	// each is a goroutine (Authelia's default is 4).
	MaxArgon2Threads = 16
)

// ParseHash parses an argon2id (PHC format) or bcrypt ($2a$, $2b$, $2y$)
// hash, refusing costs beyond MaxBcryptCost and the MaxArgon2 bounds.
func ParseHash(s string) (Hash, error) {
	switch {
	case strings.HasPrefix(s, "$argon2id$"):
		return parseArgon2id(s)
	case strings.HasPrefix(s, "$2a$"), strings.HasPrefix(s, "$2b$"), strings.HasPrefix(s, "$2y$"):
		cost, err := bcrypt.Cost([]byte(s))
		if err != nil {
			return nil, fmt.Errorf("bad bcrypt hash: %w", err)
		}
		if cost > MaxBcryptCost {
			return nil, fmt.Errorf("bcrypt cost %d is refused: at most %d (each step doubles the time of a check; %d takes seconds)", cost, MaxBcryptCost, MaxBcryptCost)
		}
		return bcryptHash(s), nil
	case strings.HasPrefix(s, "$argon2i$"), strings.HasPrefix(s, "$argon2d$"):
		return nil, errors.New("argon2i and argon2d hashes are not accepted; use argon2id (caddy mfa hash-password)")
	case s == "":
		return nil, errors.New("password hash is empty")
	default:
		return nil, errors.New("unsupported password hash; use argon2id or bcrypt (caddy mfa hash-password)")
	}
}

type bcryptHash string

// Kind implements Hash.
func (h bcryptHash) Kind() string {
	cost, _ := bcrypt.Cost([]byte(h))
	return fmt.Sprintf("bcrypt/%d", cost)
}

// Matches implements Hash.
func (h bcryptHash) Matches(password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(h), []byte(password)) == nil
}

type argon2idHash struct {
	p    Argon2Params
	salt []byte
	key  []byte
}

func parseArgon2id(s string) (*argon2idHash, error) {
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	parts := strings.Split(s, "$")
	if len(parts) != 6 {
		return nil, errors.New("bad argon2id hash: want $argon2id$v=19$m=..,t=..,p=..$salt$hash")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return nil, fmt.Errorf("bad argon2id hash: unsupported version %q", parts[2])
	}
	h := &argon2idHash{}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.p.Memory, &h.p.Time, &h.p.Threads); err != nil {
		return nil, fmt.Errorf("bad argon2id hash parameters %q: %w", parts[3], err)
	}
	if h.p.Memory == 0 || h.p.Time == 0 || h.p.Threads == 0 {
		return nil, fmt.Errorf("bad argon2id hash parameters %q: zero value", parts[3])
	}
	// Refused when read, not when a sign-in tries to allocate them.
	switch {
	case h.p.Memory > MaxArgon2Memory:
		return nil, fmt.Errorf("argon2id memory m=%d KiB is refused: at most 1 GiB (m=%d)", h.p.Memory, MaxArgon2Memory)
	case h.p.Time > MaxArgon2Time:
		return nil, fmt.Errorf("argon2id time t=%d is refused: at most %d passes", h.p.Time, MaxArgon2Time)
	case h.p.Threads > MaxArgon2Threads:
		return nil, fmt.Errorf("argon2id parallelism p=%d is refused: at most %d lanes", h.p.Threads, MaxArgon2Threads)
	}
	var err error
	// Authelia writes unpadded standard base64; accept padded too.
	dec := func(x string) ([]byte, error) {
		return base64.RawStdEncoding.DecodeString(strings.TrimRight(x, "="))
	}
	if h.salt, err = dec(parts[4]); err != nil || len(h.salt) == 0 {
		return nil, errors.New("bad argon2id hash: salt is not base64")
	}
	if h.key, err = dec(parts[5]); err != nil || len(h.key) < 16 {
		return nil, errors.New("bad argon2id hash: hash is not base64 of at least 16 bytes")
	}
	h.p.KeyLen = uint32(len(h.key))
	return h, nil
}

// Kind implements Hash.
func (h *argon2idHash) Kind() string {
	return fmt.Sprintf("argon2id/%d/%d/%d/%d", h.p.Memory, h.p.Time, h.p.Threads, h.p.KeyLen)
}

// Matches implements Hash.
func (h *argon2idHash) Matches(password string) bool {
	got := argon2.IDKey([]byte(password), h.salt, h.p.Time, h.p.Memory, h.p.Threads, h.p.KeyLen)
	return subtle.ConstantTimeCompare(got, h.key) == 1
}
