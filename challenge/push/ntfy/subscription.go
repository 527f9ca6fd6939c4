package ntfy

import (
	"net/url"

	"github.com/caddy-mfa/caddy-mfa/challenge/push"
)

// Subscription tells a user how to subscribe to topic: AppLink is the
// ntfy app's deep link, "ntfy://<host>[<path>]/<topic>" with
// "?secure=false" for a plain-http server (see
// https://docs.ntfy.sh/subscribe/phone/), for a QR code; Server and Topic
// are for typing into the app by hand.
func (c *Client) Subscription(topic string) push.Subscription {
	escaped := url.PathEscape(topic)
	link := "ntfy://" + c.base.Host + c.base.EscapedPath() + "/" + escaped
	if c.base.Scheme == "http" {
		link += "?secure=false"
	}
	return push.Subscription{
		AppLink: link,
		Server:  c.server(),
		Topic:   topic,
	}
}
