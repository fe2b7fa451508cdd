package bench

// Side-by-side benchmarks of edgekit/mempool against peer buffer pools, with
// the same sizes and access pattern: take a buffer of n bytes, write its
// last byte, give it back. Names are stable for benchstat:
//
//	BenchmarkPool/<impl>/<size>           one goroutine
//	BenchmarkPoolParallel/<impl>/<size>   b.RunParallel
//
// Implementations:
//   - edgekit: mempool.New(mempool.Config{}) (sync.Pool per class, Gets
//     and Puts not counted);
//   - edgekit-counted: the same with Config.CountOps (exact Gets/Puts);
//   - bytebufferpool: github.com/valyala/bytebufferpool, one Pool per
//     benchmark, resliced or regrown to n;
//   - gobufferpool: github.com/libp2p/go-buffer-pool, one BufferPool per
//     benchmark;
//   - syncpool: a bare sync.Pool of *[]byte of one size, the floor any
//     sync.Pool-based design pays;
//   - make: make([]byte, n) per use, what pooling replaces.

import (
	"sync"
	"testing"

	"github.com/edgekit/edgekit/mempool"
	bufferpool "github.com/libp2p/go-buffer-pool"
	"github.com/valyala/bytebufferpool"
)

var poolSizes = []struct {
	name string
	n    int
}{
	{"64B", 64},
	{"1KiB", 1 << 10},
	{"16KiB", 16 << 10},
	{"64KiB", 64 << 10},
}

// poolImpl returns a get-touch-put cycle for buffers of n bytes, with fresh
// pool state.
type poolImpl struct {
	name  string
	cycle func(tb testing.TB, n int) func()
}

var byteSink []byte

var poolImpls = []poolImpl{
	{"edgekit", edgekitCycle(mempool.Config{})},
	{"edgekit-counted", edgekitCycle(mempool.Config{CountOps: true})},
	{"bytebufferpool", func(tb testing.TB, n int) func() {
		p := new(bytebufferpool.Pool)
		return func() {
			b := p.Get()
			if cap(b.B) < n {
				b.B = make([]byte, n)
			} else {
				b.B = b.B[:n]
			}
			b.B[n-1] = 1
			p.Put(b)
		}
	}},
	{"gobufferpool", func(tb testing.TB, n int) func() {
		p := new(bufferpool.BufferPool)
		return func() {
			b := p.Get(n)
			b[n-1] = 1
			p.Put(b)
		}
	}},
	{"syncpool", func(tb testing.TB, n int) func() {
		p := &sync.Pool{New: func() any { b := make([]byte, n); return &b }}
		return func() {
			b := p.Get().(*[]byte)
			(*b)[n-1] = 1
			p.Put(b)
		}
	}},
	{"make", func(tb testing.TB, n int) func() {
		return func() {
			byteSink = make([]byte, n)
			byteSink[n-1] = 1
		}
	}},
}

// edgekitCycle is the get-touch-put cycle of an edgekit pool made with cfg.
func edgekitCycle(cfg mempool.Config) func(tb testing.TB, n int) func() {
	return func(tb testing.TB, n int) func() {
		p, err := mempool.New(cfg)
		if err != nil {
			tb.Fatal(err)
		}
		return func() {
			b := p.Get(n)
			b.B[n-1] = 1
			p.Put(b)
		}
	}
}

func BenchmarkPool(b *testing.B) {
	for _, impl := range poolImpls {
		for _, sz := range poolSizes {
			b.Run(impl.name+"/"+sz.name, func(b *testing.B) {
				cycle := impl.cycle(b, sz.n)
				cycle() // warm
				b.ReportAllocs()
				b.SetBytes(int64(sz.n))
				for b.Loop() { // b.Loop resets the timer on its first call
					cycle()
				}
			})
		}
	}
}

func BenchmarkPoolParallel(b *testing.B) {
	for _, impl := range poolImpls {
		for _, sz := range poolSizes {
			b.Run(impl.name+"/"+sz.name, func(b *testing.B) {
				cycle := impl.cycle(b, sz.n)
				b.ReportAllocs()
				b.SetBytes(int64(sz.n))
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						cycle()
					}
				})
			})
		}
	}
}
