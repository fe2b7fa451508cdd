//go:build race

package main

// raceEnabled: allocation counts are not meaningful under the race detector.
const raceEnabled = true
