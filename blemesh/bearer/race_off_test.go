//go:build !race

package bearer_test

const raceEnabled = false
