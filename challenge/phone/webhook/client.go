package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

// MinSecretLen is the shortest secret New accepts, in bytes.
const MinSecretLen = 16

// Client posts text messages, and other signed JSON bodies (PostJSON), to
// one gateway. Build it with New; its fields may be replaced before first
// use, never while in use.
type Client struct {
	// URL is the gateway's absolute http(s) URL.
	URL string
	// Secret keys the requests' signatures.
	Secret []byte
	// HTTP sends the requests; New sets one with a Timeout of
	// phone.SendTimeout that does not follow redirects.
	HTTP *http.Client
	// Now is the clock for the timestamp and sent_at; New sets time.Now.
	Now func() time.Time
}

// Client sends texts.
var _ phone.TextSender = (*Client)(nil)

// New checks its arguments and returns a Client posting to rawURL with
// signatures keyed by a copy of secret.
func New(rawURL string, secret []byte) (*Client, error) {
	u, err := phone.CheckURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("webhook: secret is %d bytes, need at least %d", len(secret), MinSecretLen)
	}
	if u.Fragment != "" {
		return nil, errors.New("webhook: URL must not have a fragment")
	}
	return &Client{
		URL:    rawURL,
		Secret: append([]byte(nil), secret...),
		HTTP:   phone.HTTPClient(),
		Now:    time.Now,
	}, nil
}
