//go:build !race

package beacon_test

const raceEnabled = false
