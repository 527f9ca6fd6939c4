package totp

import (
	"encoding/base32"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	ptotp "github.com/pquerna/otp/totp"
)

// RFC 6238 appendix B: the seeds are these ASCII strings.
var (
	rfcSHA1   = b32("12345678901234567890")
	rfcSHA256 = b32("12345678901234567890123456789012")
	rfcSHA512 = b32("1234567890123456789012345678901234567890123456789012345678901234")
)

func b32(s string) string { return base32.StdEncoding.EncodeToString([]byte(s)) }

func defaults() Config {
	var c Config
	c.Defaults()
	return c
}

// now is 10 s into a 30 s step.
var now = time.Unix(1_700_000_010, 0)

const secret = "JBSWY3DPEHPK3PXP"

func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := ptotp.GenerateCodeCustom(secret, at, ptotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckRFC6238Vectors(t *testing.T) {
	tests := []struct {
		alg, secret string
		unix        int64
		code        string
	}{
		{"SHA1", rfcSHA1, 59, "94287082"},
		{"SHA256", rfcSHA256, 59, "46119246"},
		{"SHA512", rfcSHA512, 59, "90693936"},
		{"SHA1", rfcSHA1, 1111111109, "07081804"},
		{"SHA256", rfcSHA256, 1111111109, "68084774"},
		{"SHA512", rfcSHA512, 1111111109, "25091201"},
		{"SHA1", rfcSHA1, 1234567890, "89005924"},
		{"SHA1", rfcSHA1, 20000000000, "65353130"},
	}
	for _, tt := range tests {
		c := Config{Algorithm: tt.alg, Digits: 8, Period: 30 * time.Second, Skew: 0}
		step, err := c.Check(tt.code, tt.secret, time.Unix(tt.unix, 0), -1)
		if err != nil {
			t.Errorf("%s at %d: Check(%s) = %v", tt.alg, tt.unix, tt.code, err)
			continue
		}
		if step != tt.unix/30 {
			t.Errorf("%s at %d: step = %d, want %d", tt.alg, tt.unix, step, tt.unix/30)
		}
		// The 6-digit code is the last six digits of the 8-digit one.
		c.Digits = 6
		if _, err := c.Check(tt.code[2:], tt.secret, time.Unix(tt.unix, 0), -1); err != nil {
			t.Errorf("%s at %d: 6-digit Check(%s) = %v", tt.alg, tt.unix, tt.code[2:], err)
		}
	}
}

func TestCheckWindow(t *testing.T) {
	c := defaults()
	step := now.Unix() / 30
	for _, tt := range []struct {
		name   string
		offset int64 // steps from now
		ok     bool
	}{
		{"current step", 0, true},
		{"one step behind (phone clock slow)", -1, true},
		{"one step ahead (phone clock fast)", 1, true},
		{"two steps behind", -2, false},
		{"two steps ahead", 2, false},
		{"an hour old", -120, false},
	} {
		code := codeAt(t, secret, now.Add(time.Duration(tt.offset)*30*time.Second))
		got, err := c.Check(code, secret, now, -1)
		if tt.ok {
			if err != nil || got != step+tt.offset {
				t.Errorf("%s: Check = %d, %v; want step %d", tt.name, got, err, step+tt.offset)
			}
		} else if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Check = %d, %v; want ErrInvalid", tt.name, got, err)
		}
	}
}

func TestCheckSkewZero(t *testing.T) {
	c := defaults()
	c.Skew = 0
	if _, err := c.Check(codeAt(t, secret, now), secret, now, -1); err != nil {
		t.Fatalf("current code with skew 0: %v", err)
	}
	if _, err := c.Check(codeAt(t, secret, now.Add(-30*time.Second)), secret, now, -1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("previous step's code with skew 0: err = %v, want ErrInvalid", err)
	}
}

