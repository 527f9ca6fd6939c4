// Package webhook sends sign-in text messages through an operator's own SMS
// gateway: it posts each message, signed, to a URL of theirs.
//
// # Request
//
// One POST per message to the configured URL, with the headers
//
//	Content-Type: application/json
//	User-Agent: caddy-mfa
//	X-MFA-Timestamp: 1767225600
//	X-MFA-Signature: v1=e754f3779da4d683643aa1064ea7bfd1e76c28ac1d388232d526aa62fe2f3115
//
// and the body (here signed with the 32-byte secret
// "0123456789abcdef0123456789abcdef")
//
//	{"type":"sms","to":"+819012345678","text":"Your sign-in code is 123456","sent_at":"2026-01-01T00:00:00Z"}
//
// type is always "sms"; to is the recipient in E.164; text is the message,
// already in the user's language; sent_at is when it was sent, RFC 3339 in
// UTC. Receivers should ignore members they do not know: later versions may
// add some (an "ext" member is reserved for extensions and is never sent
// with a text).
//
// # Signature
//
// X-MFA-Timestamp is the sending time in Unix seconds. X-MFA-Signature is
// "v1=" followed by the lower-case hexadecimal HMAC-SHA256, keyed by the
// shared secret, of the timestamp header's value, a full stop, and the raw
// body bytes exactly as received:
//
//	v1=hex(HMAC-SHA256(secret, X-MFA-Timestamp + "." + body))
//
// A receiver recomputes it over the body it read, before parsing it,
// compares it in constant time, and refuses a timestamp more than a few
// minutes from its own clock, which bounds replays; Verify does all of this.
//
// # Answer
//
// Any 2xx status means the gateway took the message; the answer's body is
// ignored. Any other status, a redirect included, or no answer within
// phone.SendTimeout (5 s) is a failure, which the user sees as "try another
// method". Messages are not retried.
package webhook
