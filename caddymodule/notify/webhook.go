package notify

import (
	"context"
	"fmt"
	"time"
)

// Poster posts signed JSON (the phone webhook's Client does: HMAC-SHA256
// of the timestamp and body in X-MFA-Signature).
type Poster interface {
	PostJSON(ctx context.Context, v any) error
}

// WebhookSender posts notices to the notify webhook.
type WebhookSender struct{ Poster Poster }

// WebhookNotice is the JSON body of a notice posted to the webhook. It
// holds no secret and no e-mail address.
type WebhookNotice struct {
	// Type is always "security_notice".
	Type string `json:"type"`
	// ID is the notice's id, stable across retries: receivers drop copies.
	ID      string `json:"id"`
	Notice  Kind   `json:"notice"`
	Event   string `json:"event"`
	User    string `json:"user"`
	Time    string `json:"time"`
	Address string `json:"address,omitempty"`
	Browser string `json:"browser,omitempty"`
	Method  string `json:"method,omitempty"`
	// Until is when what the notice tells of ends (a temporary access
	// pass's expiry), if it does.
	Until string `json:"until,omitempty"`
}

// Body is the JSON body of n.
func Body(n Notice) WebhookNotice {
	b := WebhookNotice{Type: "security_notice", ID: n.ID, Notice: n.Kind, Event: string(n.Event), User: n.User,
		Time: n.Time.UTC().Format(time.RFC3339), Address: n.IP, Browser: n.Browser, Method: n.Method}
	if !n.Until.IsZero() {
		b.Until = n.Until.UTC().Format(time.RFC3339)
	}
	return b
}

// Send implements Sender.
func (w WebhookSender) Send(ctx context.Context, n Notice) error {
	if err := w.Poster.PostJSON(ctx, Body(n)); err != nil {
		return fmt.Errorf("notify: posting notice %s: %w", n.ID, err)
	}
	return nil
}
