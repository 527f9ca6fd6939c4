package twilio

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"

	"github.com/twilio/twilio-go/client"
)

// SignatureHeader carries Twilio's signature of a callback.
const SignatureHeader = "X-Twilio-Signature"

// maxCallbackBody bounds a callback's form; Twilio's are a few hundred bytes.
const maxCallbackBody = 64 << 10

// ErrCallback wraps every reason VerifyCallback refuses a request; answer
// it with 403 Forbidden.
var ErrCallback = errors.New("twilio: callback refused")

// VerifyCallback checks that r is a callback Twilio made for this account
// to callbackURL, the exact absolute URL given to Twilio (Call.GatherURL or
// Call.StatusURL, query included), and returns its form.
//
// r must be a form-encoded POST signed in SignatureHeader, and the
// signature is checked with twilio-go's RequestValidator (HMAC-SHA1 with the
// auth token over the URL followed by every parameter name and value,
// sorted by name; compared in constant time). A parameter given twice is
// refused, as Twilio sends each once and only first values are signed. The
// form's AccountSid must be c.AccountSID. Callbacks signed under a webhook
// rule's own key (X-Twilio-Webhooks-Signature-Settings) are not supported
// and fail the signature check.
//
// The body is read with r.ParseForm unless r.PostForm is already set.
func (c *Client) VerifyCallback(r *http.Request, callbackURL string) (url.Values, error) {
	if r.Method != http.MethodPost {
		return nil, fmt.Errorf("%w: method %s, want POST", ErrCallback, r.Method)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, fmt.Errorf("%w: content type %q is not a form", ErrCallback, r.Header.Get("Content-Type"))
	}
	signature := r.Header.Get(SignatureHeader)
	if signature == "" {
		return nil, fmt.Errorf("%w: no %s header", ErrCallback, SignatureHeader)
	}
	if r.PostForm == nil {
		r.Body = http.MaxBytesReader(nil, r.Body, maxCallbackBody)
		if err := r.ParseForm(); err != nil {
			return nil, fmt.Errorf("%w: reading form: %w", ErrCallback, err)
		}
	}
	params := make(map[string]string, len(r.PostForm))
	for name, values := range r.PostForm {
		if len(values) != 1 {
			return nil, fmt.Errorf("%w: parameter %q given %d times", ErrCallback, name, len(values))
		}
		params[name] = values[0]
	}
	validator := client.NewRequestValidator(c.AuthToken)
	if !validator.Validate(callbackURL, params, signature) {
		return nil, fmt.Errorf("%w: signature does not match", ErrCallback)
	}
	if got := r.PostForm.Get("AccountSid"); got != c.AccountSID {
		return nil, fmt.Errorf("%w: callback is for account %q", ErrCallback, got)
	}
	return r.PostForm, nil
}
