//go:build race

package users

// raceSlowdown is how much slower a measured cost may be under the race
// detector, which slows this hashing about twice (measured: 1.6 s against 0.8 s).
const raceSlowdown = 3
