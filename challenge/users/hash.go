package users

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/go-crypt/crypt"
	"github.com/go-crypt/crypt/algorithm"
	"github.com/go-crypt/crypt/algorithm/argon2"
	"github.com/go-crypt/crypt/algorithm/bcrypt"
	"github.com/go-crypt/crypt/algorithm/pbkdf2"
	"github.com/go-crypt/crypt/algorithm/scrypt"
	"github.com/go-crypt/crypt/algorithm/shacrypt"
	xargon2 "golang.org/x/crypto/argon2"
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
	if len(password) > MaxPasswordBytes {
		// It could never sign in: longer ones are refused unhashed.
		return "", fmt.Errorf("password is %d bytes; at most %d are checked at sign-in", len(password), MaxPasswordBytes)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("reading salt: %w", err)
	}
	key := xargon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		xargon2.Version, p.Memory, p.Time, p.Threads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Hash is a parsed password hash that can check a password.
type Hash interface {
	// Matches reports whether password hashes to this hash, in constant time.
	Matches(password string) bool
	// Kind names the algorithm and cost ("bcrypt/10", "argon2id/19456/2/1/32"):
	// hashes of one kind take the same time to check.
	Kind() string
	// Weak reports a hash cheaper to crack than the thresholds of
	// WeakBcryptCost, WeakSHACryptRounds and WeakPBKDF2Iterations: still
	// accepted, and upgraded to argon2id on sign-in with rehash_on_sign_in.
	Weak() bool
}

// MaxPasswordBytes is the longest password checked, for every kind alike
// (a limit per kind would tell the kind by timing): 128 bytes, twice
// NIST's minimum of 64. sha2crypt's cost grows with the password's length
// times its rounds: at MaxSHACryptRounds a 128-byte password takes under a
// second, a 1 KiB one several; longer passwords fail at once, unhashed.
const MaxPasswordBytes = 128

// decoder reads every kind Authelia's users file accepts (go-crypt's
// default profile: argon2, bcrypt (with bcrypt-sha256), pbkdf2, scrypt and
// yescrypt, sha2crypt). md5crypt, sha1crypt and plain text are not in it.
func decoder() (*crypt.Decoder, error) {
	d := crypt.NewDecoder()
	for _, reg := range []func(algorithm.DecoderRegister) error{
		argon2.RegisterDecoder, bcrypt.RegisterDecoder,
		pbkdf2.RegisterDecoder, scrypt.RegisterDecoder, shacrypt.RegisterDecoder,
	} {
		if err := reg(d); err != nil {
			return nil, fmt.Errorf("password hash decoder: %w", err)
		}
	}
	return d, nil
}

// ParseHash parses a password hash of any kind Authelia accepts, with or
// without an LDAP-style {CRYPT} or {ARGON2} prefix: argon2id, argon2i and
// argon2d (PHC format, m=, t= and p= optional as in Authelia), bcrypt ($2a$,
// $2b$, $2y$, $2x$) and bcrypt-sha256, sha256crypt ($5$) and sha512crypt
// ($6$), pbkdf2 (sha1, sha224, sha256, sha384, sha512), scrypt and
// yescrypt ($y$). Costs beyond the Max bounds (see bounds.go) are refused,
// so that a hostile file cannot make one check take gigabytes or minutes.
func ParseHash(s string) (Hash, error) {
	if s == "" {
		return nil, errors.New("password hash is empty")
	}
	if len(s) > MaxHashBytes {
		return nil, fmt.Errorf("a password hash of %d bytes is refused: at most %d", len(s), MaxHashBytes)
	}
	norm := crypt.Normalize(s)
	c, err := costOf(norm)
	if err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	if c.alg == "argon2" {
		// Authelia writes unpadded base64; accept padded too.
		norm = unpadArgon2(norm)
	}
	d, err := decoder()
	if err != nil {
		return nil, err
	}
	digest, err := d.Decode(norm)
	if err != nil {
		return nil, fmt.Errorf("bad %s hash: %w", c.name(), redact(err))
	}
	if c.alg == "argon2" {
		// The cost is the one go-crypt decoded, not only the one read
		// above: read it again from the digest's own encoding.
		again, err := costOf(digest.Encode())
		if err != nil || again.kind() != c.kind() {
			return nil, fmt.Errorf("bad %s hash: its parameters read as %s but decode otherwise", c.name(), c.kind())
		}
	}
	if n := len(digest.Key()); n > MaxKeyBytes {
		return nil, fmt.Errorf("%s hash key of %d bytes is refused: at most %d", c.name(), n, MaxKeyBytes)
	} else if n < minKeyBytes {
		return nil, fmt.Errorf("bad %s hash: the hash is %d bytes, want at least %d", c.name(), n, minKeyBytes)
	}
	if len(digest.Salt()) == 0 {
		return nil, fmt.Errorf("bad %s hash: the salt is empty", c.name())
	}
	c.keyLen = len(digest.Key())
	if err := c.checkKey(); err != nil {
		return nil, err
	}
	return &cryptHash{d: digest, kind: c.kind(), weak: c.weak()}, nil
}

// minKeyBytes is the shortest hash output accepted: 16 bytes (bcrypt's
// is 23, sha2crypt's 32 or 64).
const minKeyBytes = 16

// unpadArgon2 drops '=' padding from the salt and hash of an argon2 PHC
// string.
func unpadArgon2(s string) string {
	parts := strings.Split(s, "$")
	if len(parts) >= 2 {
		for i := len(parts) - 2; i < len(parts); i++ {
			parts[i] = strings.TrimRight(parts[i], "=")
		}
	}
	return strings.Join(parts, "$")
}

// cryptHash is a hash read by go-crypt.
type cryptHash struct {
	d    algorithm.Digest
	kind string
	weak bool
}

// Kind implements Hash.
func (h *cryptHash) Kind() string { return h.kind }

// Weak implements Hash.
func (h *cryptHash) Weak() bool { return h.weak }

// Matches implements Hash.
func (h *cryptHash) Matches(password string) bool {
	if len(password) > MaxPasswordBytes {
		return false
	}
	return h.d.Match(password)
}

// quoted is a piece go-crypt's errors quote ('…').
var quoted = regexp.MustCompile(`'[^']*'`)

// redactedError is a go-crypt error with the pieces of the hash it quotes
// shown only if they look like parameters (see shown).
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact hides the pieces of the hash string err quotes unless they look
// like parameters: a password typed into the field is not echoed.
func redact(err error) error {
	msg := quoted.ReplaceAllStringFunc(err.Error(), func(q string) string {
		return shown(strings.Trim(q, "'"))
	})
	return &redactedError{msg: msg, err: err}
}
