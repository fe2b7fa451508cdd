//go:build race

package uring_test

// raceEnabled: the race detector allocates on synchronisation, so
// allocation counts are not meaningful.
const raceEnabled = true
