package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

// SendText sends t through the Messages resource: To, Body, and From (a
// number, an alphanumeric sender ID or a short code), or
// MessagingServiceSid when c.From is a Messaging Service SID. Twilio answers
// 201 Created once it has queued the message; delivery happens later.
func (c *Client) SendText(ctx context.Context, t phone.Text) error {
	if !isE164(t.To.E164) {
		return errors.New("twilio: sending text: recipient is not an E.164 number")
	}
	if t.Body == "" {
		return errors.New("twilio: sending text: empty message")
	}
	form := url.Values{
		"To":   {t.To.E164},
		"Body": {t.Body},
	}
	if isSID(c.From, "MG") {
		form.Set("MessagingServiceSid", c.From)
	} else {
		form.Set("From", c.From)
	}
	var answer struct {
		SID string `json:"sid"`
	}
	if err := c.post(ctx, "Messages", form, &answer); err != nil {
		return fmt.Errorf("twilio: sending text: %w", err)
	}
	return nil
}