func TestCheckRefusesReplay(t *testing.T) {
	c := defaults()
	step := now.Unix() / 30
	code := codeAt(t, secret, now)
	got, err := c.Check(code, secret, now, -1)
	if err != nil {
		t.Fatal(err)
	}
	// The caller stored got as the last step; the same code again fails,
	// within its own step and in the next one, where skew still covers it.
	if _, err := c.Check(code, secret, now, got); !errors.Is(err, ErrReplayed) {
		t.Fatalf("same code again: err = %v, want ErrReplayed", err)
	}
	if _, err := c.Check(code, secret, now.Add(30*time.Second), got); !errors.Is(err, ErrReplayed) {
		t.Fatalf("same code one step later: err = %v, want ErrReplayed", err)
	}
	// A code older than the last one accepted fails too: codes only move forward.
	prev := codeAt(t, secret, now.Add(-30*time.Second))
	if _, err := c.Check(prev, secret, now, step); !errors.Is(err, ErrReplayed) {
		t.Fatalf("older code after a newer one: err = %v, want ErrReplayed", err)
	}
	// A code from after the last accepted step is fine.
	next := codeAt(t, secret, now.Add(30*time.Second))
	if s, err := c.Check(next, secret, now, step); err != nil || s != step+1 {
		t.Fatalf("next step's code = %d, %v; want %d", s, err, step+1)
	}
	// A wrong code with a last step is invalid, not "replayed".
	if _, err := c.Check(wrongCode(t, c, secret, now), secret, now, step); !errors.Is(err, ErrInvalid) {
		t.Fatalf("wrong code: err = %v, want ErrInvalid", err)
	}
}

// wrongCode returns a 6-digit code that no step within c's window produces.
func wrongCode(t *testing.T, c Config, secret string, at time.Time) string {
	t.Helper()
	window := map[string]bool{}
	for d := -c.Skew; d <= c.Skew; d++ {
		window[codeAt(t, secret, at.Add(time.Duration(d)*c.Period))] = true
	}
	for _, w := range []string{"000000", "123456", "999999", "555555"} {
		if !window[w] {
			return w
		}
	}
	t.Fatal("no wrong code found")
	return ""
}

func TestCheckMalformed(t *testing.T) {
	c := defaults()
	code := codeAt(t, secret, now)
	for _, bad := range []string{"", code[:5], code + "0", "0" + code, "abcdef", code[:5] + "x", "１２３４５６"} {
		if _, err := c.Check(bad, secret, now, -1); !errors.Is(err, ErrInvalid) {
			t.Errorf("Check(%q) err = %v, want ErrInvalid", bad, err)
		}
	}
	c8 := c
	c8.Digits = 8
	if _, err := c8.Check(code, secret, now, -1); !errors.Is(err, ErrInvalid) {
		t.Errorf("6-digit code with 8-digit config: err = %v, want ErrInvalid", err)
	}
}

func TestCheckNormalizesTypedCodes(t *testing.T) {
	c := defaults()
	code := codeAt(t, secret, now)
	for _, typed := range []string{
		code[:3] + " " + code[3:],
		code[:3] + "-" + code[3:],
		code[:3] + "\u00a0" + code[3:],
		"  " + code + "\n",
		"\t" + code[:2] + " " + code[2:4] + " " + code[4:] + " ",
	} {
		if _, err := c.Check(typed, secret, now, -1); err != nil {
			t.Errorf("Check(%q) = %v", typed, err)
		}
	}
	if got := Normalize(" 12-3\u00a045 6 "); got != "123456" {
		t.Errorf("Normalize = %q, want 123456", got)
	}
}

