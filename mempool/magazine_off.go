//go:build !tinygo && race

package mempool

// magazines is off under the race detector: it cannot see that a P's
// magazine is only ever touched with preemption disabled, and would report
// the hand-over between goroutines on one P as a race. sync.Pool alone
// serves every class.
const magazines = false
