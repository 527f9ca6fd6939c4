// Package session keeps sign-in sessions: a gorilla/sessions Store whose
// cookie holds only a signed opaque id, with the data in a store.KV (memory
// now, Redis for many instances).
package session

import "time"

// Level is how far a session has signed in.
type Level int8

const (
	// Anonymous: nothing proven yet.
	Anonymous Level = iota
	// OneFactor: the password was right.
	OneFactor
	// TwoFactor: password and a second factor.
	TwoFactor
)

// Data is what the gateway keeps of one session, stored in the compact
// form of MarshalBinary.
type Data struct {
	// User is the signed-in user, empty before the password.
	User string
	// Level is what has been proven.
	Level Level
	// Created is when the session began (Unix seconds); the absolute lifetime counts from it.
	Created int64
	// LastSeen is the last request (Unix seconds), updated coarsely; idle expiry counts from it.
	LastSeen int64
	// SecondFactorAt is when the second factor was last proven (Unix seconds).
	SecondFactorAt int64
	// Return is the same-origin path to go back to after sign-in.
	Return string
}

// Expired reports whether the session is past its idle or absolute limit at now.
func (d *Data) Expired(now time.Time, idle, lifetime time.Duration) bool {
	n := now.Unix()
	return n-d.Created >= int64(lifetime/time.Second) || n-d.LastSeen >= int64(idle/time.Second)
}