func TestGenerate(t *testing.T) {
	c := defaults()
	c.Issuer = "Example Corp"
	en, err := c.Generate("alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(en.Secret)
	if err != nil || len(raw) != 20 {
		t.Fatalf("secret %q is not 160 bits of base32 (%d bytes, %v)", en.Secret, len(raw), err)
	}
	if _, err := c.Check(codeAt(t, en.Secret, now), en.Secret, now, -1); err != nil {
		t.Fatalf("code from the generated secret refused: %v", err)
	}
	en2, err := c.Generate("alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if en2.Secret == en.Secret {
		t.Fatal("two generated secrets are equal")
	}

	u, err := url.Parse(en.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Example Corp:alice@example.com" ||
		q.Get("secret") != en.Secret || q.Get("issuer") != "Example Corp" || q.Get("digits") != "6" ||
		q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
		t.Fatalf("enrolment URL %q does not describe the seed", en.URL)
	}
	// The URL rebuilt later (enrolment page reloaded) says the same.
	u2, err := url.Parse(c.URL("alice@example.com", en.Secret))
	if err != nil {
		t.Fatal(err)
	}
	if u2.Path != u.Path || u2.Query().Encode() != q.Encode() {
		t.Fatalf("URL() = %q, Generate gave %q", u2, en.URL)
	}

	bad := c
	bad.Algorithm = "MD5"
	if _, err := bad.Generate("alice"); err == nil {
		t.Fatal("Generate with a bad algorithm succeeded")
	}
}

func TestURL(t *testing.T) {
	c := defaults()
	c.Issuer = "Example"
	got := c.URL("alice", secret)
	want := "otpauth://totp/Example:alice?algorithm=SHA1&digits=6&issuer=Example&period=30&secret=" + secret
	if got != want {
		t.Fatalf("URL = %q\nwant  %q", got, want)
	}

	// Spaces are %20 (as the Key URI format asks), and an account name
	// cannot add query parameters.
	c.Issuer = "Caddy MFA"
	c.Digits, c.Period, c.Algorithm = 8, 60*time.Second, "sha256"
	got = c.URL("eve&secret=AAAA?x#y", secret)
	if !strings.HasPrefix(got, "otpauth://totp/Caddy%20MFA:eve%26secret%3DAAAA%3Fx%23y?") {
		t.Fatalf("URL = %q", got)
	}
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Path != "/Caddy MFA:eve&secret=AAAA?x#y" || len(q["secret"]) != 1 || q.Get("secret") != secret ||
		q.Get("digits") != "8" || q.Get("period") != "60" || q.Get("algorithm") != "SHA256" || q.Get("issuer") != "Caddy MFA" {
		t.Fatalf("URL %q parsed to path %q, query %v", got, u.Path, q)
	}
}

func TestGroup(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "",
		"ABC":              "ABC",
		"ABCD":             "ABCD",
		"ABCDE":            "ABCD E",
		"JBSWY3DPEHPK3PXP": "JBSW Y3DP EHPK 3PXP",
	} {
		if got := Group(in); got != want {
			t.Errorf("Group(%q) = %q, want %q", in, got, want)
		}
	}
	if got := (Enrolment{Secret: secret}).GroupedSecret(); got != "JBSW Y3DP EHPK 3PXP" {
		t.Errorf("GroupedSecret = %q", got)
	}
}

func TestDefaultsAndValidate(t *testing.T) {
	c := defaults()
	if c.Issuer != "Caddy MFA" || c.Algorithm != "SHA1" || c.Digits != 6 || c.Period != 30*time.Second || c.Skew != 1 {
		t.Fatalf("defaults = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	set := Config{Issuer: "X", Algorithm: "SHA512", Digits: 8, Period: time.Minute, Skew: 2}
	set.Defaults()
	if set.Issuer != "X" || set.Algorithm != "SHA512" || set.Digits != 8 || set.Period != time.Minute || set.Skew != 2 {
		t.Fatalf("Defaults overwrote set fields: %+v", set)
	}

	tests := []struct {
		name string
		edit func(*Config)
		want string // "" means valid
	}{
		{"lower-case algorithm", func(c *Config) { c.Algorithm = "sha256" }, ""},
		{"8 digits", func(c *Config) { c.Digits = 8 }, ""},
		{"15s period", func(c *Config) { c.Period = 15 * time.Second }, ""},
		{"5m period", func(c *Config) { c.Period = 5 * time.Minute }, ""},
		{"skew 0", func(c *Config) { c.Skew = 0 }, ""},
		{"skew 3", func(c *Config) { c.Skew = 3 }, ""},
		{"MD5", func(c *Config) { c.Algorithm = "MD5" }, "algorithm"},
		{"empty algorithm", func(c *Config) { c.Algorithm = "" }, "algorithm"},
		{"7 digits", func(c *Config) { c.Digits = 7 }, "digits"},
		{"10 digits", func(c *Config) { c.Digits = 10 }, "digits"},
		{"10s period", func(c *Config) { c.Period = 10 * time.Second }, "period"},
		{"6m period", func(c *Config) { c.Period = 6 * time.Minute }, "period"},
		{"fractional period", func(c *Config) { c.Period = 30*time.Second + time.Millisecond }, "period"},
		{"negative skew", func(c *Config) { c.Skew = -1 }, "skew"},
		{"skew 4", func(c *Config) { c.Skew = 4 }, "skew"},
	}
	for _, tt := range tests {
		c := defaults()
		tt.edit(&c)
		err := c.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Validate = %v, want nil", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: Validate = %v, want an error about %s", tt.name, err, tt.want)
		}
	}
}
