package twilio

import (
	"encoding/xml"
	"strings"

	"github.com/caddy-mfa/caddy-mfa/challenge/phone"
)

// xmlDeclaration starts every TwiML document.
const xmlDeclaration = `<?xml version="1.0" encoding="UTF-8"?>`

// TwiML is the inline document a call runs: say c.Say (in c.Language) while
// gathering keys, post them to c.GatherURL, then hang up. Every value is
// XML-escaped, so Say cannot smuggle in verbs or SSML.
//
// The <Gather> is tuned to the answers a callee gives: "0#" (or another
// digit and "#") and "#" alone.
//   - finishOnKey is empty, so "#" is an ordinary key that is collected and
//     reported instead of ending the input unreported.
//   - numDigits is 2, so "0#" completes the gather at once and arrives as
//     Digits="0#", while "#" alone arrives as Digits="#" after timeout (5 s)
//     of silence.
//   - actionOnEmptyResult is true, so a callee who presses nothing still
//     causes a post, with Digits empty, and the sign-in is denied at once
//     instead of waiting for the call to end.
//
// <Hangup/> ends the call if the action answer does not.
func TwiML(c phone.Call) string {
	var b strings.Builder
	b.WriteString(xmlDeclaration)
	b.WriteString(`<Response><Gather input="dtmf" action="`)
	escape(&b, c.GatherURL)
	b.WriteString(`" method="POST" numDigits="2" finishOnKey="" timeout="5" actionOnEmptyResult="true">`)
	say(&b, c.Say, c.Language)
	b.WriteString(`</Gather><Hangup/></Response>`)
	return b.String()
}

// Reply is the TwiML to answer a callback with: say text (in language),
// then hang up. Serve it as "text/xml".
func Reply(text, language string) []byte {
	var b strings.Builder
	b.WriteString(xmlDeclaration)
	b.WriteString(`<Response>`)
	say(&b, text, language)
	b.WriteString(`<Hangup/></Response>`)
	return []byte(b.String())
}

// say writes a <Say> verb; an empty language leaves Twilio's default.
func say(b *strings.Builder, text, language string) {
	b.WriteString(`<Say`)
	if language != "" {
		b.WriteString(` language="`)
		escape(b, language)
		b.WriteString(`"`)
	}
	b.WriteString(`>`)
	escape(b, text)
	b.WriteString(`</Say>`)
}

// escape writes s escaped for both XML text and quoted attribute values.
func escape(b *strings.Builder, s string) {
	// xml.EscapeText only fails if its writer does; a Builder does not.
	_ = xml.EscapeText(b, []byte(s))
}
