package mempool_test

import (
	"testing"

	"github.com/edgekit/edgekit/mempool"
)

// Model-based checking of Pool against a sequence of operations decoded from
// bytes; FuzzPoolOps (fuzz_test.go) feeds it random input, TestPoolOpsSeeds
// the seeds on every build.

const (
	opsMinSize = 16
	opsMaxSize = 1024
	opsMaxLive = 16
)

// opsSeeds are hand-written sequences. Each byte b is an operation: b%5 is
// Get (size from the next byte), Retain, Release, Put or Grow; b/5 picks the
// held buffer.
var opsSeeds = [][]byte{
	{},
	{0, 10, 2 * 5},               // Get(40), Release
	{0, 0, 0, 255, 0, 206, 3, 3}, // Get(-10), Get(1265) oversize, Get(1020), Put, Put
	{0, 100, 1, 1, 2, 2, 3},      // Get, Retain x2, Release x2, Put
	{0, 50, 4, 2},                // Get, grow past capacity, Release: dropped
	{0, 3, 0, 3, 0, 3, 0, 3, 0, 3, 0, 3, 2, 2, 2, 2, 2, 2, 0, 3, 0, 3, 0, 3, 0, 3, 0, 3, 0, 3, 0, 3}, // fill and overflow the free list
	{0, 7, 5, 14, 1, 6, 11, 0, 210, 4, 9, 2, 7, 12, 3, 8},
}

type opsEntry struct {
	b     *mempool.Buf
	refs  int
	n     int
	tag   byte
	size  int  // class size, or n if oversize
	grown bool // appended past its capacity: cap is append's choice
}

// runOps applies data to a pool and checks it against a model: lengths and
// capacities, no buffer handed out twice at once (by identity and by
// content), and exact Gets, Puts, Outstanding and Drops; with a free list
// also Allocs.
func runOps(t *testing.T, maxIdle int, data []byte) {
	p := newPool(t, mempool.Config{MinSize: opsMinSize, MaxSize: opsMaxSize, MaxIdle: maxIdle, CountOps: true})
	freeList := maxIdle > 0 || !mempool.UsesSyncPoolByDefault
	if maxIdle == 0 {
		maxIdle = mempool.DefaultMaxIdle
	}
	var (
		live                      []*opsEntry
		gets, puts, drops, allocs uint64
		idle                      = map[int]int{} // class size -> idle buffers (free list only)
		nextTag                   byte
	)
	classSize := func(n int) int {
		size := opsMinSize
		for size < n {
			size <<= 1
		}
		return size
	}
	verify := func(e *opsEntry) {
		t.Helper()
		if len(e.b.B) != e.n || (!e.grown && cap(e.b.B) != e.size) {
			t.Fatalf("buffer len %d cap %d; want len %d cap %d", len(e.b.B), cap(e.b.B), e.n, e.size)
		}
		for i, c := range e.b.B {
			if c != e.tag {
				t.Fatalf("byte %d of a held buffer is %d; want its tag %d: shared with another holder", i, c, e.tag)
			}
		}
	}
	release := func(i int, put bool) {
		e := live[i]
		verify(e)
		e.refs--
		if e.refs == 0 {
			live = append(live[:i], live[i+1:]...)
			puts++
			switch {
			case e.n > opsMaxSize || e.grown:
				drops++
			case freeList && idle[e.size] == maxIdle:
				drops++
			case freeList:
				idle[e.size]++
			}
		}
		if put {
			p.Put(e.b)
		} else {
			e.b.Release()
		}
	}
	for i := 0; i < len(data); i++ {
		op := data[i]
		pick := int(op / 5)
		switch op % 5 {
		case 0: // Get
			if len(live) == opsMaxLive {
				continue
			}
			var n int
			if i+1 < len(data) {
				i++
				n = int(data[i])*5 - 10
			}
			b := p.Get(n)
			gets++
			if n < 0 {
				n = 0
			}
			e := &opsEntry{b: b, refs: 1, n: n}
			if n > opsMaxSize {
				e.size = n
				allocs++
			} else {
				e.size = classSize(n)
				if freeList && idle[e.size] > 0 {
					idle[e.size]--
				} else if freeList {
					allocs++
				}
			}
			for _, o := range live {
				if o.b == b {
					t.Fatalf("Get(%d) returned a buffer that is still held", n)
				}
			}
			nextTag++
			e.tag = nextTag
			for j := range b.B {
				b.B[j] = e.tag
			}
			live = append(live, e)
			verify(e)
		case 1: // Retain
			if len(live) > 0 {
				e := live[pick%len(live)]
				e.b.Retain()
				e.refs++
			}
		case 2, 3: // Release, Put
			if len(live) > 0 {
				release(pick%len(live), op%5 == 3)
			}
		case 4: // Grow past the class capacity; only a sole owner writes
			if len(live) > 0 {
				e := live[pick%len(live)]
				if e.refs == 1 && e.n <= opsMaxSize && !e.grown {
					e.b.B = append(e.b.B[:cap(e.b.B)], e.tag)
					for j := range e.b.B {
						e.b.B[j] = e.tag
					}
					e.n = len(e.b.B)
					e.grown = true
				}
			}
		}
		s := p.Stats().Total
		if s.Gets != gets || s.Puts != puts || s.Outstanding != uint64(len(live)) || s.Drops != drops {
			t.Fatalf("after op %d (%d): %+v; model Gets %d Puts %d Outstanding %d Drops %d", i, op, s, gets, puts, len(live), drops)
		}
		if freeList && s.Allocs != allocs {
			t.Fatalf("after op %d (%d): Allocs %d; model %d", i, op, s.Allocs, allocs)
		}
		if s.Allocs > s.Gets {
			t.Fatalf("after op %d: Allocs %d > Gets %d", i, s.Allocs, s.Gets)
		}
	}
	for len(live) > 0 {
		release(len(live)-1, false)
	}
	var tb fakeTB
	if n := p.CheckLeaks(&tb); n != 0 {
		t.Fatalf("CheckLeaks = %d after releasing everything: %q", n, tb.errs)
	}
}

func TestPoolOpsSeeds(t *testing.T) {
	for _, seed := range opsSeeds {
		for _, maxIdle := range []int{0, 1, 3} {
			runOps(t, maxIdle, seed)
		}
	}
}
