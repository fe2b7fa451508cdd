package sched

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/sys"
	"github.com/edgekit/edgekit/internal/testutil"
	"github.com/edgekit/edgekit/numa"
)

type countTask struct {
	n  atomic.Int64
	wg *sync.WaitGroup
}

func (c *countTask) Run() {
	c.n.Add(1)
	if c.wg != nil {
		c.wg.Done()
	}
}

// gate is a task that blocks its worker until released.
type gate struct {
	entered chan struct{}
	release chan struct{}
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 64), release: make(chan struct{})} }

func (g *gate) Run() { g.entered <- struct{}{}; <-g.release }

func newPool(t *testing.T, cfg PoolConfig) *Pool {
	t.Helper()
	p, err := NewPool(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestPoolRunsEverything(t *testing.T) {
	p := newPool(t, PoolConfig{Workers: 3, QueueSize: 16})
	var wg sync.WaitGroup
	task := &countTask{wg: &wg}
	const n = 10000
	wg.Add(n)
	for i := 0; i < n; i++ {
		if err := p.Submit(context.Background(), task); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if got := task.n.Load(); got != n {
		t.Fatalf("ran %d; want %d", got, n)
	}
	p.Close() // Completed is counted after Run returns
	if s := p.Stats(); s.Completed != n || s.Workers != 3 {
		t.Errorf("stats %+v", s)
	}
}

func TestPoolTrySubmitFull(t *testing.T) {
	p := newPool(t, PoolConfig{Workers: 1, QueueSize: 4, Spin: -1})
	g := newGate()
	if err := p.TrySubmit(g); err != nil {
		t.Fatal(err)
	}
	<-g.entered // the only worker is busy
	task := &countTask{}
	for i := 0; i < 4; i++ {
		if err := p.TrySubmit(task); err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	if err := p.TrySubmit(task); !errors.Is(err, ErrFull) {
		t.Fatalf("TrySubmit on a full queue: %v; want ErrFull", err)
	}
	// The real-time queue is separate and still has room.
	if err := p.TrySubmitClass(RealTime, task); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := p.Submit(ctx, task); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Submit on a full queue: %v; want DeadlineExceeded", err)
	}
	// A waiting Submit goes through once the worker makes room.
	done := make(chan error, 1)
	go func() { done <- p.Submit(context.Background(), task) }()
	close(g.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	p.Close()
	if got := task.n.Load(); got != 6 {
		t.Errorf("ran %d; want 6", got)
	}
	if s := p.Stats(); s.Rejected != 1 {
		t.Errorf("Rejected = %d; want 1", s.Rejected)
	}
	if err := p.TrySubmitClass(Class(7), task); !errors.Is(err, ErrBadClass) {
		t.Errorf("bad class: %v", err)
	}
}

type orderTask struct {
	id  int
	mu  *sync.Mutex
	out *[]int
}

func (o *orderTask) Run() { o.mu.Lock(); *o.out = append(*o.out, o.id); o.mu.Unlock() }

// TestPoolPriority queues normal tasks, then real-time ones, behind a busy
// worker: the real-time tasks must all run first.
func TestPoolPriority(t *testing.T) {
	p := newPool(t, PoolConfig{Workers: 1, Spin: -1})
	g := newGate()
	p.TrySubmit(g)
	<-g.entered
	var (
		mu    sync.Mutex
		order []int
	)
	for i := 0; i < 5; i++ {
		if err := p.TrySubmit(&orderTask{id: i, mu: &mu, out: &order}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 100; i < 103; i++ {
		if err := p.SubmitClass(context.Background(), RealTime, &orderTask{id: i, mu: &mu, out: &order}); err != nil {
			t.Fatal(err)
		}
	}
	close(g.release)
	p.Close()
	want := []int{100, 101, 102, 0, 1, 2, 3, 4}
	if len(order) != len(want) {
		t.Fatalf("order %v; want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v; want %v", order, want)
		}
	}
}

func TestPoolPanicIsolation(t *testing.T) {
	var (
		mu     sync.Mutex
		caught []any
	)
	p := newPool(t, PoolConfig{Workers: 2, OnPanic: func(task Task, v any) {
		mu.Lock()
		caught = append(caught, v)
		mu.Unlock()
	}})
	boom := TaskFunc(func() { panic("boom") })
	var wg sync.WaitGroup
	ok := &countTask{wg: &wg}
	wg.Add(10)
	for i := 0; i < 10; i++ {
		p.Submit(context.Background(), boom)
		p.Submit(context.Background(), ok)
	}
	wg.Wait()
	p.Close()
	if len(caught) != 10 || caught[0] != "boom" {
		t.Fatalf("caught %v", caught)
	}
	if s := p.Stats(); s.Panics != 10 || s.Completed != 20 {
		t.Errorf("stats %+v", s)
	}
	// A panicking handler does not kill the worker either.
	p2 := newPool(t, PoolConfig{Workers: 1, OnPanic: func(Task, any) { panic("handler") },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	p2.Submit(context.Background(), boom)
	var wg2 sync.WaitGroup
	wg2.Add(1)
	p2.Submit(context.Background(), &countTask{wg: &wg2})
	wg2.Wait()
}

// TestPoolCloseDrains checks that Close runs every accepted task, even with
// submitters racing it, and that nothing is accepted afterwards.
func TestPoolCloseDrains(t *testing.T) {
	for round := 0; round < 20; round++ {
		p, err := NewPool(PoolConfig{Workers: 2, QueueSize: 64})
		if err != nil {
			t.Fatal(err)
		}
		task := &countTask{}
		var accepted atomic.Int64
		var wg sync.WaitGroup
		for s := 0; s < 4; s++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 500; i++ {
					var err error
					if i%2 == 0 {
						err = p.TrySubmit(task)
					} else {
						err = p.Submit(context.Background(), task)
					}
					switch {
					case err == nil:
						accepted.Add(1)
					case errors.Is(err, ErrClosed):
						return
					case errors.Is(err, ErrFull):
					default:
						t.Error(err)
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(round%4) * 100 * time.Microsecond)
		p.Close()
		wg.Wait()
		if got, want := task.n.Load(), accepted.Load(); got != want {
			t.Fatalf("round %d: ran %d of %d accepted tasks", round, got, want)
		}
		if err := p.TrySubmit(task); !errors.Is(err, ErrClosed) {
			t.Fatalf("TrySubmit after Close: %v", err)
		}
		if err := p.Submit(context.Background(), task); !errors.Is(err, ErrClosed) {
			t.Fatalf("Submit after Close: %v", err)
		}
	}
}

// TestPoolCloseWakesBlockedSubmit: a Submit waiting on a full queue returns
// ErrClosed when the pool closes.
func TestPoolCloseWakesBlockedSubmit(t *testing.T) {
	p, _ := NewPool(PoolConfig{Workers: 1, QueueSize: 2, Spin: -1})
	g := newGate()
	p.TrySubmit(g)
	<-g.entered
	task := &countTask{}
	p.TrySubmit(task)
	p.TrySubmit(task)
	errc := make(chan error, 1)
	go func() { errc <- p.Submit(context.Background(), task) }()
	time.Sleep(10 * time.Millisecond) // let it block (the result holds either way)
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	err := <-errc
	close(g.release)
	<-closed
	if err != nil && !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked Submit: %v", err)
	}
	want := int64(2)
	if err == nil {
		want = 3
	}
	if got := task.n.Load(); got != want {
		t.Errorf("ran %d; want %d", got, want)
	}
}

type cpuTask struct {
	want int
	bad  atomic.Int32
	wg   sync.WaitGroup
}

func (c *cpuTask) Run() {
	if got, err := numa.CurrentCPU(); err != nil || got != c.want {
		c.bad.Add(1)
	}
	c.wg.Done()
}

func TestPoolPinned(t *testing.T) {
	cpus, err := sys.AppendAffinity(nil)
	testutil.SkipIfUnsupported(t, err)
	if err != nil {
		t.Fatal(err)
	}
	cpu := cpus[len(cpus)-1]
	p, err := NewPool(PoolConfig{Workers: 2, PinCPUs: []int{cpu}})
	testutil.SkipIfUnsupported(t, err)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	task := &cpuTask{want: cpu}
	task.wg.Add(200)
	for i := 0; i < 200; i++ {
		p.Submit(context.Background(), task)
	}
	task.wg.Wait()
	if n := task.bad.Load(); n != 0 {
		t.Errorf("%d of 200 tasks ran off cpu %d", n, cpu)
	}
	if _, err := NewPool(PoolConfig{Workers: 1, PinCPUs: []int{1 << 20}}); err == nil {
		t.Error("pinning to cpu 1<<20 succeeded")
	}
}

func TestPoolConfigErrors(t *testing.T) {
	for _, cfg := range []PoolConfig{
		{Workers: -1}, {Workers: MaxWorkers + 1}, {PinCPUs: []int{0, -1}}, {QueueSize: -1}, {QueueSize: MaxQueueSize + 1}, {RealTimeQueueSize: -2},
	} {
		if _, err := NewPool(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("NewPool(%+v): %v; want ErrConfig", cfg, err)
		}
	}
}

var staticRuns atomic.Int64

// TestPoolNoAllocs proves that submitting a reused pointer task, or a
// TaskFunc of a function that captures nothing, allocates nothing, with
// TrySubmit and with Submit, in both classes.
func TestPoolNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	p := newPool(t, PoolConfig{Workers: 2, QueueSize: 1 << 16})
	ctx := context.Background()
	task := &countTask{}
	fn := TaskFunc(func() { staticRuns.Add(1) })
	for name, f := range map[string]func(){
		"TrySubmit/ptr":         func() { p.TrySubmit(task) },
		"Submit/ptr":            func() { p.Submit(ctx, task) },
		"TrySubmitClass/rt/ptr": func() { p.TrySubmitClass(RealTime, task) },
		"Submit/func":           func() { p.Submit(ctx, fn) },
		"Submit/func-literal":   func() { p.Submit(ctx, TaskFunc(func() { staticRuns.Add(1) })) },
	} {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocs/op; want 0", name, n)
		}
	}
}

// TestPoolPanicLogged checks the default panic report: logged with the
// value and the stack, worker still alive.
func TestPoolPanicLogged(t *testing.T) {
	var buf syncBuffer
	p := newPool(t, PoolConfig{Workers: 1, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	p.Submit(context.Background(), TaskFunc(func() { panic("kaput") }))
	var wg sync.WaitGroup
	wg.Add(1)
	p.Submit(context.Background(), &countTask{wg: &wg})
	wg.Wait()
	p.Close()
	out := buf.String()
	if !strings.Contains(out, "task panicked") || !strings.Contains(out, "kaput") || !strings.Contains(out, "goroutine") {
		t.Errorf("log = %q", out)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPoolShutdown: a Shutdown that runs out of time drops what is still
// queued and reports it; one with time drains everything.
func TestPoolShutdown(t *testing.T) {
	p, _ := NewPool(PoolConfig{Workers: 1, Spin: -1})
	g := newGate()
	p.TrySubmit(g)
	<-g.entered
	task := &countTask{}
	for i := 0; i < 10; i++ {
		p.TrySubmit(task)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Shutdown(ctx) }()
	cancel()
	time.Sleep(5 * time.Millisecond) // let Shutdown see the cancel (the result holds either way)
	close(g.release)
	err := <-errc
	s := p.Stats()
	if int64(s.Dropped)+task.n.Load() != 10 {
		t.Fatalf("dropped %d + ran %d != 10", s.Dropped, task.n.Load())
	}
	if err != nil && (!errors.Is(err, context.Canceled) || s.Dropped == 0) {
		t.Fatalf("Shutdown = %v with %d dropped", err, s.Dropped)
	}

	p2, _ := NewPool(PoolConfig{Workers: 2})
	task2 := &countTask{}
	for i := 0; i < 100; i++ {
		p2.Submit(context.Background(), task2)
	}
	if err := p2.Shutdown(context.Background()); err != nil || task2.n.Load() != 100 {
		t.Fatalf("Shutdown = %v, ran %d of 100", err, task2.n.Load())
	}
}
