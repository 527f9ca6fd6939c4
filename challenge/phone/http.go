package phone

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// HTTPClient is the client providers use by default: every request bounded
// by SendTimeout, and no redirects, which would turn a POST into a GET or
// carry its credentials elsewhere.
func HTTPClient() *http.Client {
	return &http.Client{
		Timeout: SendTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Do sends req with hc (HTTPClient when nil); a transport failure wraps
// ErrProvider, without the URL.
func Do(hc *http.Client, req *http.Request) (*http.Response, error) {
	if hc == nil {
		hc = HTTPClient()
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrProvider, WithoutURL(err))
	}
	return resp, nil
}

// WithoutURL drops the request's URL from a transport error, keeping its
// cause (a refused connection, context.DeadlineExceeded, ...): the URL may
// carry an operator's token and adds nothing to the log.
func WithoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// CheckURL checks that raw is an absolute https URL, or http to this
// machine only (a local gateway, tests): codes and call answers travel in
// it, so they must not cross a network in clear.
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing URL: %w", err)
	}
	switch {
	case u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return nil, fmt.Errorf("URL %q must be absolute, starting with https://", u.Redacted())
	case u.Scheme == "http" && !loopback(u.Hostname()):
		return nil, fmt.Errorf("URL %q must use https:// (plain http only to this machine)", u.Redacted())
	}
	return u, nil
}

func loopback(host string) bool {
	// Names under .localhost are this machine too (RFC 6761); tests of a
	// portal on one host for sites on others use them.
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
