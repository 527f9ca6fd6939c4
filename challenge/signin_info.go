package challenge

import "time"

// SignInInfo describes a sign-in to the user's phone: what a prompt shows,
// and what a fraud report about a prompt or a call tells the operator.
type SignInInfo struct {
	// Site is the site being signed in to.
	Site string `json:"site"`
	// IP is the client address of the sign-in.
	IP string `json:"ip"`
	// Browser describes the browser of the sign-in, "" if unknown.
	Browser string `json:"browser"`
	// Time is when the sign-in asked for the prompt.
	Time time.Time `json:"time"`
}
