package ntfy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/push"
)

const (
	// maxMessage is ntfy's default limit on a message, in bytes; a longer
	// one would arrive as an attachment.
	maxMessage = 4096
	// maxAnswer is how much of an answer Notify reads.
	maxAnswer = 4 << 10
	// maxDetail bounds the server's error text in an error message.
	maxDetail = 200
	// priority is the prompts' priority: "high", a long vibration.
	priority = 4
)

// message is a message published as JSON; see
// https://docs.ntfy.sh/publish/#publish-as-json.
type message struct {
	Topic    string   `json:"topic"`
	Title    string   `json:"title"`
	Message  string   `json:"message"`
	Tags     []string `json:"tags"`
	Priority int      `json:"priority"`
	Click    string   `json:"click"`
	Actions  []action `json:"actions"`
}

// action is a "view" action button.
type action struct {
	Action string `json:"action"`
	Label  string `json:"label"`
	URL    string `json:"url"`
	Clear  bool   `json:"clear"`
}

// Notify publishes n to its topic: a high-priority message with a lock tag,
// which opens n.URL when tapped or through its one button, kept out of the
// server's cache unless c.Cache. A refusal,
// network error or time-out (c.Timeout, or what ctx allows) wraps
// push.ErrNotifier and gives the HTTP status and ntfy's error text, never
// the token, topic or URL; an invalid n gives an error that does not.
func (c *Client) Notify(ctx context.Context, n push.Notification) error {
	if err := n.Validate(); err != nil {
		return fmt.Errorf("ntfy: invalid notification: %w", err)
	}
	if len(n.Message) > maxMessage {
		return fmt.Errorf("ntfy: invalid notification: message is %d bytes, more than ntfy's %d", len(n.Message), maxMessage)
	}
	body, err := json.Marshal(message{
		Topic:    n.Topic,
		Title:    n.Title,
		Message:  n.Message,
		Tags:     []string{"lock"},
		Priority: priority,
		Click:    n.URL,
		Actions:  []action{{Action: "view", Label: n.Action, URL: n.URL, Clear: true}},
	})
	if err != nil {
		return fmt.Errorf("ntfy: encoding message: %w", err)
	}
	if err := c.publish(ctx, body); err != nil {
		return fmt.Errorf("ntfy: publishing: %w: %w", push.ErrNotifier, err)
	}
	return nil
}

// publish posts body to the server's root.
func (c *Client) publish(ctx context.Context, body []byte) error {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = push.SendTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.server()+"/", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "caddy-mfa")
	if !c.Cache {
		// A prompt lives minutes; ntfy would keep it for its
		// cache-duration (https://docs.ntfy.sh/publish/#message-caching).
		req.Header.Set("X-Cache", "no")
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := phone.Do(c.HTTP, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	if err != nil {
		answer = nil // a broken answer's start tells nothing
	}
	return fmt.Errorf("server answered HTTP %d %s%s", resp.StatusCode, http.StatusText(resp.StatusCode), c.detail(answer))
}

// detail is ntfy's error text in answer, such as `: "forbidden" (code
// 40301)`, or "" if answer is not ntfy's JSON error.
func (c *Client) detail(answer []byte) string {
	var e struct {
		Code  int    `json:"code"`
		Error string `json:"error"`
	}
	if json.Unmarshal(answer, &e) != nil || e.Error == "" {
		return ""
	}
	text := e.Error
	if c.token != "" {
		text = strings.ReplaceAll(text, c.token, "[token]")
	}
	if len(text) > maxDetail {
		text = text[:maxDetail] + "…"
	}
	if e.Code == 0 {
		return fmt.Sprintf(": %q", text)
	}
	return fmt.Sprintf(": %q (code %d)", text, e.Code)
}
