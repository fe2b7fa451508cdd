package ringbuf

import (
	"context"
	"sync"
	"testing"
)

// The benchmarks move b.N ints from producer goroutines to consumer
// goroutines; ns/op is per item. Each ring is measured beside a buffered
// channel of the same capacity in the same run, so the ratio is what to
// track (go test -bench . -count 10 | benchstat).

const benchCap = 1024

// benchItemsChan is the baseline: a buffered channel, closed by the producers.
func benchItemsChan(b *testing.B, producers, consumers int) {
	ch := make(chan int, benchCap)
	b.ReportAllocs()
	b.ResetTimer()
	run(b.N, producers, consumers,
		func(n int) {
			for i := 0; i < n; i++ {
				ch <- i
			}
		},
		func() { close(ch) },
		func() {
			for range ch {
			}
		})
}

// benchItemsRing pushes and pops one item per call.
func benchItemsRing(b *testing.B, q queue, producers, consumers int) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	run(b.N, producers, consumers,
		func(n int) {
			for i := 0; i < n; i++ {
				if err := q.Push(ctx, i); err != nil {
					b.Error(err)
					return
				}
			}
		},
		q.Close,
		func() {
			for {
				if _, err := q.Pop(ctx); err != nil {
					return
				}
			}
		})
}

// benchItemsRingBatch pushes and pops batch items per call.
func benchItemsRingBatch(b *testing.B, q queue, producers, consumers, batch int) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	run(b.N, producers, consumers,
		func(n int) {
			buf := make([]int, batch)
			for n > 0 {
				k := min(n, batch)
				if _, err := q.PushBatch(ctx, buf[:k]); err != nil {
					b.Error(err)
					return
				}
				n -= k
			}
		},
		q.Close,
		func() {
			buf := make([]int, batch)
			for {
				if _, err := q.PopBatch(ctx, buf); err != nil {
					return
				}
			}
		})
}

// run starts the producers, each sending its share of n items, closes
// after the last one and waits for the consumers to drain.
func run(n, producers, consumers int, produce func(n int), closeFn func(), consume func()) {
	var pw, cw sync.WaitGroup
	for c := 0; c < consumers; c++ {
		cw.Add(1)
		go func() { defer cw.Done(); consume() }()
	}
	for p := 0; p < producers; p++ {
		share := n / producers
		if p == 0 {
			share += n % producers
		}
		pw.Add(1)
		go func() { defer pw.Done(); produce(share) }()
	}
	pw.Wait()
	closeFn()
	cw.Wait()
}

func newBench(b *testing.B, k kind) queue {
	return mustMake(b, k, Config{Capacity: benchCap}, 0)
}

func BenchmarkSPSC(b *testing.B) {
	b.Run("impl=chan", func(b *testing.B) { benchItemsChan(b, 1, 1) })
	b.Run("impl=ring", func(b *testing.B) { benchItemsRing(b, newBench(b, kinds[0]), 1, 1) })
	b.Run("impl=ring-batch16", func(b *testing.B) { benchItemsRingBatch(b, newBench(b, kinds[0]), 1, 1, 16) })
	b.Run("impl=ring-batch64", func(b *testing.B) { benchItemsRingBatch(b, newBench(b, kinds[0]), 1, 1, 64) })
}

func BenchmarkMPSC(b *testing.B) {
	b.Run("impl=chan/2P1C", func(b *testing.B) { benchItemsChan(b, 2, 1) })
	b.Run("impl=ring/2P1C", func(b *testing.B) { benchItemsRing(b, newBench(b, kinds[1]), 2, 1) })
	b.Run("impl=ring-batch16/2P1C", func(b *testing.B) { benchItemsRingBatch(b, newBench(b, kinds[1]), 2, 1, 16) })
}

func BenchmarkMPMC(b *testing.B) {
	b.Run("impl=chan/2P2C", func(b *testing.B) { benchItemsChan(b, 2, 2) })
	b.Run("impl=ring/2P2C", func(b *testing.B) { benchItemsRing(b, newBench(b, kinds[2]), 2, 2) })
	b.Run("impl=ring-batch16/2P2C", func(b *testing.B) { benchItemsRingBatch(b, newBench(b, kinds[2]), 2, 2, 16) })
	b.Run("impl=ring-batch64/2P2C", func(b *testing.B) { benchItemsRingBatch(b, newBench(b, kinds[2]), 2, 2, 64) })
}

// BenchmarkUncontended is one goroutine pushing and popping: the cost of
// the operations themselves, without cache-line transfers.
func BenchmarkUncontended(b *testing.B) {
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			q := newBench(b, k)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				q.TryPush(i)
				q.TryPop()
			}
		})
	}
	b.Run("chan", func(b *testing.B) {
		ch := make(chan int, benchCap)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			ch <- i
			<-ch
		}
	})
	b.Run("Lossy", func(b *testing.B) {
		l, _ := NewLossy[int](Config{Capacity: benchCap}, nil)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l.Push(i)
			l.TryPop()
		}
	})
}
