//go:build !tinygo && !race && !edgekit_debug

package mempool

import (
	"runtime"
	"testing"
	"time"
	"weak"
)

// waitGC runs garbage collections until p's GC epoch has advanced by at
// least n (the cleanup that advances it runs asynchronously after each
// cycle), or fails after 5 s.
func waitGC(t *testing.T, p *Pool, n uint32) {
	t.Helper()
	start := p.gcEpoch.Load()
	deadline := time.Now().Add(5 * time.Second)
	for p.gcEpoch.Load()-start < n {
		if time.Now().After(deadline) {
			t.Fatalf("GC epoch advanced by %d in 5 s; want %d", p.gcEpoch.Load()-start, n)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}

// TestMagazineReuse: a Put and a Get on one goroutine go through the
// magazine: the buffer comes back and nothing is allocated.
func TestMagazineReuse(t *testing.T) {
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if p.classes[p.classOf(1024)].sys.mags == nil {
		t.Fatal("no magazines for the 1 KiB class")
	}
	if p.classes[p.classOf(64<<10)].sys.mags != nil {
		t.Fatal("magazines for the 64 KiB class, above magMaxSize")
	}
	allocs := testing.AllocsPerRun(1000, func() {
		p.Put(p.Get(1000))
	})
	if allocs != 0 {
		t.Fatalf("Get+Put: %v allocs/op", allocs)
	}
}

// TestMagazineDroppedAfterGC: buffers idle in a magazine across a garbage
// collection are dropped by the next Put on that P, so that they are
// collectable as sync.Pool's are; before it, a Get may still reuse one.
func TestMagazineDroppedAfterGC(t *testing.T) {
	// One P, so that the Puts and the Get meet in the same magazine.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ci := p.classOf(512)
	var bs []*Buf
	for i := 0; i < magCap; i++ {
		bs = append(bs, p.Get(512))
	}
	for _, b := range bs {
		p.Put(b)
	}
	m := &p.classes[ci].sys.mags[0]
	if m.n != magCap {
		t.Fatalf("magazine holds %d buffers; want %d", m.n, magCap)
	}
	waitGC(t, p, 1)
	b := p.Get(512) // reuses a stale buffer: allowed
	if m.n != magCap-1 {
		t.Fatalf("after a Get the magazine holds %d; want %d", m.n, magCap-1)
	}
	p.Put(b) // drops the stale ones, then keeps b
	if m.n != 1 || m.bufs[0] != b {
		t.Fatalf("after the first Put since the collection the magazine holds %d; want only the buffer put", m.n)
	}
	for i := 1; i < magCap; i++ {
		if m.bufs[i] != nil {
			t.Fatalf("slot %d still points to a dropped buffer", i)
		}
	}
}

// TestPoolCollectable: the GC watch holds its Pool weakly; an unreferenced
// Pool, magazines and all, is collected.
func TestPoolCollectable(t *testing.T) {
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	p.Put(p.Get(100))
	wp := weak.Make(p)
	p = nil
	deadline := time.Now().Add(5 * time.Second)
	for wp.Value() != nil {
		if time.Now().After(deadline) {
			t.Fatal("the Pool was not collected: something holds it strongly")
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}
