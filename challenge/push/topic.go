package push

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
)

const (
	// topicPrefix starts every topic, so that an operator sees in ntfy's
	// logs what a topic is for.
	topicPrefix = "mfa-"
	// topicBytes is the topic's randomness: 128 bits.
	topicBytes = 16
	// topicChars is the length of topicBytes in unpadded base32.
	topicChars = (topicBytes*8 + 4) / 5
)

// topicEncoding is unpadded base32 (RFC 4648); topics use it in lower case.
func topicEncoding() *base32.Encoding {
	return base32.StdEncoding.WithPadding(base32.NoPadding)
}

// NewTopic returns a fresh random topic: "mfa-" and 26 lower-case base32
// characters (128 bits from crypto/rand). It is valid for ntfy, whose
// topics are 1 to 64 of [-_A-Za-z0-9], and hard to guess, which is what
// keeps others from reading an open ntfy server's prompts.
func NewTopic() (string, error) {
	b := make([]byte, topicBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("push: making a topic: %w", err)
	}
	return topicPrefix + strings.ToLower(topicEncoding().EncodeToString(b)), nil
}

// ValidTopic reports whether s has the form NewTopic makes.
func ValidTopic(s string) bool {
	rest, ok := strings.CutPrefix(s, topicPrefix)
	if !ok || len(rest) != topicChars {
		return false
	}
	for _, c := range []byte(rest) {
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	// Encoding again refuses a last character with the unused low bits
	// set, which NewTopic never makes.
	upper := strings.ToUpper(rest)
	b, err := topicEncoding().DecodeString(upper)
	return err == nil && topicEncoding().EncodeToString(b) == upper
}
