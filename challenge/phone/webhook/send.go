package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

// payload is the JSON body of a request; see the package documentation.
type payload struct {
	Type   string `json:"type"`
	To     string `json:"to"`
	Ext    string `json:"ext,omitempty"`
	Text   string `json:"text"`
	SentAt string `json:"sent_at"`
}

// SendText posts t to the gateway, signed; see the package documentation
// for the request. Any answer but 2xx, a network error or a time-out
// (phone.SendTimeout, whatever ctx allows) is an error wrapping
// phone.ErrProvider that gives the HTTP status, never the text or secret.
func (c *Client) SendText(ctx context.Context, t phone.Text) error {
	if !isE164(t.To.E164) {
		return errors.New("webhook: sending text: recipient is not an E.164 number")
	}
	if t.Body == "" {
		return errors.New("webhook: sending text: empty message")
	}
	body := payload{
		Type:   "sms",
		To:     t.To.E164,
		Text:   t.Body,
		SentAt: c.now().UTC().Format(time.RFC3339),
	}
	if err := c.PostJSON(ctx, body); err != nil {
		return fmt.Errorf("webhook: sending text: %w", err)
	}
	return nil
}

// PostJSON posts v, encoded as JSON, to the gateway, signed with the time
// of c.Now; see the package documentation for the headers and the answer.
// Any answer but 2xx, a network error or a time-out (phone.SendTimeout,
// whatever ctx allows) is an error wrapping phone.ErrProvider that gives
// the HTTP status, never the body or secret. Callers add their own
// context to its errors.
func (c *Client) PostJSON(ctx context.Context, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding: %w", err)
	}
	return c.post(ctx, c.now().Unix(), body)
}

// now is c.Now, or time.Now if unset.
func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// isE164 reports whether s is "+", a non-zero digit and at most 14 more
// digits.
func isE164(s string) bool {
	digits, ok := strings.CutPrefix(s, "+")
	return ok && len(digits) >= 2 && len(digits) <= 15 && digits[0] != '0' && isDecimal(digits)
}

// post sends body signed for timestamp, bounded by phone.SendTimeout.
func (c *Client) post(ctx context.Context, timestamp int64, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, phone.SendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "caddy-mfa")
	req.Header.Set(TimestampHeader, strconv.FormatInt(timestamp, 10))
	req.Header.Set(SignatureHeader, Sign(c.Secret, timestamp, body))

	resp, err := phone.Do(c.HTTP, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// Drain a little so that the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%w: gateway answered HTTP %d %s", phone.ErrProvider, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return nil
}
