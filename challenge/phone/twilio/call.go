package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"unicode/utf8"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

const (
	// MaxTwiML is the most characters the Calls resource accepts in its
	// Twiml parameter (Twilio error 32018).
	MaxTwiML = 4000
	// RingSeconds is how long a call rings before Twilio gives up on it
	// (the Timeout parameter; the callback then says "no-answer").
	RingSeconds = 30
	// extensionWait is dialled before an extension: each "w" waits half
	// a second, giving the far end's switchboard two seconds to answer.
	extensionWait = "wwww"
)

// PlaceCall starts call through the Calls resource with its instructions
// inline (Twiml, see TwiML), a StatusCallback posted to call.StatusURL when
// the call ends, a ring time of RingSeconds and, for an extension, SendDigits
// so that Twilio dials it once connected. It returns the call's SID, which
// Twilio sends back as CallSid with every callback. Only a number can
// place calls (CheckCaller): not a Messaging Service SID, an alphanumeric
// sender ID or a short code.
func (c *Client) PlaceCall(ctx context.Context, call phone.Call) (string, error) {
	if err := CheckCaller(c.From); err != nil {
		return "", err
	}
	if err := checkCall(call); err != nil {
		return "", fmt.Errorf("twilio: placing call: %w", err)
	}
	twiml := TwiML(call)
	if n := utf8.RuneCountInString(twiml); n > MaxTwiML {
		return "", fmt.Errorf("twilio: placing call: instructions are %d characters, Twilio takes at most %d", n, MaxTwiML)
	}
	form := url.Values{
		"To":      {call.To.E164},
		"From":    {c.From},
		"Twiml":   {twiml},
		"Timeout": {strconv.Itoa(RingSeconds)},
	}
	if call.StatusURL != "" {
		form.Set("StatusCallback", call.StatusURL)
		form.Set("StatusCallbackMethod", "POST")
	}
	if call.To.Ext != "" {
		form.Set("SendDigits", extensionWait+call.To.Ext)
	}
	var answer struct {
		SID string `json:"sid"`
	}
	if err := c.post(ctx, "Calls", form, &answer); err != nil {
		return "", fmt.Errorf("twilio: placing call: %w", err)
	}
	if answer.SID == "" {
		return "", fmt.Errorf("twilio: placing call: %w: answer has no call sid", phone.ErrProvider)
	}
	return answer.SID, nil
}

// checkCall rejects a call Twilio could not place or could not call back
// about.
func checkCall(call phone.Call) error {
	if !isE164(call.To.E164) {
		return errors.New("number to call is not an E.164 number")
	}
	if call.To.Ext != "" && !isDigits(call.To.Ext) {
		return errors.New("extension must be digits only")
	}
	if call.Say == "" {
		return errors.New("nothing to say")
	}
	if err := checkCallbackURL(call.GatherURL); err != nil {
		return fmt.Errorf("gather URL: %w", err)
	}
	if call.StatusURL != "" {
		if err := checkCallbackURL(call.StatusURL); err != nil {
			return fmt.Errorf("status URL: %w", err)
		}
	}
	return nil
}

// checkCallbackURL requires the absolute http(s) URL Twilio posts to.
func checkCallbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	return nil
}
