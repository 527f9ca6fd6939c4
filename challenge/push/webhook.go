package push

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/phone/webhook"
)

// Webhook sends prompts to an operator's URL (a Gotify, Slack or Teams
// bridge, a company app), signed as package phone/webhook signs text
// messages: one POST per prompt with the X-MFA-Timestamp and
// X-MFA-Signature headers, and the body
//
//	{"type":"push","user":"alice","device":"mfa-...","title":"Approve sign-in?",
//	 "message":"...","action":"Review sign-in","url":"https://...","site":"wiki.example.com",
//	 "ip":"203.0.113.7","browser":"Firefox on Linux","time":"2026-01-01T00:00:00Z",
//	 "expires":"2026-01-01T00:02:00Z","test":false}
//
// with every member always present (browser may be ""), device the user's
// topic, and the times in RFC 3339, UTC. Any 2xx answer means the prompt
// was taken.
type Webhook struct {
	client *webhook.Client
}

// Webhook sends prompts.
var _ Notifier = (*Webhook)(nil)

// webhookBody is the JSON body of a prompt; see Webhook.
type webhookBody struct {
	Type    string `json:"type"`
	User    string `json:"user"`
	Device  string `json:"device"`
	Title   string `json:"title"`
	Message string `json:"message"`
	Action  string `json:"action"`
	URL     string `json:"url"`
	Site    string `json:"site"`
	IP      string `json:"ip"`
	Browser string `json:"browser"`
	Time    string `json:"time"`
	Expires string `json:"expires"`
	Test    bool   `json:"test"`
}

// NewWebhook returns a Webhook posting to url with signatures keyed by
// secret (at least webhook.MinSecretLen bytes). url must be https, or
// http to this machine.
func NewWebhook(url string, secret []byte) (*Webhook, error) {
	c, err := webhook.New(url, secret)
	if err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	return &Webhook{client: c}, nil
}

// Notify posts n, signed, bounded by SendTimeout. A refusal, network
// error or time-out wraps ErrNotifier (and phone.ErrProvider) and gives
// the HTTP status, never the topic, URL or secret.
func (w *Webhook) Notify(ctx context.Context, n Notification) error {
	if err := n.Validate(); err != nil {
		return fmt.Errorf("push webhook: invalid notification: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()
	err := w.client.PostJSON(ctx, webhookBody{
		Type:    "push",
		User:    n.User,
		Device:  n.Topic,
		Title:   n.Title,
		Message: n.Message,
		Action:  n.Action,
		URL:     n.URL,
		Site:    n.Site,
		IP:      n.IP,
		Browser: n.Browser,
		Time:    n.Time.UTC().Format(time.RFC3339),
		Expires: n.Expires.UTC().Format(time.RFC3339),
		Test:    n.Test,
	})
	switch {
	case errors.Is(err, phone.ErrProvider):
		return fmt.Errorf("push webhook: %w: %w", ErrNotifier, err)
	case err != nil:
		return fmt.Errorf("push webhook: %w", err)
	}
	return nil
}
