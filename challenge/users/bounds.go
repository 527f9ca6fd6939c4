package users

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-crypt/x/yescrypt"
)

// Bounds on the cost of one password check that a users file may ask for,
// so that a typo or a hostile file cannot make each sign-in attempt take
// gigabytes or minutes (the gate bounds how many run at once, not what one
// costs). They are checked when the file is read.
const (
	// MaxBcryptCost is the highest bcrypt (and bcrypt-sha256) cost: 2^16
	// rounds, about 4 s per check on a current core (cost 10, the common
	// default, is 60 ms).
	MaxBcryptCost = 16
	// MaxArgon2Memory is the most memory one argon2 check may take, in
	// KiB: 1 GiB (OWASP's default is 19 MiB, Authelia's 64 MiB).
	MaxArgon2Memory = 1024 * 1024
	// MaxArgon2Time is the most passes over that memory (OWASP: 2,
	// Authelia: 3).
	MaxArgon2Time = 10
	// MaxArgon2Threads is the most lanes (parallelism) of one check;
	// each is a goroutine (Authelia's default is 4).
	MaxArgon2Threads = 16
	// MaxSHACryptRounds is the most sha256crypt/sha512crypt rounds:
	// 1,000,000, about half a second per check (Authelia's test users
	// have 500,000; its hash-password default is 50,000).
	MaxSHACryptRounds = 1_000_000
	// MaxPBKDF2Work bounds pbkdf2's iterations times the blocks of output
	// (key length over the digest size, rounded up): 5,000,000 HMACs,
	// a few seconds (OWASP asks 1,300,000 for sha1, 600,000 for sha256,
	// 210,000 for sha512, with one block).
	MaxPBKDF2Work = 5_000_000
	// MaxScryptMemory bounds scrypt's and yescrypt's 128·N·r·p bytes: 1
	// GiB, which bounds both the memory (128·N·r) and the time (N·r·p)
	// of one check (Authelia's default, ln=16 r=8 p=1, is 64 MiB).
	MaxScryptMemory = 1 << 30
	// MaxKeyBytes is the longest hash output accepted (bytes).
	MaxKeyBytes = 512
	// MaxHashBytes is the longest hash string accepted, of any kind,
	// {CRYPT} prefix included: 1 KiB (Authelia's are under 200 bytes).
	MaxHashBytes = 1024
	// MaxSHACryptSalt is the longest sha2crypt salt, in bytes: the 16 of
	// the sha-crypt specification (go-crypt does not cut a longer one, and
	// every byte is hashed in every round).
	MaxSHACryptSalt = 16
)

// Thresholds under which a hash is weak (Hash.Weak): accepted, and
// rewritten to argon2id on sign-in when rehash_on_sign_in is set.
const (
	// WeakBcryptCost: bcrypt under cost 10 (OWASP's minimum).
	WeakBcryptCost = 10
	// WeakSHACryptRounds: sha2crypt under 50,000 rounds (Authelia's
	// default; a hash without rounds= has 5,000).
	WeakSHACryptRounds = 50_000
)

// WeakPBKDF2Iterations is OWASP's minimum of pbkdf2 iterations for a
// digest ("sha1": 1,300,000; "sha224" and "sha256": 600,000; "sha384" and
// "sha512": 210,000); fewer are weak.
func WeakPBKDF2Iterations(digest string) int {
	switch digest {
	case "sha1":
		return 1_300_000
	case "sha224", "sha256":
		return 600_000
	default: // sha384, sha512
		return 210_000
	}
}

// digestSize is the output of a pbkdf2 digest, in bytes.
func digestSize(digest string) int {
	switch digest {
	case "sha1":
		return 20
	case "sha224":
		return 28
	case "sha256":
		return 32
	case "sha384":
		return 48
	default: // sha512
		return 64
	}
}

// cost is what a hash string says one check costs, read before the hash
// is decoded.
type cost struct {
	alg     string // argon2, bcrypt, bcrypt-sha256, sha2crypt, pbkdf2, scrypt, yescrypt
	variant string // argon2id, 2b, 6, sha256, ...
	// argon2: memory (KiB), time, threads; bcrypt: rounds = cost;
	// sha2crypt: rounds; pbkdf2: rounds = iterations; scrypt: ln, r, p.
	memory, time, threads uint64
	rounds                uint64
	ln, r, p              uint64
	keyLen                int
}

// name is the kind's algorithm as an operator writes it.
func (c cost) name() string {
	switch c.alg {
	case "argon2":
		return c.variant
	case "sha2crypt":
		if c.variant == "5" {
			return "sha256crypt"
		}
		return "sha512crypt"
	case "pbkdf2":
		return "pbkdf2-" + c.variant
	}
	return c.alg
}

// kind is Hash.Kind: the algorithm and every parameter the time of a
// check depends on.
func (c cost) kind() string {
	switch c.alg {
	case "argon2":
		return fmt.Sprintf("%s/%d/%d/%d/%d", c.variant, c.memory, c.time, c.threads, c.keyLen)
	case "bcrypt", "bcrypt-sha256", "sha2crypt":
		return fmt.Sprintf("%s/%d", c.name(), c.rounds)
	case "pbkdf2":
		return fmt.Sprintf("%s/%d/%d", c.name(), c.rounds, c.keyLen)
	default: // scrypt, yescrypt
		return fmt.Sprintf("%s/%d/%d/%d/%d", c.alg, c.ln, c.r, c.p, c.keyLen)
	}
}

