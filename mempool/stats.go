package mempool

import "strconv"

// ClassStats holds the counters of one size class, of the oversize bucket or
// of the whole pool. It is a plain value, copied out of the Pool by
// [Pool.Stats]; it does not change afterwards.
type ClassStats struct {
	// Size is the class size in bytes; 0 for the oversize bucket and the
	// total.
	Size int
	// Gets counts Get calls served by this class. Exact when counting
	// (Stats.Counting), otherwise 0.
	Gets uint64
	// Puts counts final releases (Put, or the Release that dropped the last
	// reference), whether the buffer was pooled or dropped. Exact when
	// counting, otherwise 0.
	Puts uint64
	// Outstanding is Gets - Puts: buffers handed out and not yet released.
	// Exact when counting and no Get or Put runs concurrently with Stats,
	// otherwise 0.
	Outstanding uint64
	// Allocs counts buffers made because no idle one was available, plus
	// every oversize Get. Always exact.
	Allocs uint64
	// Drops counts final releases that did not pool the buffer: oversize
	// buffers, buffers whose B no longer has the class capacity, and (with
	// the bounded free list) releases that found the list full. Always
	// exact. Buffers that sync.Pool frees during garbage collection are not
	// counted anywhere.
	Drops uint64
}

// Stats is a snapshot of a Pool's counters, returned by [Pool.Stats]. It is a
// plain value that the Pool does not touch afterwards; its Classes slice is
// fresh on every call.
type Stats struct {
	// Counting reports whether Gets, Puts and Outstanding are counted:
	// Config.CountOps was set, or this is a debug build.
	Counting bool
	// Classes holds one entry per size class, smallest first.
	Classes []ClassStats
	// Oversize counts requests above Config.MaxSize.
	Oversize ClassStats
	// Total sums Classes and Oversize.
	Total ClassStats
}

// Stats returns a snapshot of p's counters. It is safe to call concurrently
// with any other method; each counter is read atomically, but the snapshot
// as a whole is not atomic. It allocates the Classes slice.
func (p *Pool) Stats() Stats {
	s := Stats{Counting: p.count, Classes: make([]ClassStats, p.nclass)}
	for i := range p.classes {
		cs := p.bucketStats(i)
		if i < p.nclass {
			s.Classes[i] = cs
		} else {
			s.Oversize = cs
		}
		s.Total.Gets += cs.Gets
		s.Total.Puts += cs.Puts
		s.Total.Outstanding += cs.Outstanding
		s.Total.Allocs += cs.Allocs
		s.Total.Drops += cs.Drops
	}
	return s
}

func (p *Pool) bucketStats(i int) ClassStats {
	c := &p.classes[i]
	cs := ClassStats{Size: max(c.size, 0), Allocs: c.allocs.Load(), Drops: c.drops.Load()}
	if !p.count {
		return cs
	}
	// Read every stripe's Puts before any Gets: a buffer's Put counts after
	// its Get, in the same stripe, so Gets >= Puts in the snapshot.
	stripes := int(p.stripeMask) + 1
	for s := 0; s < stripes; s++ {
		cs.Puts += p.ops[s<<p.strideShift+i<<1+1].Load()
	}
	for s := 0; s < stripes; s++ {
		cs.Gets += p.ops[s<<p.strideShift+i<<1].Load()
	}
	if cs.Gets > cs.Puts {
		cs.Outstanding = cs.Gets - cs.Puts
	}
	return cs
}

// TB is the part of testing.TB that [Pool.CheckLeaks] uses; *testing.T and
// *testing.B satisfy it, and it keeps the testing package out of firmware.
// CheckLeaks calls it only from the goroutine that called CheckLeaks.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// CheckLeaks reports through t.Errorf the buffers of p that were got and not
// released, and returns their number. Call it at the end of a test, once
// the code under test has stopped. Debug builds report each buffer with the
// stack of its Get; other builds report the count, which needs
// Config.CountOps: without it CheckLeaks reports that it cannot check and
// returns -1. Like Stats, it is safe for concurrent use.
func (p *Pool) CheckLeaks(t TB) int {
	t.Helper()
	if debugEnabled {
		return p.debugLeaks(t)
	}
	if !p.count {
		t.Errorf("mempool: CheckLeaks needs Config.CountOps or -tags edgekit_debug")
		return -1
	}
	n := p.Stats().Total.Outstanding
	if n > 0 {
		t.Errorf("%s", "mempool: "+strconv.FormatUint(n, 10)+" buffers not released (build with -tags edgekit_debug for the stacks of their Get)")
	}
	return int(n)
}
