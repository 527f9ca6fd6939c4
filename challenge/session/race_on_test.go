//go:build race

package session

// raceEnabled: sync.Pool drops items at random under the race detector,
// so the pooled buffers of signedIDs are remade and allocation counts do
// not hold.
const raceEnabled = true
