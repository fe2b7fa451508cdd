package bench

import (
	"context"
	"runtime"
	"sync"
	"testing"

	workiva "github.com/Workiva/go-datastructures/queue"
	"github.com/bytedance/gopkg/collection/lscq"

	"github.com/edgekit/edgekit/ringbuf"
)

// BenchmarkRing moves b.N uint64 items from producer to consumer goroutines
// through each queue; ns/op is per item. Peers:
//   - chan: a buffered Go channel of the same capacity (the baseline);
//   - workiva: github.com/Workiva/go-datastructures queue.RingBuffer, a
//     bounded MPMC ring of interface{} values with blocking Put/Get;
//   - lscq: github.com/bytedance/gopkg collection/lscq, an unbounded
//     lock-free queue (linked SCQ rings), non-blocking only, so its
//     consumers spin and then yield when it is empty.
//
// Producers stop consumers with one sentinel per consumer (peers without
// Close) or by closing (chan, edgekit).
func BenchmarkRing(b *testing.B) {
	for _, sc := range []struct {
		name       string
		prod, cons int
	}{{"1P1C", 1, 1}, {"2P2C", 2, 2}} {
		b.Run(sc.name+"/impl=chan", func(b *testing.B) { benchChan(b, sc.prod, sc.cons) })
		if sc.prod == 1 && sc.cons == 1 {
			b.Run(sc.name+"/impl=edgekit-spsc", func(b *testing.B) {
				r, _ := ringbuf.NewSPSC[uint64](ringbuf.Config{Capacity: capacity})
				benchEdgekit(b, r, sc.prod, sc.cons, 1)
			})
			b.Run(sc.name+"/impl=edgekit-spsc-batch16", func(b *testing.B) {
				r, _ := ringbuf.NewSPSC[uint64](ringbuf.Config{Capacity: capacity})
				benchEdgekit(b, r, sc.prod, sc.cons, 16)
			})
		}
		b.Run(sc.name+"/impl=edgekit-mpmc", func(b *testing.B) {
			r, _ := ringbuf.NewMPMC[uint64](ringbuf.Config{Capacity: capacity})
			benchEdgekit(b, r, sc.prod, sc.cons, 1)
		})
		b.Run(sc.name+"/impl=edgekit-mpmc-batch16", func(b *testing.B) {
			r, _ := ringbuf.NewMPMC[uint64](ringbuf.Config{Capacity: capacity})
			benchEdgekit(b, r, sc.prod, sc.cons, 16)
		})
		b.Run(sc.name+"/impl=workiva", func(b *testing.B) { benchWorkiva(b, sc.prod, sc.cons) })
		b.Run(sc.name+"/impl=lscq", func(b *testing.B) { benchLSCQ(b, sc.prod, sc.cons) })
	}
}

const (
	capacity = 1024
	sentinel = ^uint64(0)
)

type edgekitRing interface {
	Push(context.Context, uint64) error
	Pop(context.Context) (uint64, error)
	PushBatch(context.Context, []uint64) (int, error)
	PopBatch(context.Context, []uint64) (int, error)
	Close()
}

// runPipe runs producers (each producing its share of n) and consumers,
// calls stop after the last producer returns, and waits for consumers.
func runPipe(b *testing.B, n, prod, cons int, produce func(n int), stop func(), consume func()) {
	b.ReportAllocs()
	b.ResetTimer()
	var pw, cw sync.WaitGroup
	for c := 0; c < cons; c++ {
		cw.Add(1)
		go func() { defer cw.Done(); consume() }()
	}
	for p := 0; p < prod; p++ {
		share := n / prod
		if p == 0 {
			share += n % prod
		}
		pw.Add(1)
		go func() { defer pw.Done(); produce(share) }()
	}
	pw.Wait()
	stop()
	cw.Wait()
}

func benchChan(b *testing.B, prod, cons int) {
	ch := make(chan uint64, capacity)
	runPipe(b, b.N, prod, cons,
		func(n int) {
			for i := 0; i < n; i++ {
				ch <- uint64(i)
			}
		},
		func() { close(ch) },
		func() {
			for range ch {
			}
		})
}

func benchEdgekit(b *testing.B, r edgekitRing, prod, cons, batch int) {
	ctx := context.Background()
	if batch == 1 {
		runPipe(b, b.N, prod, cons,
			func(n int) {
				for i := 0; i < n; i++ {
					if err := r.Push(ctx, uint64(i)); err != nil {
						b.Error(err)
						return
					}
				}
			},
			r.Close,
			func() {
				for {
					if _, err := r.Pop(ctx); err != nil {
						return
					}
				}
			})
		return
	}
	runPipe(b, b.N, prod, cons,
		func(n int) {
			buf := make([]uint64, batch)
			for n > 0 {
				k := min(n, batch)
				if _, err := r.PushBatch(ctx, buf[:k]); err != nil {
					b.Error(err)
					return
				}
				n -= k
			}
		},
		r.Close,
		func() {
			buf := make([]uint64, batch)
			for {
				if _, err := r.PopBatch(ctx, buf); err != nil {
					return
				}
			}
		})
}

func benchWorkiva(b *testing.B, prod, cons int) {
	q := workiva.NewRingBuffer(capacity)
	defer q.Dispose()
	runPipe(b, b.N, prod, cons,
		func(n int) {
			for i := 0; i < n; i++ {
				if err := q.Put(uint64(i)); err != nil {
					b.Error(err)
					return
				}
			}
		},
		func() {
			for c := 0; c < cons; c++ {
				if err := q.Put(sentinel); err != nil {
					b.Error(err)
				}
			}
		},
		func() {
			for {
				v, err := q.Get()
				if err != nil || v.(uint64) == sentinel {
					return
				}
			}
		})
}

func benchLSCQ(b *testing.B, prod, cons int) {
	q := lscq.NewUint64()
	runPipe(b, b.N, prod, cons,
		func(n int) {
			for i := 0; i < n; i++ {
				q.Enqueue(uint64(i))
			}
		},
		func() {
			for c := 0; c < cons; c++ {
				q.Enqueue(sentinel)
			}
		},
		func() {
			idle := 0
			for {
				v, ok := q.Dequeue()
				if !ok {
					if idle++; idle > 64 {
						runtime.Gosched()
					}
					continue
				}
				idle = 0
				if v == sentinel {
					return
				}
			}
		})
}
