package ringbuf

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"
)

// queue is the method set SPSC, MPSC and MPMC share, so one suite tests all.
type queue interface {
	TryPush(int) bool
	TryPushBatch([]int) int
	TryPop() (int, bool)
	TryPopBatch([]int) int
	Push(context.Context, int) error
	PushBatch(context.Context, []int) (int, error)
	Pop(context.Context) (int, error)
	PopBatch(context.Context, []int) (int, error)
	Len() int
	Cap() int
	Close()
	Closed() bool
}

var (
	_ queue = (*SPSC[int])(nil)
	_ queue = (*MPSC[int])(nil)
	_ queue = (*MPMC[int])(nil)
)

type kind struct {
	name          string
	multiProducer bool
	multiConsumer bool
	make          func(cfg Config, start uintptr) (queue, error)
}

var kinds = []kind{
	{"SPSC", false, false, func(cfg Config, start uintptr) (queue, error) {
		r, err := newSPSC[int](cfg, start)
		if err != nil {
			return nil, err
		}
		return r, nil
	}},
	{"MPSC", true, false, func(cfg Config, start uintptr) (queue, error) {
		r := new(MPSC[int])
		return r, r.init(cfg, start, true)
	}},
	{"MPMC", true, true, func(cfg Config, start uintptr) (queue, error) {
		r := new(MPMC[int])
		return r, r.init(cfg, start, false)
	}},
}

// starts are initial index values that make the tests cross wrap-around:
// the 32-bit boundary (a real wrap on 32-bit targets, a carry into the high
// word on 64-bit ones) and the top of uintptr (a wrap everywhere).
var starts = []struct {
	name  string
	start uintptr
}{
	{"zero", 0},
	{"near2^32", uintptr(1<<32 - 37)},
	{"nearMax", ^uintptr(0) - 37},
}

func mustMake(t testing.TB, k kind, cfg Config, start uintptr) queue {
	t.Helper()
	q, err := k.make(cfg, start)
	if err != nil {
		t.Fatalf("%s: %v", k.name, err)
	}
	return q
}

