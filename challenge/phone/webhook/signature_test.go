package webhook

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	secret := []byte("0123456789abcdef")
	body := []byte(`{"type":"sms","to":"+15005550006","text":"hi","sent_at":"2026-01-01T00:00:00Z"}`)
	now := time.Unix(1_800_000_000, 0)
	ts := now.Unix()
	tsHeader := strconv.FormatInt(ts, 10)
	sig := Sign(secret, ts, body)
	const skew = 5 * time.Minute

	if err := Verify(secret, tsHeader, sig, body, now, skew); err != nil {
		t.Fatalf("right signature refused: %v", err)
	}
	if err := Verify(secret, tsHeader, sig, body, now.Add(skew), skew); err != nil {
		t.Errorf("timestamp at the edge of the skew refused: %v", err)
	}
	if !strings.HasPrefix(sig, "v1=") || len(sig) != 3+64 || strings.ToLower(sig) != sig {
		t.Errorf("signature %q is not v1= and 64 lower-case hex digits", sig)
	}

	oldTS := strconv.FormatInt(ts-int64(skew/time.Second)-1, 10)
	futureTS := strconv.FormatInt(ts+int64(skew/time.Second)+1, 10)
	for _, tc := range []struct {
		name, ts, sig string
		body          []byte
		secret        []byte
		skew          time.Duration
	}{
		{"changed body", tsHeader, sig, []byte(strings.Replace(string(body), "hi", "ho", 1)), secret, skew},
		{"body with a space more", tsHeader, sig, append(append([]byte(nil), body...), ' '), secret, skew},
		{"wrong secret", tsHeader, sig, body, []byte("fedcba9876543210"), skew},
		{"old timestamp", oldTS, Sign(secret, ts-int64(skew/time.Second)-1, body), body, secret, skew},
		{"future timestamp", futureTS, Sign(secret, ts+int64(skew/time.Second)+1, body), body, secret, skew},
		{"timestamp changed", strconv.FormatInt(ts+1, 10), sig, body, secret, skew},
		{"empty timestamp", "", sig, body, secret, skew},
		{"timestamp not a number", "17e8", sig, body, secret, skew},
		{"negative timestamp", "-" + tsHeader, sig, body, secret, skew},
		{"timestamp with plus", "+" + tsHeader, sig, body, secret, skew},
		{"timestamp too large", "99999999999999999999", sig, body, secret, skew},
		{"empty signature", tsHeader, "", body, secret, skew},
		{"signature without prefix", tsHeader, strings.TrimPrefix(sig, "v1="), body, secret, skew},
		{"other scheme", tsHeader, "v2=" + strings.TrimPrefix(sig, "v1="), body, secret, skew},
		{"short signature", tsHeader, sig[:len(sig)-2], body, secret, skew},
		{"signature not hex", tsHeader, sig[:len(sig)-1] + "g", body, secret, skew},
		{"upper-case prefix", tsHeader, "V1=" + strings.TrimPrefix(sig, "v1="), body, secret, skew},
		{"no skew allowed", tsHeader, sig, body, secret, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.secret, tc.ts, tc.sig, tc.body, now, tc.skew)
			if !errors.Is(err, ErrSignature) {
				t.Fatalf("Verify = %v, want ErrSignature", err)
			}
			if strings.Contains(err.Error(), string(secret)) {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
}

func TestVerifyAcceptsUpperCaseHex(t *testing.T) {
	secret := []byte("0123456789abcdef")
	body := []byte("{}")
	sig := Sign(secret, 1000, body)
	if err := Verify(secret, "1000", "v1="+strings.ToUpper(sig[3:]), body, time.Unix(1000, 0), time.Minute); err != nil {
		t.Errorf("upper-case hex refused: %v", err)
	}
}
