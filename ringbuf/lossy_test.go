package ringbuf

import (
	"context"
	"errors"
	"sync"
	"testing"
)

func TestLossyEvictsOldest(t *testing.T) {
	var evicted []int
	l, err := NewLossy[int](Config{Capacity: 4}, func(v int) { evicted = append(evicted, v) })
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if d := l.Push(i); d != 0 {
			t.Fatalf("Push(%d) dropped %d with room left", i, d)
		}
	}
	for i := 4; i < 10; i++ {
		if d := l.Push(i); d != 1 {
			t.Fatalf("Push(%d) into a full ring dropped %d; want 1", i, d)
		}
	}
	if l.Dropped() != 6 || len(evicted) != 6 {
		t.Fatalf("Dropped = %d, evicted %v; want 6 oldest", l.Dropped(), evicted)
	}
	for i, v := range evicted {
		if v != i {
			t.Fatalf("evicted %v; want 0..5 in order", evicted)
		}
	}
	if l.Len() != 4 || l.Cap() != 4 {
		t.Fatalf("Len, Cap = %d, %d", l.Len(), l.Cap())
	}
	if v, ok := l.TryPop(); !ok || v != 6 {
		t.Fatalf("TryPop = %d, %v; want the oldest kept, 6", v, ok)
	}
	dst := make([]int, 8)
	if n := l.TryPopBatch(dst); n != 3 || dst[0] != 7 || dst[2] != 9 {
		t.Fatalf("TryPopBatch = %v", dst[:n])
	}

	l.Push(20)
	l.Close()
	if d := l.Push(21); d != 1 || evicted[len(evicted)-1] != 21 || !l.Closed() {
		t.Fatalf("Push after Close dropped %d, evicted %v", d, evicted)
	}
	if v, err := l.Pop(context.Background()); v != 20 || err != nil {
		t.Fatalf("drain Pop = %d, %v", v, err)
	}
	if _, err := l.Pop(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Pop on closed, drained ring: %v", err)
	}
	if _, err := l.PopBatch(context.Background(), dst); !errors.Is(err, ErrClosed) {
		t.Fatalf("PopBatch on closed, drained ring: %v", err)
	}
	if l.Dropped() != 7 {
		t.Fatalf("Dropped = %d; want 7", l.Dropped())
	}
}

func TestLossyNilEvicted(t *testing.T) {
	l, _ := NewLossy[int](Config{Capacity: 1}, nil)
	if l.Cap() != 2 {
		t.Fatalf("Cap = %d; want the minimum, 2", l.Cap())
	}
	l.Push(1)
	l.Push(2)
	if d := l.Push(3); d != 1 {
		t.Fatalf("dropped %d", d)
	}
	if v, _ := l.TryPop(); v != 2 {
		t.Fatalf("kept %d first; want 2", v)
	}
}

// TestLossyConcurrent checks that under concurrent producers and consumers
// every item is either delivered or handed to evicted, exactly once, and
// that Dropped agrees. Run it with -race.
func TestLossyConcurrent(t *testing.T) {
	const producers, consumers = testProducers, testConsumers
	var mu sync.Mutex
	count := make(map[int]int)
	note := func(v int) {
		mu.Lock()
		count[v]++
		mu.Unlock()
	}
	l, _ := NewLossy[int](Config{Capacity: 16, Spin: 4, Yield: 2}, note)
	var pw, cw sync.WaitGroup
	for p := 0; p < producers; p++ {
		pw.Add(1)
		go func(p int) {
			defer pw.Done()
			for seq := 0; seq < testItems/4; seq++ {
				l.Push(item(p, seq))
			}
		}(p)
	}
	for c := 0; c < consumers; c++ {
		cw.Add(1)
		go func() {
			defer cw.Done()
			dst := make([]int, 4)
			for {
				n, err := l.PopBatch(context.Background(), dst)
				if err != nil {
					return
				}
				for _, v := range dst[:n] {
					note(v)
				}
			}
		}()
	}
	pw.Wait()
	l.Close()
	cw.Wait()
	if len(count) != producers*testItems/4 {
		t.Fatalf("saw %d distinct items; want %d", len(count), producers*testItems/4)
	}
	for v, n := range count {
		if n != 1 {
			t.Fatalf("item %#x seen %d times", v, n)
		}
	}
	t.Logf("dropped %d of %d", l.Dropped(), producers*testItems/4)
}
