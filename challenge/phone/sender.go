package phone

import (
	"context"
	"errors"
	"time"
)

// SendTimeout bounds every request to a provider: a user waits for it.
const SendTimeout = 5 * time.Second

// ErrProvider wraps every failure of a provider (refused, unreachable, too
// slow), so that callers can tell the user to try another method.
var ErrProvider = errors.New("phone provider failed")

// Text is one text message to send.
type Text struct {
	// To is the recipient.
	To Number
	// Body is the message, already in the user's language.
	Body string
}

// TextSender sends text messages.
type TextSender interface {
	// SendText sends t, returning an error wrapping ErrProvider if the
	// provider did not accept it.
	SendText(ctx context.Context, t Text) error
}

// Call is one phone call to place: it says Say, then collects the keys the
// callee presses and posts them to GatherURL; when the call ends it posts
// its final status to StatusURL.
type Call struct {
	// To is the number to call; its extension is dialled once connected.
	To Number
	// Say is what the call says, already in the user's language.
	Say string
	// Language is the BCP 47 tag of Say, such as "en-US" or "ja-JP".
	Language string
	// GatherURL is the absolute URL the pressed keys are posted to.
	GatherURL string
	// StatusURL is the absolute URL the call's final status is posted to.
	StatusURL string
}

// Caller places phone calls.
type Caller interface {
	// PlaceCall starts c and returns the provider's id of the call, which
	// comes back with every callback about it. Errors wrap ErrProvider.
	PlaceCall(ctx context.Context, c Call) (string, error)
}
