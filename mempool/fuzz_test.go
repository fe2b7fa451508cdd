//go:build !tinygo

package mempool_test

import "testing"

// FuzzPoolOps checks Pool against a model on random operation sequences; see
// runOps. The first byte picks the backend (sync.Pool or free lists of 1 to
// 3 buffers).
func FuzzPoolOps(f *testing.F) {
	for _, seed := range opsSeeds {
		for _, backend := range []byte{0, 1, 3} {
			f.Add(append([]byte{backend}, seed...))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		if len(data) > 4096 {
			data = data[:4096]
		}
		runOps(t, int(data[0]%4), data[1:])
	})
}