// weak reports a cost under the Weak thresholds.
func (c cost) weak() bool {
	switch c.alg {
	case "bcrypt", "bcrypt-sha256":
		return c.rounds < WeakBcryptCost
	case "sha2crypt":
		return c.rounds < WeakSHACryptRounds
	case "pbkdf2":
		return c.rounds < uint64(WeakPBKDF2Iterations(c.variant))
	}
	return false
}

// check refuses costs beyond the bounds.
func (c cost) check() error {
	switch c.alg {
	case "argon2":
		switch {
		case c.memory > MaxArgon2Memory:
			return fmt.Errorf("%s memory m=%d KiB is refused: at most 1 GiB (m=%d)", c.variant, c.memory, MaxArgon2Memory)
		case c.time > MaxArgon2Time:
			return fmt.Errorf("%s time t=%d is refused: at most %d passes", c.variant, c.time, MaxArgon2Time)
		case c.threads > MaxArgon2Threads:
			return fmt.Errorf("%s parallelism p=%d is refused: at most %d lanes", c.variant, c.threads, MaxArgon2Threads)
		}
	case "bcrypt", "bcrypt-sha256":
		if c.rounds > MaxBcryptCost {
			return fmt.Errorf("%s cost %d is refused: at most %d (each step doubles the time of a check; %d takes seconds)", c.alg, c.rounds, MaxBcryptCost, MaxBcryptCost)
		}
	case "sha2crypt":
		if c.rounds > MaxSHACryptRounds {
			return fmt.Errorf("%s rounds=%d is refused: at most %d (about half a second per check)", c.name(), c.rounds, MaxSHACryptRounds)
		}
	case "pbkdf2":
		if c.rounds > MaxPBKDF2Work {
			return fmt.Errorf("%s iterations %d are refused: at most %d", c.name(), c.rounds, MaxPBKDF2Work)
		}
	case "scrypt", "yescrypt":
		if !scryptWithin(c.ln, c.r, c.p) {
			return fmt.Errorf("%s ln=%d r=%d p=%d is refused: 128·2^ln·r·p is at most 1 GiB", c.alg, c.ln, c.r, c.p)
		}
	}
	return nil
}

// checkKey refuses pbkdf2 work beyond the bound once the key length is
// known (each block of output repeats every iteration).
func (c cost) checkKey() error {
	if c.alg != "pbkdf2" {
		return nil
	}
	size := digestSize(c.variant)
	blocks := uint64((c.keyLen + size - 1) / size)
	if c.rounds*blocks > MaxPBKDF2Work {
		return fmt.Errorf("%s iterations %d × %d blocks of output are refused: at most %d", c.name(), c.rounds, blocks, MaxPBKDF2Work)
	}
	return nil
}

