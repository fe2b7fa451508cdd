//go:build race

package bearer_test

const raceEnabled = true
