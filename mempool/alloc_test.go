package mempool_test

import (
	"runtime/debug"
	"testing"

	"github.com/edgekit/edgekit/mempool"
)

// noGC turns the collector off for the rest of the test: a collection empties
// sync.Pool, and the refill would count as an allocation.
func noGC(t *testing.T) {
	old := debug.SetGCPercent(-1)
	t.Cleanup(func() { debug.SetGCPercent(old) })
}

// allocTestsApply reports whether allocation counts are meaningful in this
// build. (It logs and returns rather than calling t.Skip, which TinyGo does
// not implement.)
func allocTestsApply(t *testing.T) bool {
	t.Helper()
	switch {
	case raceEnabled:
		t.Log("skipped: the race detector makes sync.Pool drop Puts at random")
		return false
	case mempool.DebugEnabled:
		t.Log("skipped: debug builds record stacks and track buffers in a map")
		return false
	}
	return true
}

// TestGetPutNoAllocs is STYLE R21's proof: in steady state a Get/Put pair
// allocates nothing, on either backend, counting or not.
func TestGetPutNoAllocs(t *testing.T) {
	if !allocTestsApply(t) {
		return
	}
	noGC(t)
	cfgs := map[string]mempool.Config{
		"default":  {},
		"counted":  {CountOps: true},
		"freelist": {MaxIdle: 4},
	}
	for name, cfg := range cfgs {
		p := newPool(t, cfg)
		for _, n := range []int{0, 64, 1000, 4096, 64 << 10} {
			if n > maxTestAlloc {
				continue
			}
			p.Put(p.Get(n)) // warm the class
			got := allocsPerRun(1000, func() {
				b := p.Get(n)
				if n > 0 {
					b.B[n-1] = 1
				}
				p.Put(b)
			})
			if got != 0 {
				t.Errorf("%s: Get(%d)+Put: %v allocs; want 0", name, n, got)
			}
		}
	}
}

func TestRetainReleaseNoAllocs(t *testing.T) {
	if !allocTestsApply(t) {
		return
	}
	noGC(t)
	p := newPool(t, mempool.Config{CountOps: true})
	b := p.Get(512)
	got := allocsPerRun(1000, func() {
		b.Retain()
		b.Retain()
		b.Release()
		b.Release()
	})
	if got != 0 {
		t.Errorf("Retain/Release: %v allocs; want 0", got)
	}
	p.Put(b)
	// A whole fan-out cycle: Get, hand to 4 holders, all release.
	got = allocsPerRun(1000, func() {
		b := p.Get(512)
		for i := 0; i < 3; i++ {
			b.Retain()
		}
		for i := 0; i < 4; i++ {
			b.Release()
		}
	})
	if got != 0 {
		t.Errorf("fan-out cycle: %v allocs; want 0", got)
	}
}
