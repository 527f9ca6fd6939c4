//go:build !race

package users

// raceSlowdown is how much slower a measured cost may be under the race
// detector (not on in this build).
const raceSlowdown = 1
