//go:build !tinygo

package ringbuf

import (
	"context"
	"runtime"
	"testing"
)

// TestNoAllocs proves that the hot paths allocate nothing: single and batch,
// non-blocking and blocking (on their fast path), for every ring.
func TestNoAllocs(t *testing.T) {
	ctx := context.Background()
	in := []int{1, 2, 3, 4, 5, 6, 7, 8}
	out := make([]int, 8)
	for _, k := range kinds {
		q := mustMake(t, k, Config{Capacity: 64}, 0)
		for name, f := range map[string]func(){
			"TryPush+TryPop": func() { q.TryPush(1); q.TryPop() },
			"TryBatch":       func() { q.TryPushBatch(in); q.TryPopBatch(out) },
			"Push+Pop":       func() { _ = q.Push(ctx, 1); _, _ = q.Pop(ctx) },
			"Batch":          func() { _, _ = q.PushBatch(ctx, in); _, _ = q.PopBatch(ctx, out) },
		} {
			if n := testing.AllocsPerRun(1000, f); n != 0 {
				t.Errorf("%s %s: %v allocs/op; want 0", k.name, name, n)
			}
		}
	}
	l, _ := NewLossy[int](Config{Capacity: 4}, nil)
	if n := testing.AllocsPerRun(1000, func() { l.Push(1); l.Push(2); l.TryPop() }); n != 0 {
		t.Errorf("Lossy Push with eviction: %v allocs/op; want 0", n)
	}
}

// TestNoAllocsParked proves a wait that parks allocates nothing either.
func TestNoAllocsParked(t *testing.T) {
	q, _ := NewSPSC[int](Config{Capacity: 4, Spin: -1, Yield: -1})
	ctx := context.Background()
	ready := make(chan struct{})
	done := make(chan struct{})
	go func() { // feeder: each time the consumer parks, push one item
		defer close(done)
		for range ready {
			for q.notEmpty.sleepers.Load() == 0 {
				runtime.Gosched() // AllocsPerRun runs with GOMAXPROCS=1
			}
			q.TryPush(1)
		}
	}()
	n := testing.AllocsPerRun(200, func() {
		ready <- struct{}{}
		if _, err := q.Pop(ctx); err != nil {
			t.Error(err)
		}
	})
	close(ready)
	<-done
	if n != 0 {
		t.Errorf("parked Pop: %v allocs/op; want 0", n)
	}
}