func TestConfigCapacity(t *testing.T) {
	for _, tc := range []struct {
		in, want int
		err      error
	}{
		{0, DefaultCapacity, nil},
		{1, 2, nil},
		{2, 2, nil},
		{3, 4, nil},
		{1000, 1024, nil},
		{1024, 1024, nil},
		{1025, 2048, nil},
		{MaxCapacity, MaxCapacity, nil},
		{MaxCapacity + 1, 0, ErrCapacity},
		{-1, 0, ErrCapacity},
	} {
		got, err := Config{Capacity: tc.in}.slots()
		if !errors.Is(err, tc.err) || (err == nil && int(got) != tc.want) {
			t.Errorf("Capacity %d: got %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	for _, k := range kinds {
		if _, err := k.make(Config{Capacity: -5}, 0); !errors.Is(err, ErrCapacity) {
			t.Errorf("%s: Capacity -5: err = %v; want ErrCapacity", k.name, err)
		}
	}
	if _, err := NewSPSC[int](Config{Capacity: -1}); err == nil {
		t.Error("NewSPSC(-1) succeeded")
	}
	if r, err := NewMPMC[int](Config{Capacity: -1}); err == nil || r != nil {
		t.Errorf("NewMPMC(-1) = %v, %v; want nil, error", r, err)
	}
	if r, err := NewMPSC[int](Config{Capacity: -1}); err == nil || r != nil {
		t.Errorf("NewMPSC(-1) = %v, %v; want nil, error", r, err)
	}
	if r, err := NewLossy[int](Config{Capacity: -1}, nil); err == nil || r != nil {
		t.Errorf("NewLossy(-1) = %v, %v; want nil, error", r, err)
	}
}

func TestWaitConfig(t *testing.T) {
	if w := (Config{}).waitConfig(); w.spin != defaultSpin || w.yield != defaultYield || w.poll != defaultPoll {
		t.Errorf("zero Config wait = %+v", w)
	}
	if w := (Config{Spin: -1, Yield: -1, PollInterval: -1}).waitConfig(); w.spin != 0 || w.yield != 0 || w.poll != 0 {
		t.Errorf("negative wait = %+v; want none", w)
	}
	if w := (Config{Spin: 3, Yield: 5, PollInterval: 7}).waitConfig(); w.spin != 3 || w.yield != 5 || w.poll != 7 {
		t.Errorf("wait = %+v; want 3, 5, 7ns", w)
	}
}

// TestFIFO fills and drains each ring, one item and in batches, across
// wrap-around, checking order, Len, full and empty.
func TestFIFO(t *testing.T) {
	for _, k := range kinds {
		for _, s := range starts {
			t.Run(k.name+"/"+s.name, func(t *testing.T) {
				q := mustMake(t, k, Config{Capacity: 8}, s.start)
				if q.Cap() != 8 || q.Len() != 0 {
					t.Fatalf("Cap, Len = %d, %d; want 8, 0", q.Cap(), q.Len())
				}
				next, want := 0, 0
				for round := 0; round < 40; round++ {
					// Fill with a mix of single and batch pushes.
					for q.Len() < q.Cap() {
						if round%2 == 0 {
							if !q.TryPush(next) {
								t.Fatalf("round %d: TryPush failed with Len %d", round, q.Len())
							}
							next++
							continue
						}
						batch := []int{next, next + 1, next + 2}
						n := q.TryPushBatch(batch)
						if n == 0 || n > q.Cap() {
							t.Fatalf("round %d: TryPushBatch = %d", round, n)
						}
						next += n
					}
					if q.TryPush(-1) || q.TryPushBatch([]int{-1}) != 0 {
						t.Fatalf("round %d: push into a full ring succeeded", round)
					}
					// Drain part (varying) with single and batch pops.
					drain := 1 + round%q.Cap()
					for drain > 0 {
						if round%3 == 0 {
							v, ok := q.TryPop()
							if !ok || v != want {
								t.Fatalf("round %d: TryPop = %d, %v; want %d", round, v, ok, want)
							}
							want++
							drain--
							continue
						}
						dst := make([]int, min(drain, 3))
						n := q.TryPopBatch(dst)
						if n != len(dst) {
							t.Fatalf("round %d: TryPopBatch = %d; want %d", round, n, len(dst))
						}
						for _, v := range dst[:n] {
							if v != want {
								t.Fatalf("round %d: popped %d; want %d", round, v, want)
							}
							want++
						}
						drain -= n
					}
				}
				for q.Len() > 0 {
					v, _ := q.TryPop()
					if v != want {
						t.Fatalf("final drain: %d; want %d", v, want)
					}
					want++
				}
				if _, ok := q.TryPop(); ok {
					t.Fatal("TryPop on an empty ring succeeded")
				}
				if q.TryPopBatch(make([]int, 4)) != 0 || q.TryPopBatch(nil) != 0 || q.TryPushBatch(nil) != 0 {
					t.Fatal("empty batch operations moved items")
				}
				if want != next {
					t.Fatalf("popped %d items; pushed %d", want, next)
				}
			})
		}
	}
}

// TestPoppedSlotsCleared checks that a ring does not keep popped items
// reachable, so the GC can collect what they point to.
func TestPoppedSlotsCleared(t *testing.T) {
	x := new(int)
	s, _ := NewSPSC[*int](Config{Capacity: 4})
	m, _ := NewMPMC[*int](Config{Capacity: 4})
	s.TryPush(x)
	s.TryPushBatch([]*int{x, x})
	m.TryPush(x)
	m.TryPushBatch([]*int{x, x})
	s.TryPop()
	s.TryPopBatch(make([]*int, 2))
	m.TryPop()
	m.TryPopBatch(make([]*int, 2))
	for i, p := range s.buf {
		if p != nil {
			t.Errorf("SPSC slot %d still holds a popped item", i)
		}
	}
	for i := range m.q.cells {
		if m.q.cells[i].val != nil {
			t.Errorf("MPMC slot %d still holds a popped item", i)
		}
	}
}

func TestRetainPopped(t *testing.T) {
	if !pointerFree[int]() || !pointerFree[float64]() || pointerFree[*int]() || pointerFree[[]byte]() || pointerFree[struct{ p *int }]() {
		t.Fatal("pointerFree misclassifies a type")
	}
	s, _ := NewSPSC[int](Config{Capacity: 4})
	s.TryPush(7)
	s.TryPop()
	if s.buf[0] != 7 {
		t.Errorf("SPSC[int] zeroed a popped slot; scalars need no clearing")
	}
	type reading struct{ id, value int }
	r, _ := NewSPSC[reading](Config{Capacity: 4, RetainPopped: true})
	r.TryPushBatch([]reading{{1, 2}, {3, 4}})
	r.TryPopBatch(make([]reading, 2))
	if r.buf[1] != (reading{3, 4}) {
		t.Errorf("RetainPopped: popped slot was zeroed")
	}
	z, _ := NewSPSC[reading](Config{Capacity: 4})
	z.TryPush(reading{1, 2})
	z.TryPop()
	if z.buf[0] != (reading{}) {
		t.Errorf("struct ring without RetainPopped kept a popped item")
	}
}

// TestExactlyOnce runs producers and consumers concurrently, mixing single
// and batch, blocking and non-blocking operations, and checks that every
// item arrives exactly once and that each consumer sees each producer's
// items in push order. Run it with -race.
func TestExactlyOnce(t *testing.T) {
	for _, k := range kinds {
		for _, s := range starts {
			t.Run(k.name+"/"+s.name, func(t *testing.T) {
				producers, consumers := 1, 1
				if k.multiProducer {
					producers = testProducers
				}
				if k.multiConsumer {
					consumers = testConsumers
				}
				checkExactlyOnce(t, mustMake(t, k, Config{Capacity: 64, Spin: 8, Yield: 4}, s.start), producers, consumers, testItems)
			})
		}
	}
}

// item encodes a producer id and a sequence number in an int that fits 32 bits.
func item(p, seq int) int       { return p<<24 | seq }
func unitem(v int) (p, seq int) { return v >> 24, v & (1<<24 - 1) }

func checkExactlyOnce(t *testing.T, q queue, producers, consumers, perProducer int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			batch := make([]int, 0, 7)
			for seq := 0; seq < perProducer; {
				switch seq % 5 {
				case 0, 1: // blocking single
					if err := q.Push(ctx, item(p, seq)); err != nil {
						t.Errorf("producer %d: Push: %v", p, err)
						return
					}
					seq++
				case 2: // non-blocking single, retried
					if q.TryPush(item(p, seq)) {
						seq++
					} else {
						runtime.Gosched() // TinyGo's scheduler is cooperative
					}
				case 3: // blocking batch
					batch = batch[:0]
					for i := 0; i < cap(batch) && seq+i < perProducer; i++ {
						batch = append(batch, item(p, seq+i))
					}
					n, err := q.PushBatch(ctx, batch)
					if err != nil || n != len(batch) {
						t.Errorf("producer %d: PushBatch = %d, %v", p, n, err)
						return
					}
					seq += n
				case 4: // non-blocking batch, partial allowed
					batch = batch[:0]
					for i := 0; i < 3 && seq+i < perProducer; i++ {
						batch = append(batch, item(p, seq+i))
					}
					n := q.TryPushBatch(batch)
					if n == 0 {
						runtime.Gosched()
					}
					seq += n
				}
			}
		}(p)
	}

	// Each consumer checks per-producer order as it goes and marks what it
	// got in a bitmap of its own (no shared lock that would order the
	// consumers and hide races from the race detector); the bitmaps are
	// merged at the end. This keeps the test small enough for a 64 KB MCU.
	total := producers * perProducer
	got := make([][]uint32, consumers)
	var cwg sync.WaitGroup
	for c := 0; c < consumers; c++ {
		got[c] = make([]uint32, (total+31)/32)
		cwg.Add(1)
		go func(c int) {
			defer cwg.Done()
			last := make([]int, producers)
			for p := range last {
				last[p] = -1
			}
			note := func(v int) bool {
				p, seq := unitem(v)
				if p >= producers || seq >= perProducer {
					t.Errorf("consumer %d: foreign item %#x", c, v)
					return false
				}
				if seq <= last[p] {
					t.Errorf("consumer %d: producer %d item %d after %d", c, p, seq, last[p])
					return false
				}
				last[p] = seq
				bit := p*perProducer + seq
				got[c][bit/32] |= 1 << (bit % 32)
				return true
			}
			dst := make([]int, 5)
			for i := 0; ; i++ {
				if i%2 == 0 {
					v, err := q.Pop(ctx)
					if errors.Is(err, ErrClosed) {
						return
					}
					if err != nil {
						t.Errorf("consumer %d: Pop: %v", c, err)
						return
					}
					if !note(v) {
						return
					}
					continue
				}
				n, err := q.PopBatch(ctx, dst)
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("consumer %d: PopBatch: %v", c, err)
					return
				}
				for _, v := range dst[:n] {
					if !note(v) {
						return
					}
				}
			}
		}(c)
	}
	wg.Wait() // the test goroutine closes: one goroutine (4 KB on an MCU) fewer
	q.Close()
	cwg.Wait()
	if t.Failed() {
		return
	}
	for bit := 0; bit < total; bit++ {
		n := 0
		for c := range got {
			if got[c][bit/32]&(1<<(bit%32)) != 0 {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("producer %d item %d delivered to %d consumers; want exactly 1", bit/perProducer, bit%perProducer, n)
		}
	}
	if q.Len() != 0 {
		t.Fatalf("Len = %d after drain", q.Len())
	}
}

