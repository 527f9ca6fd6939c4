package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

const (
	// TimestampHeader carries the sending time in Unix seconds.
	TimestampHeader = "X-MFA-Timestamp"
	// SignatureHeader carries the request's signature, "v1=" and hex.
	SignatureHeader = "X-MFA-Signature"
	// signaturePrefix names the signature scheme.
	signaturePrefix = "v1="
)

// ErrSignature wraps every reason Verify refuses a request.
var ErrSignature = errors.New("webhook: bad signature")

// Sign is the X-MFA-Signature value of body sent at timestamp (Unix
// seconds): "v1=" and the hexadecimal HMAC-SHA256, keyed by secret, of the
// decimal timestamp, ".", and body.
func Sign(secret []byte, timestamp int64, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(secret, strconv.FormatInt(timestamp, 10), body))
}

// mac is HMAC-SHA256(secret, timestamp + "." + body).
func mac(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a request's headers against the body it carried: the
// timestamp must be decimal Unix seconds within maxSkew (which must be
// positive) of now, either way, and the signature "v1=" and the 64
// hexadecimal digits of Sign, compared in constant time. Errors wrap
// ErrSignature.
func Verify(secret []byte, timestampHeader, signatureHeader string, body []byte, now time.Time, maxSkew time.Duration) error {
	if maxSkew <= 0 {
		return fmt.Errorf("%w: maximum clock skew must be positive", ErrSignature)
	}
	if !isDecimal(timestampHeader) {
		return fmt.Errorf("%w: timestamp %q is not Unix seconds", ErrSignature, cut(timestampHeader))
	}
	ts, err := strconv.ParseInt(timestampHeader, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is out of range", ErrSignature, cut(timestampHeader))
	}
	if skew := now.Sub(time.Unix(ts, 0)); skew > maxSkew || skew < -maxSkew {
		return fmt.Errorf("%w: timestamp is %v from now, more than %v", ErrSignature, skew.Round(time.Second), maxSkew)
	}
	hexSig, ok := strings.CutPrefix(signatureHeader, signaturePrefix)
	if !ok {
		return fmt.Errorf("%w: signature does not start with %q", ErrSignature, signaturePrefix)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: signature is not %d hexadecimal digits", ErrSignature, 2*sha256.Size)
	}
	if !hmac.Equal(got, mac(secret, timestampHeader, body)) {
		return fmt.Errorf("%w: signature does not match", ErrSignature)
	}
	return nil
}

// isDecimal reports whether s is 1 to 19 ASCII digits.
func isDecimal(s string) bool {
	if s == "" || len(s) > 19 {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// cut shortens a header for an error message.
func cut(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
