//go:build !tinygo

package mempool_test

import "testing"

// bigTests enables many goroutines and large live sets; maxTestAlloc caps
// the buffers a test case may allocate. Both are small under TinyGo, where a
// Cortex-M test target has 64 KB of RAM.
const (
	bigTests     = true
	maxTestAlloc = 2 << 20
)

func allocsPerRun(runs int, f func()) float64 { return testing.AllocsPerRun(runs, f) }
