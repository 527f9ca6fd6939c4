package phone

import (
	"net/http"
	"net/url"
)

// CallbackVerifier is implemented by callers whose provider reports on a
// call by posting to the call's GatherURL and StatusURL (Twilio does): it
// proves that such a request came from the provider, so that nobody else
// can answer a call on a user's behalf.
type CallbackVerifier interface {
	// VerifyCallback checks that r, posted to callbackURL (the absolute
	// URL the provider was given, query included), carries the provider's
	// signature, and returns its form, in which "Digits" are the keys the
	// callee pressed and "CallSid" is the id PlaceCall returned. An
	// unsigned or forged request is an error.
	VerifyCallback(r *http.Request, callbackURL string) (url.Values, error)
}