// TestBlocking checks that blocking calls wait for the other side, honour
// their context and are woken by Close.
func TestBlocking(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			q := mustMake(t, k, Config{Capacity: 2, Spin: 2, Yield: 2}, 0)

			// Pop waits for a push.
			got := make(chan int, 1)
			go func() {
				v, err := q.Pop(context.Background())
				if err != nil {
					t.Errorf("Pop: %v", err)
				}
				got <- v
			}()
			waitParked(t, func() bool { return k.sleepers(q, true) > 0 })
			if !q.TryPush(42) {
				t.Fatal("TryPush failed")
			}
			if v := recvWithin(t, got); v != 42 {
				t.Fatalf("Pop = %d; want 42", v)
			}

			// PopBatch waits too.
			go func() {
				dst := make([]int, 4)
				n, err := q.PopBatch(context.Background(), dst)
				if err != nil || n != 1 {
					t.Errorf("PopBatch = %d, %v", n, err)
				}
				got <- dst[0]
			}()
			waitParked(t, func() bool { return k.sleepers(q, true) > 0 })
			q.TryPush(7)
			if v := recvWithin(t, got); v != 7 {
				t.Fatalf("PopBatch got %d; want 7", v)
			}

			// Push waits for room.
			q.TryPush(1)
			q.TryPush(2)
			errc := make(chan error, 1)
			go func() { errc <- q.Push(context.Background(), 3) }()
			waitParked(t, func() bool { return k.sleepers(q, false) > 0 })
			if v, _ := q.TryPop(); v != 1 {
				t.Fatalf("TryPop = %d; want 1", v)
			}
			if err := recvWithin(t, errc); err != nil {
				t.Fatalf("Push: %v", err)
			}

			// PushBatch waits for room for the whole batch.
			go func() {
				n, err := q.PushBatch(context.Background(), []int{4, 5})
				if n != 2 {
					t.Errorf("PushBatch = %d", n)
				}
				errc <- err
			}()
			waitParked(t, func() bool { return k.sleepers(q, false) > 0 })
			for want := 2; want <= 5; want++ {
				v, err := q.Pop(context.Background())
				if err != nil || v != want {
					t.Fatalf("Pop = %d, %v; want %d", v, err, want)
				}
			}
			if err := recvWithin(t, errc); err != nil {
				t.Fatalf("PushBatch: %v", err)
			}

			// A context ends a wait.
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				_, err := q.Pop(ctx)
				errc <- err
			}()
			waitParked(t, func() bool { return k.sleepers(q, true) > 0 })
			cancel()
			if err := recvWithin(t, errc); !errors.Is(err, context.Canceled) {
				t.Fatalf("Pop after cancel: %v; want context.Canceled", err)
			}
			if k.sleepers(q, true) != 0 {
				t.Fatal("cancelled waiter still registered")
			}
			q.TryPush(8)
			q.TryPush(9)
			ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
			if err := q.Push(ctx, 10); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Push on full ring: %v; want DeadlineExceeded", err)
			}
			if n, err := q.PushBatch(ctx, []int{10}); n != 0 || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("PushBatch on full ring: %d, %v; want DeadlineExceeded", n, err)
			}
			cancel()

			// Close wakes a blocked producer with ErrClosed; consumers drain.
			go func() { errc <- q.Push(context.Background(), 11) }()
			waitParked(t, func() bool { return k.sleepers(q, false) > 0 })
			q.Close()
			q.Close() // idempotent
			if err := recvWithin(t, errc); !errors.Is(err, ErrClosed) {
				t.Fatalf("blocked Push after Close: %v; want ErrClosed", err)
			}
			if !q.Closed() || q.TryPush(12) || q.TryPushBatch([]int{12}) != 0 {
				t.Fatal("push into a closed ring succeeded")
			}
			if err := q.Push(context.Background(), 12); !errors.Is(err, ErrClosed) {
				t.Fatalf("Push after Close: %v", err)
			}
			if n, err := q.PushBatch(context.Background(), []int{12}); n != 0 || !errors.Is(err, ErrClosed) {
				t.Fatalf("PushBatch after Close: %d, %v", n, err)
			}
			if v, err := q.Pop(context.Background()); v != 8 || err != nil {
				t.Fatalf("drain Pop = %d, %v; want 8", v, err)
			}
			dst := make([]int, 4)
			if n, err := q.PopBatch(context.Background(), dst); n != 1 || dst[0] != 9 || err != nil {
				t.Fatalf("drain PopBatch = %d %v, %v; want [9]", n, dst[:n], err)
			}
			if _, err := q.Pop(context.Background()); !errors.Is(err, ErrClosed) {
				t.Fatalf("Pop on closed, drained ring: %v; want ErrClosed", err)
			}
			if _, err := q.PopBatch(context.Background(), dst); !errors.Is(err, ErrClosed) {
				t.Fatalf("PopBatch on closed, drained ring: %v; want ErrClosed", err)
			}
			if n, err := q.PopBatch(context.Background(), nil); n != 0 || err != nil {
				t.Fatalf("PopBatch(nil) = %d, %v", n, err)
			}
		})
	}
}