// costOf reads the algorithm and cost parameters of a normalised hash
// string (without {CRYPT}).
func costOf(s string) (cost, error) {
	if !strings.HasPrefix(s, "$") {
		return cost{}, errors.New("unsupported password hash: not in the $algorithm$… form (make one with caddy mfa hash-password)")
	}
	parts := strings.Split(s, "$")
	if len(parts) < 3 {
		return cost{}, errors.New("unsupported password hash: too few '$'-separated parts")
	}
	id := parts[1]
	switch id {
	case "argon2id", "argon2i", "argon2d":
		return argon2Cost(id, parts)
	case "2", "2a", "2b", "2x", "2y":
		n, err := strconv.ParseUint(parts[2], 10, 8)
		if err != nil {
			return cost{}, fmt.Errorf("bad bcrypt hash: cost %s is not a number", shown(parts[2]))
		}
		return cost{alg: "bcrypt", variant: id, rounds: n}, nil
	case "bcrypt-sha256":
		c := cost{alg: "bcrypt-sha256"}
		for _, kv := range strings.Split(parts[2], ",") {
			if v, ok := strings.CutPrefix(kv, "r="); ok {
				n, err := strconv.ParseUint(v, 10, 8)
				if err != nil {
					return cost{}, fmt.Errorf("bad bcrypt-sha256 hash: cost %s is not a number", shown(v))
				}
				c.rounds = n
			}
		}
		if c.rounds == 0 {
			return cost{}, errors.New("bad bcrypt-sha256 hash: no r= cost")
		}
		return c, nil
	case "5", "6":
		c := cost{alg: "sha2crypt", variant: id, rounds: 5000}
		if v, ok := strings.CutPrefix(parts[2], "rounds="); ok {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return cost{}, fmt.Errorf("bad sha2crypt hash: rounds %s is not a number", shown(v))
			}
			c.rounds = n
		}
		if n := len(parts[len(parts)-2]); len(parts) >= 4 && n > MaxSHACryptSalt {
			return cost{}, fmt.Errorf("bad %s hash: a salt of %d bytes is refused: at most %d", c.name(), n, MaxSHACryptSalt)
		}
		return c, nil
	case "pbkdf2", "pbkdf2-sha1", "pbkdf2-sha224", "pbkdf2-sha256", "pbkdf2-sha384", "pbkdf2-sha512":
		v := strings.TrimPrefix(strings.TrimPrefix(id, "pbkdf2"), "-")
		if v == "" {
			v = "sha1"
		}
		n, err := strconv.ParseUint(parts[2], 10, 32)
		if err != nil {
			return cost{}, fmt.Errorf("bad pbkdf2 hash: iterations %s is not a number", shown(parts[2]))
		}
		return cost{alg: "pbkdf2", variant: v, rounds: n}, nil
	case "scrypt":
		c := cost{alg: "scrypt", ln: 16, r: 8, p: 1}
		for _, kv := range strings.Split(parts[2], ",") {
			k, v, _ := strings.Cut(kv, "=")
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return cost{}, fmt.Errorf("bad scrypt hash: parameter %s is not a number", shown(kv))
			}
			switch k {
			case "ln":
				c.ln = n
			case "r":
				c.r = n
			case "p":
				c.p = n
			}
		}
		return c, nil
	case "y":
		_, ln, r, err := yescrypt.DecodeSetting([]byte(parts[2]))
		if err != nil || ln < 0 || r < 0 {
			return cost{}, fmt.Errorf("bad yescrypt hash: parameters %s are not readable", shown(parts[2]))
		}
		return cost{alg: "yescrypt", ln: uint64(ln), r: uint64(r), p: 1}, nil
	case "1", "md5":
		return cost{}, errors.New("md5crypt password hashes are not accepted (too weak); use argon2id (caddy mfa hash-password)")
	case "sha1":
		return cost{}, errors.New("sha1crypt password hashes are not accepted (too weak); use argon2id (caddy mfa hash-password)")
	case "plaintext", "base64":
		return cost{}, fmt.Errorf("$%s$ passwords are not accepted: they are the password itself, not a hash; use argon2id (caddy mfa hash-password)", id)
	}
	return cost{}, fmt.Errorf("unsupported password hash %s; use argon2id, bcrypt, sha2crypt, pbkdf2 or scrypt (caddy mfa hash-password makes argon2id)", shown(id))
}

// argon2Cost reads m=, t= and p=; absent ones take go-crypt's (and so
// Authelia's) defaults: m=32768, t=1, p=4. The form is exactly
// $id$v=19$params$salt$hash, with v= alone in its segment and no key twice:
// go-crypt reads the version segment after the parameters, so a key hidden
// there, or given twice, would be what a check pays while these bounds saw
// another value. ParseHash checks the decoded digest against this reading
// too.
func argon2Cost(id string, parts []string) (cost, error) {
	c := cost{alg: "argon2", variant: id, memory: 32 * 1024, time: 1, threads: 4}
	if len(parts) != 6 {
		return cost{}, fmt.Errorf("bad %s hash: %d '$'-separated segments, want $%s$v=19$m=..,t=..,p=..$salt$hash", id, len(parts)-1, id)
	}
	if v, ok := strings.CutPrefix(parts[2], "v="); !ok || strings.ContainsAny(v, ",=") {
		return cost{}, fmt.Errorf("bad %s hash: the version segment %s must be v= alone, want $%s$v=19$m=..,t=..,p=..$salt$hash", id, shown(parts[2]), id)
	}
	seen := map[string]bool{}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		if seen[k] {
			return cost{}, fmt.Errorf("bad %s hash parameters %s: %s= is given twice", id, shown(parts[3]), shown(k))
		}
		seen[k] = true
		var dst *uint64
		switch k {
		case "m":
			dst = &c.memory
		case "t":
			dst = &c.time
		case "p":
			dst = &c.threads
		default:
			continue // k= and unknown ones: the decoder judges
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return cost{}, fmt.Errorf("bad %s hash parameters %s: %s is not a number", id, shown(parts[3]), k)
		}
		if n == 0 {
			return cost{}, fmt.Errorf("bad %s hash parameters %s: zero value", id, shown(parts[3]))
		}
		*dst = n
	}
	return c, nil
}

// scryptWithin reports whether 128·2^ln·r·p is at most MaxScryptMemory,
// without overflowing.
func scryptWithin(ln, r, p uint64) bool {
	if ln >= 40 || r == 0 || p == 0 {
		return ln < 40
	}
	mem := uint64(128) << ln
	if mem > MaxScryptMemory || r > MaxScryptMemory/mem {
		return false
	}
	mem *= r
	return p <= MaxScryptMemory/mem
}

// paramLike is what a piece of a hash string must look like to be shown in
// an error: a parameter, never a password typed into the field by mistake.
var paramLike = regexp.MustCompile(`^[a-z0-9=,.-]{1,32}$`)

// shown is s quoted if it looks like a parameter, else "(not shown)".
func shown(s string) string {
	if paramLike.MatchString(s) {
		return strconv.Quote(s)
	}
	return "(not shown)"
}
