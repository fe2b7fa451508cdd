package mempool

import (
	"errors"
	"math/bits"
	"runtime"
	"sync/atomic"
)

// Defaults applied by [New] to zero [Config] fields, and the largest class
// size it accepts.
const (
	DefaultMinSize = 64       // smallest size class, bytes
	DefaultMaxSize = 64 << 10 // largest size class, bytes
	DefaultMaxIdle = 8        // idle buffers per class in the bounded free list
	MaxSizeLimit   = 1 << 30  // largest accepted Config.MaxSize
)

// Poison is the byte that debug builds (-tags edgekit_debug) write over a
// released buffer and expect to find intact on its next Get.
const Poison byte = 0xDE

// Errors returned by [New] for a bad [Config].
var (
	ErrSizeNotPowerOfTwo = errors.New("mempool: MinSize and MaxSize must be powers of two")
	ErrSizeOrder         = errors.New("mempool: MinSize must not exceed MaxSize")
	ErrSizeLimit         = errors.New("mempool: MaxSize must not exceed 1 GiB")
	ErrNegativeMaxIdle   = errors.New("mempool: MaxIdle must not be negative")
)

// Panic values for misuse of a [Buf]. Debug builds panic with an error that
// wraps them and adds stacks; test with errors.Is.
var (
	// ErrReleased reports a Retain or Release of a Buf whose reference count
	// had already reached zero: a double Put or Release.
	ErrReleased = errors.New("mempool: Retain or Release of a released Buf")
	// ErrWrittenAfterRelease reports, in debug builds only, that the bytes
	// of a pooled buffer changed after its release.
	ErrWrittenAfterRelease = errors.New("mempool: Buf written after release")
)

// Config configures a [Pool]. It is a plain value that [New] copies; the
// Pool never refers to it afterwards. The zero value is valid: size classes
// from 64 B to 64 KiB in powers of two, sync.Pool-backed classes with the gc
// toolchain, free lists of 8 idle buffers per class under TinyGo, and no
// per-operation counting.
type Config struct {
	// MinSize is the smallest size class in bytes, a power of two.
	// 0 means DefaultMinSize (64). Get(n) for n <= MinSize uses this class.
	MinSize int
	// MaxSize is the largest size class in bytes, a power of two no bigger
	// than MaxSizeLimit (1 GiB). 0 means DefaultMaxSize (64 KiB). Larger
	// requests are allocated and never pooled.
	MaxSize int
	// MaxIdle bounds the idle buffers kept per class. 0 means sync.Pool with
	// the gc toolchain (idle buffers are freed across garbage collections)
	// and DefaultMaxIdle (8) under TinyGo and in debug builds. A positive
	// value selects the bounded, mutex-protected free list in every build;
	// a release that finds the list full drops the buffer (counted in Drops).
	MaxIdle int
	// CountOps makes Stats count every Get and Put, so Gets, Puts and
	// Outstanding are exact and CheckLeaks works. It costs two atomic adds
	// per Get/Put pair on counters striped per buffer. Debug builds always
	// count.
	CountOps bool
}

// Pool hands out [*Buf] values in power-of-two size classes. It is safe for
// concurrent use by multiple goroutines; create it with [New] and do not
// copy it. A Pool starts no goroutines and holds no resources besides its
// idle buffers, so it needs no Close.
type Pool struct {
	classes  []class // nclass pooled classes, then the oversize bucket
	nclass   int
	minSize  int
	maxSize  int
	minShift uint8
	freeList bool // bounded free lists instead of sync.Pool
	count    bool // count Gets and Puts in ops

	// ops holds the Get and Put counters when counting: stripes of
	// 1<<strideShift counters, each stripe padded to whole cache lines, in
	// which bucket i counts Gets at 2*i and Puts at 2*i+1. A buffer always
	// counts in the stripe it was allocated for, so goroutines that cycle
	// their own buffers write distinct cache lines.
	ops         []atomic.Uint64
	strideShift uint8
	stripeMask  uint8

	dbg poolDebug

	// gcEpoch counts garbage collections while the per-P magazines are in
	// use (see sysPool); a magazine from an older epoch is emptied. It is
	// a separate object: the GC watch holds it, and must not hold the Pool.
	gcEpoch *atomic.Uint32
}

// class is one size class, or the oversize bucket (size -1) after the last.
type class struct {
	size   int
	sys    sysPool
	free   freeList
	allocs atomic.Uint64
	drops  atomic.Uint64
}

