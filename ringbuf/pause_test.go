//go:build !tinygo

package ringbuf

import (
	"testing"
	"time"
)

// TestPauseFor: pauseFor waits at least its duration, and not grossly
// longer (the bound is loose: the machine may be busy).
func TestPauseFor(t *testing.T) {
	for _, d := range []time.Duration{time.Microsecond, 20 * time.Microsecond} {
		start := time.Now()
		pauseFor(d)
		if el := time.Since(start); el < d || el > d+50*time.Millisecond {
			t.Errorf("pauseFor(%v) took %v", d, el)
		}
	}
}

// BenchmarkSpinPause is the cost of one CPU spin-wait hint (PAUSE, YIELD),
// which sets how many pauseFor issues between clock reads.
func BenchmarkSpinPause(b *testing.B) {
	for b.Loop() {
		spinPause(1)
	}
}
