//go:build tinygo

package mempool_test

import "runtime"

const (
	bigTests     = false
	maxTestAlloc = 1 << 10
)

// allocsPerRun measures like testing.AllocsPerRun, which TinyGo stubs out
// (it always returns 0).
func allocsPerRun(runs int, f func()) float64 {
	var ms runtime.MemStats
	f() // warm up
	runtime.ReadMemStats(&ms)
	before := ms.Mallocs
	for i := 0; i < runs; i++ {
		f()
	}
	runtime.ReadMemStats(&ms)
	return float64(ms.Mallocs-before) / float64(runs)
}
