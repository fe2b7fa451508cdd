//go:build race

package transport_test

// raceEnabled: allocation counts are not meaningful under the race detector.
const raceEnabled = true
