// Package push sends sign-in prompts ("app notification with number
// matching") to a user's phone through a notifier the operator chose: ntfy
// (package push/ntfy) or a signed JSON webhook (Webhook). A prompt carries
// a title, a message and a link to the gateway's approval page; the number
// matching itself happens on that page, not in the notification.
package push

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

// SendTimeout bounds each request to a notifier: a user waits for it.
const SendTimeout = 5 * time.Second

// ErrNotifier wraps every failure of a notifier (refused, unreachable, too
// slow), so that callers can tell the user to use another method.
var ErrNotifier = errors.New("notification service failed")

// Notification is one prompt to send.
type Notification struct {
	// Topic is the user's device address: their ntfy topic, made by
	// NewTopic at registration. Whoever knows it can read the prompts, so
	// it is never put in an error.
	Topic string
	// User is the user name.
	User string
	// Title is the notification's title, already in the user's language.
	Title string
	// Message is its text, already in the user's language.
	Message string
	// Action is the label of the button that opens URL, already in the
	// user's language, such as "Review sign-in".
	Action string
	// URL is the approval page's absolute https URL, for single use; like
	// Topic, it is never put in an error.
	URL string
	// Site is the name or host of the site the sign-in is for.
	Site string
	// IP is the client IP address of the sign-in.
	IP string
	// Browser describes the client, such as "Chrome on Windows" (see
	// Browser); it may be empty.
	Browser string
	// Time is when the sign-in was asked for.
	Time time.Time
	// Expires is when URL stops working.
	Expires time.Time
	// Test marks the first, test prompt sent at registration.
	Test bool
}

// Validate reports the first required field of n that is missing or
// malformed. Notifiers call it before sending; its errors are the caller's
// mistakes, so they do not wrap ErrNotifier.
func (n Notification) Validate() error {
	switch {
	case !ValidTopic(n.Topic):
		return errors.New("topic is not one NewTopic makes")
	case n.User == "":
		return errors.New("no user")
	case n.Title == "":
		return errors.New("no title")
	case n.Message == "":
		return errors.New("no message")
	case n.Action == "":
		return errors.New("no action label")
	case n.Site == "":
		return errors.New("no site")
	case n.Time.IsZero():
		return errors.New("no time")
	case !n.Expires.After(n.Time):
		return errors.New("expiry is not after the time")
	}
	if _, err := netip.ParseAddr(n.IP); err != nil {
		return fmt.Errorf("client IP: %w", err)
	}
	u, err := phone.CheckURL(n.URL)
	if err != nil {
		// CheckURL's message shows the URL, which is a secret here.
		return errors.New("approval URL must be absolute, https:// (or http:// to this machine)")
	}
	if u.User != nil {
		return errors.New("approval URL must not carry a user name or password")
	}
	return nil
}

// Notifier sends prompts.
type Notifier interface {
	// Notify sends n. A failure of the notification service wraps
	// ErrNotifier; an invalid n (see Notification.Validate) does not.
	Notify(ctx context.Context, n Notification) error
}

// Subscriber is implemented by notifiers whose users subscribe to their
// topic in an app (ntfy).
type Subscriber interface {
	// Subscription returns how to subscribe to topic: the link an app
	// opens (for the QR code), and the server and topic for typing by hand.
	Subscription(topic string) Subscription
}

// Subscription tells a user how to subscribe to their topic.
type Subscription struct {
	// AppLink is the link the app opens to subscribe, such as
	// "ntfy://ntfy.example.com/mfa-...", for a QR code.
	AppLink string
	// Server is the notification server's base URL, for typing by hand.
	Server string
	// Topic is the topic to subscribe to, for typing by hand.
	Topic string
}
