package phone

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
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
