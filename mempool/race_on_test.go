//go:build race

package mempool_test

// raceEnabled: the race detector makes sync.Pool drop a quarter of Puts at
// random, so allocation counts are not meaningful.
const raceEnabled = true
