// Package notify sends security notices: an e-mail to the user (and,
// if configured, a signed JSON post to a webhook) for each security event
// a user should hear of. Events arrive through the events.Writer's sink
// (Sink), are kept in a durable outbox in the gateway's KV store (so
// gateways sharing Redis share it), and are sent by a worker in the
// background with retries: no page waits for a mail server.
package notify

import (
	"time"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/events"
)

// Kind names a notice; the names are what `notify { events ... }` lists.
type Kind string

// The notices.
const (
	MethodAdded                 Kind = "method_added"
	MethodRemoved               Kind = "method_removed"
	PhoneChanged                Kind = "phone_changed"
	RecoveryCodesCreated        Kind = "recovery_codes_created"
	AppPasswordCreated          Kind = "app_password_created"
	NewBrowser                  Kind = "new_browser"
	FraudReported               Kind = "fraud_reported"
	LockedOut                   Kind = "locked_out"
	TemporaryPassIssued         Kind = "temporary_pass_issued"
	RegisteredWithTemporaryPass Kind = "registered_with_temporary_pass"
	// BypassUsed: a sign-in with the password alone, on a pass an
	// administrator granted (`caddy mfa bypass`).
	BypassUsed Kind = "bypass_used"
)

// Kinds are all the notices, in the order the documentation lists them.
var Kinds = []Kind{MethodAdded, MethodRemoved, PhoneChanged, RecoveryCodesCreated, AppPasswordCreated,
	NewBrowser, FraudReported, LockedOut, TemporaryPassIssued, RegisteredWithTemporaryPass, BypassUsed}

// Known reports whether k is one of Kinds.
func (k Kind) Known() bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// NewBrowserField is the field of the events.SignedIn event that says
// the sign-in came from a browser not seen before for this user.
const NewBrowserField = events.NewBrowserKey

// Channels a notice goes out on.
const (
	ChannelMail    = "mail"
	ChannelWebhook = "webhook"
)

// Notice is one notice in the outbox: what happened, to whom, when and
// from where. It holds no secret (no code, password, token or phone
// number): only names an operator's log shows as well.
type Notice struct {
	// ID is random, and stable across retries: the e-mail's Message-ID.
	ID string `json:"id"`
	// Channel is ChannelMail or ChannelWebhook.
	Channel string `json:"channel"`
	Kind    Kind   `json:"kind"`
	// Event is the security event behind the notice.
	Event events.Event `json:"event"`
	User  string       `json:"user"`
	// To and Name are the user's e-mail address and display name (mail).
	To   string `json:"to,omitempty"`
	Name string `json:"name,omitempty"`
	// Lang is the language of the notice (a catalogue's tag).
	Lang string    `json:"lang,omitempty"`
	Time time.Time `json:"time"`
	// IP and Browser are where the request came from ("" outside one).
	IP      string `json:"ip,omitempty"`
	Browser string `json:"browser,omitempty"`
	// Method is the sign-in method concerned, if any.
	Method string `json:"method,omitempty"`
	// Until is when what the notice tells of ends, if it does (a
	// temporary access pass's expiry).
	Until time.Time `json:"until,omitzero"`
	// Attempts is how many sends failed; NextAt is when to try again.
	Attempts int       `json:"attempts,omitempty"`
	NextAt   time.Time `json:"next_at,omitzero"`
}

// mayNotify reports whether e can have a notice at all: the events the
// sink looks at further (every other event, such as each use of an app
// password, costs it nothing).
func mayNotify(e events.Event) bool {
	switch e {
	case events.MethodAdded, events.MethodRemoved, events.RecoveryCodesCreated, events.AppPasswordCreated,
		events.SignedIn, events.FraudReported, events.LockedOut, events.TemporaryPassIssued, events.TemporaryPassUsed, events.BypassUsed:
		return true
	}
	return false
}

// kindOf is the notice of event e with fields, "" if none.
func kindOf(e events.Event, fields map[string]string) Kind {
	switch e {
	case events.MethodAdded:
		return MethodAdded
	case events.MethodRemoved:
		if fields["reason"] == "number_changed" {
			return PhoneChanged
		}
		return MethodRemoved
	case events.RecoveryCodesCreated:
		return RecoveryCodesCreated
	case events.AppPasswordCreated:
		return AppPasswordCreated
	case events.SignedIn:
		if fields[NewBrowserField] == "true" {
			return NewBrowser
		}
	case events.FraudReported:
		return FraudReported
	case events.LockedOut:
		return LockedOut
	case events.TemporaryPassIssued:
		return TemporaryPassIssued
	case events.TemporaryPassUsed:
		// Told when used, whether or not a method is registered after it
		// (registered_with_temporary_pass is no second notice).
		return RegisteredWithTemporaryPass
	case events.BypassUsed:
		return BypassUsed
	}
	return ""
}
