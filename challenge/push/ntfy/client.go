// Package ntfy sends sign-in prompts through an ntfy server
// (https://ntfy.sh, or the operator's own): each user has a random topic
// (push.NewTopic) that they subscribe to in the ntfy app by scanning a QR
// code of Subscription's AppLink, and each prompt is published to it as
// JSON, with a button that opens the gateway's approval page.
package ntfy

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
	"github.com/caddy-mfa/caddy-mfa/challenge/push"
)

// Client publishes prompts to one ntfy server. Build it with New; its
// exported fields may be replaced before first use, never while in use.
type Client struct {
	// Timeout bounds each request; New sets push.SendTimeout.
	Timeout time.Duration
	// HTTP sends the requests; New sets phone.HTTPClient(), which does not
	// follow redirects.
	HTTP *http.Client
	// Cache lets the server keep each prompt in its message cache, for its
	// cache-duration (12 h by default), readable to anyone who may read the
	// topic. ntfy takes no lifetime per message, only "X-Cache: no", so by
	// default (false) prompts are sent with it and never cached: they reach
	// the phones subscribed at that moment. Set it only for phones that
	// fetch each message from the cache (iPhones on a self-hosted server,
	// woken through upstream-base-url), with the server's cache-duration
	// set to the prompts' lifetime (challenge.PushTTL).
	Cache bool

	base *url.URL // the server's URL, path without trailing slash
	auth string   // the Authorization header, or ""
	// token is the operator's credential, kept only to keep it out of
	// error messages.
	token string
}

// Client sends prompts, and its users subscribe in the ntfy app.
var (
	_ push.Notifier   = (*Client)(nil)
	_ push.Subscriber = (*Client)(nil)
)

// New returns a Client for the ntfy server at server, its base URL: https,
// or http to this machine only, perhaps with a path (ntfy behind a path
// prefix), and no query, fragment or user name. token is optional: an
// ntfy access token ("tk_...") sent as a Bearer token, or "user:password"
// for HTTP Basic auth.
func New(server, token string) (*Client, error) {
	u, err := phone.CheckURL(server)
	if err != nil {
		return nil, fmt.Errorf("ntfy: server: %w", err)
	}
	switch {
	case u.User != nil:
		return nil, errors.New("ntfy: server URL must not carry a user name or password; give them as the token")
	case u.RawQuery != "" || u.ForceQuery:
		return nil, errors.New("ntfy: server URL must not have a query")
	case u.Fragment != "":
		return nil, errors.New("ntfy: server URL must not have a fragment")
	}
	auth, err := authorization(token)
	if err != nil {
		return nil, fmt.Errorf("ntfy: token: %w", err)
	}
	base := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimRight(u.Path, "/")}
	if rp := strings.TrimRight(u.RawPath, "/"); rp != "" {
		base.RawPath = rp
	}
	return &Client{
		Timeout: push.SendTimeout,
		HTTP:    phone.HTTPClient(),
		base:    base,
		auth:    auth,
		token:   token,
	}, nil
}

// authorization is the Authorization header for token: Basic auth for
// "user:password", a Bearer token otherwise, and "" for no token.
func authorization(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	for _, r := range token {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "", errors.New("contains white space or a control character")
		}
	}
	user, password, basic := strings.Cut(token, ":")
	if !basic {
		return "Bearer " + token, nil
	}
	if user == "" || password == "" {
		return "", errors.New(`"user:password" needs both a user name and a password`)
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(token)), nil
}

// server is the base URL, without trailing slash.
func (c *Client) server() string { return c.base.String() }
