// Package providers holds the Caddy guest modules that send caddy-mfa's
// texts, calls and app notifications, loaded by the `mfa` app the way
// Caddy loads DNS providers:
//
//	mfa.sms.twilio     texts through Twilio
//	mfa.sms.webhook    texts as a signed JSON POST, for any SMS gateway
//	mfa.sms.log        texts written to the log (development only)
//	mfa.voice.twilio   calls through Twilio
//	mfa.voice.log      calls written to the log (development only)
//	mfa.push.ntfy      app notifications through an ntfy server
//	mfa.push.webhook   app notifications as a signed JSON POST
//
// In JSON a provider is an object in the app's "sms", "voice" or "push"
// member, named by its "provider" key (for sms and voice) or "notifier"
// key (for push):
//
//	"sms":  {"provider": "twilio", "account_sid": "...", "auth_token": "...", "from": "+15005550006"}
//	"push": {"notifier": "ntfy", "url": "https://ntfy.example.com"}
//
// Another plugin adds a provider without changing caddy-mfa: a module
// whose ID is in namespace mfa.sms (implementing phone.TextSender),
// mfa.voice (phone.Caller and, for its callbacks, phone.CallbackVerifier)
// or mfa.push (push.Notifier, and push.Subscriber if users subscribe in an
// app), registered with caddy.RegisterModule and, for the Caddyfile, a
// caddyfile.Unmarshaler that reads `sms <name> [args] { ... }` from its
// name on.
//
// Each module resolves its placeholders in Provision and checks its
// settings in Validate; what depends on the app (the `development` flag,
// public_url) is checked by the app.
package providers

// DevelopmentOnly is implemented by providers that must not run in
// production, such as the log providers: the app refuses them unless
// `development` is set, and warns when it is.
type DevelopmentOnly interface {
	// DevelopmentOnly says why, e.g. "the log provider writes codes to
	// the log".
	DevelopmentOnly() string
}
