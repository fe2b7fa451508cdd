//go:build race

package mqtt

// raceEnabled: the race detector instruments allocations, so allocation
// counts are not meaningful.
const raceEnabled = true
