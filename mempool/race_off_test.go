//go:build !race

package mempool_test

const raceEnabled = false
