package push

import (
	"strings"
	"testing"
	"time"
)

// testTopic is a topic NewTopic could make.
const testTopic = "mfa-abcdefghijklmnopqrstuvwxyy"

// validNotification is a notification Validate accepts.
func validNotification() Notification {
	at := time.Date(2026, 3, 4, 14, 6, 7, 0, time.FixedZone("JST", 9*3600))
	return Notification{
		Topic:   testTopic,
		User:    "alice",
		Title:   "Approve sign-in?",
		Message: "wiki.example.com at 14:06 from 203.0.113.7 (Firefox on Linux)",
		Action:  "Review sign-in",
		URL:     "https://wiki.example.com/.mfa/push/approve?r=secret-request-id",
		Site:    "wiki.example.com",
		IP:      "203.0.113.7",
		Browser: "Firefox on Linux",
		Time:    at,
		Expires: at.Add(2 * time.Minute),
	}
}

func TestValidate(t *testing.T) {
	if !ValidTopic(testTopic) {
		t.Fatalf("testTopic %q is not valid", testTopic)
	}
	if err := validNotification().Validate(); err != nil {
		t.Fatalf("valid notification refused: %v", err)
	}
	ok := validNotification()
	ok.Browser = ""
	ok.URL = "http://127.0.0.1:8080/.mfa/push/approve"
	ok.IP = "2001:db8::1"
	if err := ok.Validate(); err != nil {
		t.Errorf("notification without browser, to a local gateway, from IPv6 refused: %v", err)
	}
	for name, change := range map[string]func(*Notification){
		"no topic":            func(n *Notification) { n.Topic = "" },
		"topic not ours":      func(n *Notification) { n.Topic = "mytopic" },
		"no user":             func(n *Notification) { n.User = "" },
		"no title":            func(n *Notification) { n.Title = "" },
		"no message":          func(n *Notification) { n.Message = "" },
		"no action":           func(n *Notification) { n.Action = "" },
		"no site":             func(n *Notification) { n.Site = "" },
		"no time":             func(n *Notification) { n.Time = time.Time{} },
		"expired":             func(n *Notification) { n.Expires = n.Time },
		"bad IP":              func(n *Notification) { n.IP = "203.0.113" },
		"relative URL":        func(n *Notification) { n.URL = "/.mfa/push/approve?r=secret-request-id" },
		"http URL elsewhere":  func(n *Notification) { n.URL = "http://wiki.example.com/.mfa/push/approve?r=secret-request-id" },
		"URL with a password": func(n *Notification) { n.URL = "https://u:secret-request-id@wiki.example.com/" },
	} {
		n := validNotification()
		change(&n)
		err := n.Validate()
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for _, secret := range []string{"secret-request-id", testTopic} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error %q shows %q", name, err, secret)
			}
		}
	}
}
