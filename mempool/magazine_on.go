//go:build !tinygo && !race

package mempool

// magazines puts a per-P magazine in front of each small class's
// sync.Pool (see sysPool).
const magazines = true
