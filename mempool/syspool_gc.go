//go:build !tinygo

package mempool

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"
)

// haveSyncPool reports whether sync.Pool frees idle objects (the gc
// toolchain's does, across garbage collections), making it the default
// backend.
const haveSyncPool = true

// magCap is how many idle buffers of one class each P keeps in its
// magazine, and magMaxSize the largest class that has magazines: at most
// magCap times the sum of the classes up to 4 KiB (32 KiB with the default
// classes) per P. The first Put on a P after a garbage collection empties
// that P's magazine, so idle buffers become collectable as sync.Pool's do;
// a pool left idle keeps its magazines, within that bound.
const (
	magCap     = 4
	magMaxSize = 4096
)

// magBody is one P's magazine for one class: a small stack of idle buffers
// that only goroutines running on that P touch, with preemption disabled
// (runtime.procPin), so a Get and a Put that stay on one P need no atomic
// read-modify-write at all. sync.Pool does the same per-P trick underneath,
// but behind an interface conversion, its own pinning and a shared victim
// cache: the magazine in front halves the cost of a Get+Put pair.
type magBody struct {
	n     int
	epoch uint32 // the Pool's GC epoch when the magazine was last used
	bufs  [magCap]*Buf
}

// mag pads a magazine to whole cache lines: Ps never share one.
type mag struct {
	magBody
	_ [cacheLine - unsafe.Sizeof(magBody{})%cacheLine]byte
}

const cacheLine = 64

// sysPool is a class backed by sync.Pool, with per-P magazines in front
// for classes up to magMaxSize. It holds *Buf, so Put does not allocate
// (staticcheck SA6002).
type sysPool struct {
	p     sync.Pool
	mags  []mag          // one per P at New; nil: no magazines
	epoch *atomic.Uint32 // the Pool's GC epoch
}

// init gives the class magazines, one per P (GOMAXPROCS at New; Ps added
// later go straight to sync.Pool).
func (s *sysPool) init(size int, epoch *atomic.Uint32) {
	if magazines && size <= magMaxSize {
		s.mags = make([]mag, runtime.GOMAXPROCS(0))
		s.epoch = epoch
	}
}

//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// get and put are the class's sync.Pool; Get and Release try the
// magazine of their P first (inlined there: it is the hot path).
func (s *sysPool) get() *Buf {
	b, _ := s.p.Get().(*Buf)
	return b
}

func (s *sysPool) put(b *Buf) { s.p.Put(b) }

// drop empties a magazine left over from before a garbage collection, so
// that idle buffers are collectable as sync.Pool's are.
func (m *mag) drop(epoch uint32) {
	clear(m.bufs[:]) // the slots above n too: Get leaves them set
	m.n, m.epoch = 0, epoch
}

// watchGC advances *epoch after every garbage collection for as long as p
// lives: a cleanup on a fresh sentinel object re-arms itself each cycle and
// holds p only weakly.
func watchGC(p *Pool, epoch *atomic.Uint32) {
	if !magazines {
		return
	}
	armGCWatch(weak.Make(p), epoch)
}

// gcSentinel is large enough not to share a tiny-allocator block, whose
// cleanups may be delayed.
type gcSentinel struct{ _ [32]byte }

func armGCWatch(wp weak.Pointer[Pool], epoch *atomic.Uint32) {
	runtime.AddCleanup(new(gcSentinel), func(struct{}) {
		if wp.Value() == nil {
			return // the Pool is gone: stop watching
		}
		epoch.Add(1)
		armGCWatch(wp, epoch)
	}, struct{}{})
}
