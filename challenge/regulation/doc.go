// Package regulation is what stops guessing and abuse: rate limits,
// lockouts and send limits, applied to one user, one client address, one
// phone number or the whole gateway.
//
// It owns
//   - the lockout of passwords per source (smart lockout: source.go),
//     with the rates of password attempts;
//   - the account-wide lockout after wrong second-factor codes, and the
//     fraud block after a user reports a sign-in they did not start;
//   - the limits of second-factor checks, app notifications (MFA fatigue)
//     and app passwords (apppassword.go);
//   - the limits of texts and calls (toll fraud, SMS pumping: send.go);
//   - Unlock, an administrator's lifting of all of a user's locks.
//
// Its state is kept in a store.KV and a limit.Limiter given to New, with
// Redis behind both for many gateways, and read on the clock given to New.
// Every kind of key it writes is listed once, in families (keys.go), which
// Unlock walks. A refusal says why in a Verdict's Reason, a named type
// whose constants callers compare and log.
//
// It knows nothing of HTTP or of the methods themselves: the engine
// (package challenge) and the Caddy module ask it before and tell it after
// each attempt.
package regulation