// Buf is a pooled byte buffer with a reference count. B is the buffer: Get
// sets its length to the requested size and its capacity to the class size.
// The bytes are not zeroed.
//
// A Buf belongs to whoever holds a reference. Retain and Release are safe for
// concurrent use; B is not synchronized, so goroutines that share a Buf
// through Retain must only read it. After its final Release the Buf and
// every slice of B belong to the pool again and must not be used.
type Buf struct {
	// B holds the data. The holder may reslice it within its capacity or
	// append to it; if it outgrows the class capacity, Release drops the
	// buffer instead of pooling it.
	B []byte

	pool   *Pool
	dbg    bufDebug
	refs   int32 // accessed atomically, see Release
	class  uint8 // index in pool.classes; pool.nclass for oversize
	stripe uint8 // counter stripe
}

// New returns a Pool configured by cfg. Zero fields take their defaults
// first; an invalid result is reported as [ErrSizeNotPowerOfTwo],
// [ErrSizeOrder], [ErrSizeLimit] or [ErrNegativeMaxIdle].
func New(cfg Config) (*Pool, error) {
	minSize, maxSize := cfg.MinSize, cfg.MaxSize
	if minSize == 0 {
		minSize = DefaultMinSize
	}
	if maxSize == 0 {
		maxSize = DefaultMaxSize
	}
	if minSize < 0 || maxSize < 0 || minSize&(minSize-1) != 0 || maxSize&(maxSize-1) != 0 {
		return nil, ErrSizeNotPowerOfTwo
	}
	if maxSize > MaxSizeLimit {
		return nil, ErrSizeLimit
	}
	if minSize > maxSize {
		return nil, ErrSizeOrder
	}
	if cfg.MaxIdle < 0 {
		return nil, ErrNegativeMaxIdle
	}
	maxIdle := cfg.MaxIdle
	freeList := maxIdle > 0 || !haveSyncPool || debugEnabled
	if maxIdle == 0 {
		maxIdle = DefaultMaxIdle
	}

	minShift := bits.Len(uint(minSize)) - 1
	nclass := bits.Len(uint(maxSize)) - 1 - minShift + 1
	p := &Pool{
		classes:  make([]class, nclass+1),
		nclass:   nclass,
		minSize:  minSize,
		maxSize:  maxSize,
		minShift: uint8(minShift),
		freeList: freeList,
		count:    cfg.CountOps || debugEnabled,
		gcEpoch:  new(atomic.Uint32),
	}
	p.classes[nclass].size = -1
	for i := 0; i < nclass; i++ {
		c := &p.classes[i]
		c.size = minSize << i
		if freeList {
			c.free.bufs = make([]*Buf, 0, maxIdle)
		} else {
			c.sys.init(c.size, p.gcEpoch)
		}
	}
	if !freeList {
		watchGC(p, p.gcEpoch)
	}
	if p.count {
		// Stripes: a power of two at least twice GOMAXPROCS, at most 32.
		stripes := 1
		for stripes < 2*runtime.GOMAXPROCS(0) && stripes < 32 {
			stripes <<= 1
		}
		// Stride: 2 counters per bucket, rounded up to 16 (128 bytes).
		shift := bits.Len(uint(2*(nclass+1) - 1))
		if shift < 4 {
			shift = 4
		}
		p.ops = make([]atomic.Uint64, stripes<<shift)
		p.strideShift = uint8(shift)
		p.stripeMask = uint8(stripes - 1)
	}
	return p, nil
}

// classOf returns the class index for 0 <= n <= p.maxSize.
func (p *Pool) classOf(n int) int {
	if n <= p.minSize {
		return 0
	}
	return bits.Len(uint(n-1)) - int(p.minShift)
}

