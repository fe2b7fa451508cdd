//go:build race

package beacon_test

// raceEnabled: allocation counts are not meaningful under the race detector.
const raceEnabled = true
