// Package twilio sends sign-in text messages and places sign-in phone calls
// through Twilio's REST API (version 2010-04-01), and checks the signed
// callbacks Twilio posts back while a call is under way.
//
// Requests are form-encoded POSTs to
// {BaseURL}/2010-04-01/Accounts/{AccountSid}/Messages.json and .../Calls.json
// with HTTP Basic authentication (account SID as user, auth token as
// password). A call carries its instructions inline (the Twiml parameter,
// built by TwiML), so Twilio never fetches a document from us: it only posts
// the keys pressed to Call.GatherURL and the final status to Call.StatusURL,
// both signed with X-Twilio-Signature, which VerifyCallback checks.
package twilio