// TestCloseWakesConsumers parks several consumers and closes the ring.
func TestCloseWakesConsumers(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			q := mustMake(t, k, Config{Capacity: 4}, 0)
			consumers := 1
			if k.multiConsumer {
				consumers = 3
			}
			errc := make(chan error, consumers)
			for i := 0; i < consumers; i++ {
				go func() {
					_, err := q.Pop(context.Background())
					errc <- err
				}()
			}
			waitParked(t, func() bool { return k.sleepers(q, true) == int32(consumers) })
			q.Close()
			for i := 0; i < consumers; i++ {
				if err := recvWithin(t, errc); !errors.Is(err, ErrClosed) {
					t.Fatalf("consumer %d: %v; want ErrClosed", i, err)
				}
			}
		})
	}
}

// TestBatchWakesAllConsumers parks several consumers and feeds them with a
// single batch push: the wake-up must be passed on until all are served.
func TestBatchWakesAllConsumers(t *testing.T) {
	q, _ := NewMPMC[int](Config{Capacity: 8, Spin: -1, Yield: -1})
	const consumers = testConsumers + 1 // at least 3: the wake-up is passed on twice
	got := make(chan int, consumers)
	for i := 0; i < consumers; i++ {
		go func() {
			v, err := q.Pop(context.Background())
			if err != nil {
				t.Error(err)
			}
			got <- v
		}()
	}
	waitParked(t, func() bool { return q.notEmpty.sleepers.Load() == consumers })
	items := []int{1, 2, 3, 4}[:consumers]
	if n := q.TryPushBatch(items); n != consumers {
		t.Fatalf("TryPushBatch = %d", n)
	}
	sum, want := 0, 0
	for i := 0; i < consumers; i++ {
		sum += recvWithin(t, got)
		want += items[i]
	}
	if sum != want {
		t.Fatalf("consumers got items summing to %d; want %d", sum, want)
	}
}

// sleepers reports how many callers are parked on one side of q.
func (k kind) sleepers(q queue, consumers bool) int32 {
	var w *waitQueue
	switch r := q.(type) {
	case *SPSC[int]:
		w = &r.notFull
		if consumers {
			w = &r.notEmpty
		}
	case *MPSC[int]:
		w = &r.notFull
		if consumers {
			w = &r.notEmpty
		}
	case *MPMC[int]:
		w = &r.notFull
		if consumers {
			w = &r.notEmpty
		}
	}
	return w.sleepers.Load()
}

// waitParked waits, boundedly, until cond holds.
func waitParked(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for a caller to park")
		}
		time.Sleep(time.Millisecond)
	}
}

func recvWithin[T any](t *testing.T, c <-chan T) T {
	t.Helper()
	timer := time.NewTimer(5 * time.Second)
	defer timer.Stop() // no timer left behind per call: the MCU has 64 KB
	select {
	case v := <-c:
		return v
	case <-timer.C:
		t.Fatal("timed out waiting for a blocked call to return")
		panic("unreachable")
	}
}