// Get returns a Buf with len(B) == n and a reference count of 1. For n up to
// Config.MaxSize, cap(B) is the size of the smallest class that holds n; a
// larger n is allocated with cap(B) == n and will not be pooled. A negative n
// is treated as 0. The bytes of B are not zeroed (in debug builds they hold
// [Poison] or a previous user's data). Get allocates only when the class has
// no idle buffer; callers bound n before asking for an oversize buffer.
func (p *Pool) Get(n int) *Buf {
	if uint(n) > uint(p.maxSize) {
		if n > 0 {
			return p.getOversize(n)
		}
		n = 0
	}
	ci := p.classOf(n)
	c := &p.classes[ci]
	var b *Buf
	if p.freeList {
		b = c.free.get()
	} else if magazines && c.sys.mags != nil {
		// The per-P magazine (see sysPool), inlined by hand: the hot path.
		pid := procPin()
		if pid < len(c.sys.mags) {
			// A magazine from before a collection is emptied by the next
			// put; taking from it meanwhile is reuse, which is fine.
			m := &c.sys.mags[pid]
			if m.n > 0 {
				// The slot keeps its pointer until overwritten or dropped:
				// at most magCap buffers per P stay reachable that way.
				m.n--
				b = m.bufs[m.n]
			}
		}
		procUnpin()
		if b == nil {
			b = c.sys.get()
		}
	} else {
		b = c.sys.get()
	}
	if b == nil {
		b = p.alloc(ci, c.size)
	} else if debugEnabled {
		p.debugCheckPoison(b)
	}
	b.B = b.B[:n]
	// Plain store: nobody else can reach b until Get returns, and the pool
	// handing it over orders this after the release that pooled it.
	b.refs = 1
	if p.count {
		p.ops[int(b.stripe)<<p.strideShift+ci<<1].Add(1)
	}
	if debugEnabled {
		p.debugGet(b)
	}
	return b
}

// alloc makes a new buffer of size bytes for bucket ci: the slow path of
// Get. Buffers are spread over the counter stripes in allocation order.
// Not inlined, to keep Get's frame small.
//
//go:noinline
func (p *Pool) alloc(ci, size int) *Buf {
	k := p.classes[ci].allocs.Add(1)
	return &Buf{B: make([]byte, size), pool: p, class: uint8(ci), stripe: uint8(k) & p.stripeMask}
}

func (p *Pool) getOversize(n int) *Buf {
	b := p.alloc(p.nclass, n)
	b.refs = 1
	if p.count {
		p.ops[int(b.stripe)<<p.strideShift+p.nclass<<1].Add(1)
	}
	if debugEnabled {
		p.debugGet(b)
	}
	return b
}

// Put releases b: it is exactly b.Release(), so a Buf with extra references
// from Retain stays out until its last Release, and a Buf returns to the
// pool it came from even if that is not p. Put(nil) does nothing.
func (p *Pool) Put(b *Buf) {
	if b != nil {
		b.Release()
	}
}

// Retain adds a reference to b, for handing it to one more holder that
// will Release it. The caller must hold a reference itself. Retain on a
// released Buf panics with [ErrReleased].
func (b *Buf) Retain() {
	if atomic.AddInt32(&b.refs, 1) <= 1 {
		b.misuse()
	}
}

// Release drops one reference to b. The release that drops the last one
// returns b to its pool (or drops it if it is oversize or outgrew its
// class), after which neither b nor any slice of b.B may be used. Releasing
// more often than Get plus Retain handed out references panics with
// [ErrReleased] if the count is already zero, as it is while the buffer is
// idle; once another Get has handed the buffer out again, a stale Release
// cannot be told from a valid one (debug builds then catch the writes that
// follow through [Poison]).
func (b *Buf) Release() {
	// A holder that sees a count of 1 holds the only reference, so no other
	// goroutine may Retain or Release b concurrently: skip the atomic
	// read-modify-write. The load synchronizes with the decrements of
	// earlier holders.
	if atomic.LoadInt32(&b.refs) == 1 {
		b.refs = 0
	} else if n := atomic.AddInt32(&b.refs, -1); n != 0 {
		if n < 0 {
			b.misuse()
		}
		return
	}

	// The last reference is gone: take b back (inlined by hand, it is
	// the hot path).
	p := b.pool
	ci := int(b.class)
	if p.count {
		p.ops[int(b.stripe)<<p.strideShift+ci<<1+1].Add(1)
	}
	if debugEnabled {
		p.debugRelease(b)
	}
	c := &p.classes[ci]
	// The oversize bucket has size -1, which no capacity matches.
	if cap(b.B) != c.size {
		c.drops.Add(1)
		return
	}
	if debugEnabled {
		b.B = b.B[:cap(b.B)]
		p.debugPoison(b)
	}
	if !p.freeList {
		if magazines && c.sys.mags != nil {
			pid := procPin()
			if pid < len(c.sys.mags) {
				m := &c.sys.mags[pid]
				if e := c.sys.epoch.Load(); m.epoch != e {
					m.drop(e)
				}
				if m.n < magCap {
					m.bufs[m.n] = b
					m.n++
					procUnpin()
					return
				}
			}
			procUnpin()
			c.sys.put(b)
			return
		}
		c.sys.put(b)
	} else if !c.free.put(b) {
		c.drops.Add(1)
	}
}

func (b *Buf) misuse() {
	if debugEnabled {
		b.debugMisuse()
	}
	panic(ErrReleased)
}
