//go:build !tinygo

package mempool_test

import (
	"sync"
	"testing"

	"github.com/edgekit/edgekit/mempool"
)

var benchSizes = []struct {
	name string
	n    int
}{
	{"64B", 64},
	{"1KiB", 1 << 10},
	{"16KiB", 16 << 10},
	{"64KiB", 64 << 10},
}

// benchConfigs are the backends and counting modes compared.
var benchConfigs = []struct {
	name string
	cfg  mempool.Config
}{
	{"syncpool", mempool.Config{}},
	{"syncpool-counted", mempool.Config{CountOps: true}},
	{"freelist", mempool.Config{MaxIdle: mempool.DefaultMaxIdle}},
}

// BenchmarkGetPut measures one goroutine's Get/Put cycle per class; the
// buffer is touched so that the work is not optimized away.
func BenchmarkGetPut(b *testing.B) {
	for _, c := range benchConfigs {
		for _, sz := range benchSizes {
			b.Run(c.name+"/"+sz.name, func(b *testing.B) {
				p := newPool(b, c.cfg)
				n := sz.n
				b.ReportAllocs()
				b.SetBytes(int64(n))
				for b.Loop() {
					buf := p.Get(n)
					buf.B[n-1] = 1
					p.Put(buf)
				}
			})
		}
	}
}

func BenchmarkGetPutParallel(b *testing.B) {
	for _, c := range benchConfigs {
		b.Run(c.name+"/1KiB", func(b *testing.B) {
			p := newPool(b, c.cfg)
			const n = 1 << 10
			b.ReportAllocs()
			b.SetBytes(n)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					buf := p.Get(n)
					buf.B[n-1] = 1
					p.Put(buf)
				}
			})
		})
	}
}

// BenchmarkRetainRelease measures a reference round trip on a held buffer
// and a whole fan-out to four holders.
func BenchmarkRetainRelease(b *testing.B) {
	b.Run("pair", func(b *testing.B) {
		p := newPool(b, mempool.Config{})
		buf := p.Get(1 << 10)
		b.ReportAllocs()
		for b.Loop() {
			buf.Retain()
			buf.Release()
		}
		p.Put(buf)
	})
	b.Run("fanout4", func(b *testing.B) {
		p := newPool(b, mempool.Config{})
		b.ReportAllocs()
		for b.Loop() {
			buf := p.Get(1 << 10)
			buf.Retain()
			buf.Retain()
			buf.Retain()
			for range 4 {
				buf.Release()
			}
		}
	})
}

var sink []byte

// BenchmarkMake is the baseline a pool replaces: a fresh zeroed buffer per
// use, collected by the GC.
func BenchmarkMake(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			n := sz.n
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				sink = make([]byte, n)
				sink[n-1] = 1
			}
		})
	}
}

// BenchmarkSyncPoolBare is the floor the pool is measured against: a bare
// sync.Pool of *[]byte, Get and Put with no classes and no reference count.
func BenchmarkSyncPoolBare(b *testing.B) {
	const n = 1 << 10
	var sp sync.Pool
	b.ReportAllocs()
	b.SetBytes(n)
	for b.Loop() {
		bp, _ := sp.Get().(*[]byte)
		if bp == nil {
			s := make([]byte, n)
			bp = &s
		}
		(*bp)[n-1] = 1
		sp.Put(bp)
	}
}
