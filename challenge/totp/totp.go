// Package totp is the "Mobile app — verification code" method: RFC 6238
// codes from an authenticator app, through pquerna/otp, accepted once each.
package totp

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	ptotp "github.com/pquerna/otp/totp"
)

// Config is how codes are made. The defaults (SHA1, 6 digits, 30 s, one step
// of skew) are the only ones every authenticator app supports.
type Config struct {
	// Issuer names the gateway in the authenticator app.
	Issuer string
	// Algorithm is SHA1, SHA256 or SHA512.
	Algorithm string
	// Digits is 6 or 8.
	Digits int
	// Period is the time step.
	Period time.Duration
	// Skew is how many steps before and after now are accepted.
	Skew int
}

// Defaults fills zero fields with the defaults.
func (c *Config) Defaults() {
	if c.Issuer == "" {
		c.Issuer = "Caddy MFA"
	}
	if c.Algorithm == "" {
		c.Algorithm = "SHA1"
	}
	if c.Digits == 0 {
		c.Digits = 6
	}
	if c.Period == 0 {
		c.Period = 30 * time.Second
	}
	if c.Skew == 0 {
		c.Skew = 1
	}
}

// Validate reports the first bad field.
func (c *Config) Validate() error {
	if _, err := algorithm(c.Algorithm); err != nil {
		return err
	}
	if c.Digits != 6 && c.Digits != 8 {
		return fmt.Errorf("totp digits must be 6 or 8, not %d", c.Digits)
	}
	if c.Period < 15*time.Second || c.Period > 5*time.Minute || c.Period%time.Second != 0 {
		return fmt.Errorf("totp period must be whole seconds between 15s and 5m, not %s", c.Period)
	}
	if c.Skew < 0 || c.Skew > 3 {
		return fmt.Errorf("totp skew must be between 0 and 3 steps, not %d", c.Skew)
	}
	return nil
}

func algorithm(name string) (otp.Algorithm, error) {
	switch strings.ToUpper(name) {
	case "SHA1":
		return otp.AlgorithmSHA1, nil
	case "SHA256":
		return otp.AlgorithmSHA256, nil
	case "SHA512":
		return otp.AlgorithmSHA512, nil
	}
	return 0, fmt.Errorf("totp algorithm must be SHA1, SHA256 or SHA512, not %q", name)
}

// Enrolment is a newly generated seed, to be shown to the user.
type Enrolment struct {
	// Secret is the base32 seed.
	Secret string
	// URL is the otpauth:// URI that authenticator apps read from the QR code.
	URL string
}

// GroupedSecret is the seed in groups of four, easier to type by hand.
func (e Enrolment) GroupedSecret() string { return Group(e.Secret) }

// Group splits s into space-separated groups of four characters.
func Group(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Generate makes a new 160-bit seed for account.
func (c Config) Generate(account string) (Enrolment, error) {
	alg, err := algorithm(c.Algorithm)
	if err != nil {
		return Enrolment{}, err
	}
	// pquerna/otp makes the seed; its URI escapes the query with
	// PathEscape, which leaves & and + as they are, so URL builds it.
	key, err := ptotp.Generate(ptotp.GenerateOpts{
		Issuer:      c.Issuer,
		AccountName: account,
		Period:      uint(c.Period / time.Second),
		SecretSize:  20,
		Digits:      otp.Digits(c.Digits),
		Algorithm:   alg,
	})
	if err != nil {
		return Enrolment{}, fmt.Errorf("generating totp seed: %w", err)
	}
	return Enrolment{Secret: key.Secret(), URL: c.URL(account, key.Secret())}, nil
}

// URL builds the otpauth:// URI of secret for account: the one string the
// registration page links to and its QR code holds, whatever characters
// the issuer (the organisation's name) and the account have. Every part is
// escaped as a query value is, with spaces as %20 rather than + (some
// authenticator apps show a +), so &, =, #, ?, % and + stay inside their
// part. The label is "issuer:account" (Google's Key URI format), or only
// the account if the issuer has a colon of its own, which would split the
// label in the wrong place; the issuer parameter names it either way.
func (c Config) URL(account, secret string) string {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", c.Issuer)
	v.Set("algorithm", strings.ToUpper(c.Algorithm))
	v.Set("digits", fmt.Sprint(c.Digits))
	v.Set("period", fmt.Sprint(int(c.Period/time.Second)))
	label := escape(account)
	if !strings.Contains(c.Issuer, ":") {
		label = escape(c.Issuer) + ":" + label
	}
	// Values.Encode escapes each key and value with QueryEscape, which
	// writes a + of the text as %2B: every + left is a space.
	return "otpauth://totp/" + label + "?" + strings.ReplaceAll(v.Encode(), "+", "%20")
}

// escape escapes s for any part of an otpauth:// URI, spaces as %20.
func escape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// ErrInvalid is returned for a code that is wrong, malformed or outside the window.
var ErrInvalid = errors.New("the code is not valid")

// ErrReplayed is returned for a right code of a time step already used.
var ErrReplayed = errors.New("the code was already used")

// Check verifies code against secret at now, accepting only time steps after
// lastStep, and returns the step it matched. The caller stores that step
// (atomically with the check) so the same code cannot be used again.
func (c Config) Check(code, secret string, now time.Time, lastStep int64) (int64, error) {
	code = Normalize(code)
	if len(code) != c.Digits {
		return 0, ErrInvalid
	}
	alg, err := algorithm(c.Algorithm)
	if err != nil {
		return 0, err
	}
	opts := ptotp.ValidateOpts{Period: uint(c.Period / time.Second), Digits: otp.Digits(c.Digits), Algorithm: alg}
	period := int64(c.Period / time.Second)
	step := now.Unix() / period
	matched, replayed := int64(-1), false
	// Check every step in the window, whatever matches, so timing does not
	// tell which step matched.
	for d := -c.Skew; d <= c.Skew; d++ {
		s := step + int64(d)
		want, err := ptotp.GenerateCodeCustom(secret, time.Unix(s*period, 0), opts)
		if err != nil {
			return 0, fmt.Errorf("computing totp code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			if s > lastStep {
				if matched < 0 {
					matched = s
				}
			} else {
				replayed = true
			}
		}
	}
	if matched >= 0 {
		return matched, nil
	}
	if replayed {
		return 0, ErrReplayed
	}
	return 0, ErrInvalid
}

// Normalize removes spaces and dashes people type or paste into codes.
func Normalize(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u00a0' {
			return -1
		}
		return r
	}, strings.TrimSpace(code))
}
