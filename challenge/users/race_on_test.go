//go:build race

package users

// raceEnabled: the race detector slows hashing several fold, so measured
// costs mean nothing.
const raceEnabled = true
