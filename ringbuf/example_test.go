package ringbuf_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/edgekit/edgekit/ringbuf"
)

// A sensor goroutine hands readings to a publisher goroutine in batches.
func Example() {
	r, err := ringbuf.NewSPSC[float64](ringbuf.Config{Capacity: 256})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // producer
		defer wg.Done()
		readings := []float64{20.5, 20.7, 21.0, 21.2}
		if _, err := r.PushBatch(ctx, readings); err != nil {
			panic(err)
		}
		r.Close() // the producer closes, as with a channel
	}()

	sum, count := 0.0, 0
	batch := make([]float64, 16)
	for {
		n, err := r.PopBatch(ctx, batch)
		if err != nil { // ringbuf.ErrClosed once drained
			break
		}
		for _, v := range batch[:n] {
			sum += v
			count++
		}
	}
	wg.Wait()
	fmt.Printf("%d readings, mean %.2f\n", count, sum/float64(count))
	// Output: 4 readings, mean 20.85
}

// A Lossy ring keeps the latest readings and hands back the ones it evicts.
func ExampleLossy() {
	var evicted []int
	r, _ := ringbuf.NewLossy[int](ringbuf.Config{Capacity: 4}, func(v int) {
		evicted = append(evicted, v)
	})
	for i := 1; i <= 6; i++ {
		r.Push(i)
	}
	kept := make([]int, 4)
	n := r.TryPopBatch(kept)
	fmt.Println("kept", kept[:n], "evicted", evicted, "dropped", r.Dropped())
	// Output: kept [3 4 5 6] evicted [1 2] dropped 2
}

// A worker pool drains a shared MPMC queue until it is closed.
func ExampleMPMC() {
	q, _ := ringbuf.NewMPMC[int](ringbuf.Config{Capacity: 64})
	ctx := context.Background()
	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				v, err := q.Pop(ctx)
				if err != nil {
					return
				}
				mu.Lock()
				total += v
				mu.Unlock()
			}
		}()
	}
	for i := 1; i <= 100; i++ {
		if err := q.Push(ctx, i); err != nil {
			panic(err)
		}
	}
	q.Close()
	wg.Wait()
	fmt.Println(total)
	// Output: 5050
}
