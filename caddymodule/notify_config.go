package caddymodule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-mfa/caddy-mfa/caddymodule/notify"
)

// SMTPConfig is the mail server that security notices are sent through
// (the global `smtp` option).
type SMTPConfig struct {
	// Address is the server's host:port, e.g. smtp.example.com:587
	// (STARTTLS) or :465 (implicit TLS). Required.
	Address string `json:"address"`
	// Username, if set, authenticates with AUTH PLAIN (always under TLS,
	// except with tls none to this machine). Default: no authentication.
	Username string `json:"username,omitempty"`
	// Password goes with Username; use a placeholder such as
	// {env.MFA_SMTP_PASSWORD}.
	Password string `json:"password,omitempty"`
	// From is the sender of notices: an address or "Name <address>".
	// Required.
	From string `json:"from"`
	// TLS is how the connection is secured: "starttls" (the server must
	// offer STARTTLS), "implicit" (TLS from the start, usually port 465)
	// or "none" (only to this machine: 127.0.0.1, ::1, localhost).
	// Default: starttls.
	TLS string `json:"tls,omitempty"`
	// Timeout bounds the connection and each step of a send. Default: 10s.
	Timeout caddy.Duration `json:"timeout,omitempty"`
}

// NotifyConfig picks the security notices and where they go besides
// e-mail (the global `notify` option).
type NotifyConfig struct {
	// Events are the notices sent: method_added, method_removed,
	// phone_changed, recovery_codes_created, app_password_created,
	// new_browser, fraud_reported, locked_out, temporary_pass_issued,
	// registered_with_temporary_pass. Default: all of them.
	Events []string `json:"events,omitempty"`
	// Webhook, if set, is posted each notice as signed JSON (HMAC-SHA256
	// of the timestamp and body, header X-MFA-Signature), for SIEMs and
	// chat. Default: none.
	Webhook *Webhook `json:"webhook,omitempty"`
}

// defaultSMTPTimeout is SMTPConfig.Timeout's default.
const defaultSMTPTimeout = 10 * time.Second

// mailer builds the sender of e-mail notices (composer set later).
func (c *SMTPConfig) mailer(repl *caddy.Replacer) (*notify.Mailer, error) {
	mode := c.TLS
	if mode == "" {
		mode = notify.TLSStartTLS
	}
	host, port, err := notify.CheckAddress(repl.ReplaceKnown(c.Address, ""), mode)
	if err != nil {
		return nil, err
	}
	fromText := repl.ReplaceKnown(c.From, "")
	if fromText == "" {
		return nil, errors.New(`smtp needs from, the sender of notices, e.g. from "Sign-in <mfa@example.com>"`)
	}
	from, err := notify.ParseFrom(fromText)
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	if c.Timeout < 0 {
		return nil, errors.New("smtp timeout must be positive")
	}
	user, pass := repl.ReplaceKnown(c.Username, ""), repl.ReplaceKnown(c.Password, "")
	if (user == "") != (pass == "") {
		return nil, errors.New("smtp username and password go together")
	}
	return &notify.Mailer{Host: host, Port: port, Username: user, Password: pass, From: from, TLS: mode,
		Timeout: durationOr(c.Timeout, defaultSMTPTimeout)}, nil
}

// kinds are the picked notices, nil for all.
func (c *NotifyConfig) kinds() (map[notify.Kind]bool, error) {
	if c == nil || len(c.Events) == 0 {
		return nil, nil
	}
	m := map[notify.Kind]bool{}
	for _, e := range c.Events {
		k := notify.Kind(e)
		if !k.Known() {
			names := make([]string, len(notify.Kinds))
			for i, k := range notify.Kinds {
				names[i] = string(k)
			}
			return nil, fmt.Errorf("notify events: unknown notice %q; known: %s", e, strings.Join(names, ", "))
		}
		m[k] = true
	}
	return m, nil
}
