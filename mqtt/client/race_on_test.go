//go:build race

package client_test

// raceEnabled: the race detector instruments allocations, so allocation
// counts are not meaningful.
const raceEnabled = true
