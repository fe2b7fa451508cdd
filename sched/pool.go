package sched

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/edgekit/edgekit/numa"
	"github.com/edgekit/edgekit/ringbuf"
)

// Task is a unit of work for a Pool. Submitting a pointer to a struct that
// the caller reuses, or a TaskFunc made from a function that captures
// nothing, allocates nothing.
type Task interface{ Run() }

// TaskFunc adapts a function to Task. A func value fits in an interface
// without boxing, so TaskFunc(f) allocates nothing; a closure that captures
// variables allocates when it is created, not when it is submitted.
type TaskFunc func()

// Run calls f.
func (f TaskFunc) Run() { f() }

// Class is a task's priority class. Workers always take RealTime tasks
// before Normal ones, so a steady RealTime load starves Normal tasks: keep
// the RealTime class for short, rare work such as commands.
type Class uint8

const (
	Normal Class = iota
	RealTime
	numClasses
)

func (c Class) String() string {
	switch c {
	case Normal:
		return "normal"
	case RealTime:
		return "real-time"
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Errors returned by Pool.
var (
	// ErrFull is returned by TrySubmit when the class's queue is full.
	ErrFull = errors.New("sched: queue full")
	// ErrClosed is returned by submissions after Close has begun.
	ErrClosed = errors.New("sched: pool closed")
	// ErrBadClass is returned for a Class other than Normal or RealTime.
	ErrBadClass = errors.New("sched: unknown task class")
	// ErrConfig is wrapped by NewPool for an invalid Config.
	ErrConfig = errors.New("sched: invalid pool config")
)

// Limits for PoolConfig.
const (
	DefaultQueueSize = 1024
	MaxWorkers       = 1 << 12
	MaxQueueSize     = 1 << 24
	defaultPoolSpin  = 32
)

// PoolConfig configures a Pool. The zero value gives GOMAXPROCS workers,
// queues of DefaultQueueSize per class, no pinning, and panics logged to
// slog.Default.
type PoolConfig struct {
	// Workers is the fixed number of worker goroutines; 0 means
	// runtime.GOMAXPROCS(0). At most MaxWorkers.
	Workers int
	// QueueSize bounds the Normal queue (rounded up to a power of two);
	// 0 means DefaultQueueSize. At most MaxQueueSize.
	QueueSize int
	// RealTimeQueueSize bounds the RealTime queue likewise; 0 means
	// QueueSize.
	RealTimeQueueSize int
	// PinCPUs, if set, pins worker i's OS thread to CPU PinCPUs[i %
	// len(PinCPUs)] through numa.PinCPU. NewPool fails if pinning fails
	// (off Linux: an error wrapping errors.ErrUnsupported).
	PinCPUs []int
	// OnPanic is called, on the worker, with the task and the recovered
	// value when a task panics; the worker then goes on with the next task.
	// nil logs the panic and its stack to Logger.
	OnPanic func(t Task, v any)
	// Logger receives panic reports when OnPanic is nil; nil means
	// slog.Default().
	Logger *slog.Logger
	// Spin is how many times an idle worker polls the queues, yielding the
	// processor between polls, before it parks; 0 means 32, negative means
	// park at once. Spinning trades idle CPU for lower hand-off latency.
	Spin int
}

// PoolStats is a snapshot of a Pool's counters.
type PoolStats struct {
	Workers   int
	Queued    [numClasses]int // tasks waiting, by class
	Completed uint64          // tasks that returned (panicking ones included)
	Panics    uint64          // tasks that panicked
	Rejected  uint64          // TrySubmit calls that found the queue full
	Dropped   uint64          // queued tasks discarded by a Shutdown that timed out
}

// Pool runs tasks on a fixed set of worker goroutines fed by bounded
// queues, one per priority class. It starts Workers goroutines in NewPool;
// Close stops them after draining the queues. All methods are safe for
// concurrent use. Submitting a reused task allocates nothing.
type Pool struct {
	queues [numClasses]*ringbuf.MPMC[Task]

	// state counts submitters inside a submission, with closedBit set once
	// Close has begun; Close waits for the count to drain so that no task
	// lands in a queue after the workers' final drain.
	state    atomic.Int64
	idle     atomic.Int32
	wake     chan struct{}
	done     chan struct{} // closed when every submission has finished
	rejected atomic.Uint64
	dropped  atomic.Uint64
	abandon  atomic.Bool // Shutdown ran out of time: discard what is queued

	workers   []worker
	wg        sync.WaitGroup
	spin      int
	onPanic   func(Task, any)
	log       *slog.Logger
	closeOnce sync.Once
}

const closedBit = 1 << 62

type worker struct {
	completed atomic.Uint64 // written only by its worker
	panics    atomic.Uint64
	_         [48]byte // keep neighbours' counters off this cache line
}

// NewPool validates cfg, starts the workers (pinned if cfg.PinCPUs is set)
// and returns the pool.
func NewPool(cfg PoolConfig) (*Pool, error) {
	n := cfg.Workers
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	if n < 0 || n > MaxWorkers {
		return nil, fmt.Errorf("%w: Workers %d; want 1..%d", ErrConfig, cfg.Workers, MaxWorkers)
	}
	qs := cfg.QueueSize
	if qs == 0 {
		qs = DefaultQueueSize
	}
	rqs := cfg.RealTimeQueueSize
	if rqs == 0 {
		rqs = qs
	}
	if qs < 0 || qs > MaxQueueSize || rqs < 0 || rqs > MaxQueueSize {
		return nil, fmt.Errorf("%w: queue sizes %d/%d; want 1..%d", ErrConfig, cfg.QueueSize, cfg.RealTimeQueueSize, MaxQueueSize)
	}
	for _, c := range cfg.PinCPUs {
		if c < 0 {
			return nil, fmt.Errorf("%w: PinCPUs %v has a negative CPU", ErrConfig, cfg.PinCPUs)
		}
	}
	p := &Pool{
		wake:    make(chan struct{}, n),
		done:    make(chan struct{}),
		workers: make([]worker, n),
		spin:    cfg.Spin,
		onPanic: cfg.OnPanic,
		log:     cfg.Logger,
	}
	if p.spin == 0 {
		p.spin = defaultPoolSpin
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	var err error
	if p.queues[Normal], err = ringbuf.NewMPMC[Task](ringbuf.Config{Capacity: qs}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if p.queues[RealTime], err = ringbuf.NewMPMC[Task](ringbuf.Config{Capacity: rqs}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	started := make(chan error, n)
	for i := range p.workers {
		cpu := -1
		if len(cfg.PinCPUs) > 0 {
			cpu = cfg.PinCPUs[i%len(cfg.PinCPUs)]
		}
		p.wg.Add(1)
		go p.work(&p.workers[i], cpu, started)
	}
	var errs []error
	for range p.workers {
		if err := <-started; err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		p.Close()
		return nil, fmt.Errorf("sched: pin workers: %w", errors.Join(errs...))
	}
	return p, nil
}

// TrySubmit queues t in the Normal class, or returns ErrFull at once if the
// queue is full, or ErrClosed.
func (p *Pool) TrySubmit(t Task) error { return p.TrySubmitClass(Normal, t) }

// Submit queues t in the Normal class, waiting for room until ctx is done.
func (p *Pool) Submit(ctx context.Context, t Task) error { return p.SubmitClass(ctx, Normal, t) }

// TrySubmitClass queues t in class c, or fails at once with ErrFull.
func (p *Pool) TrySubmitClass(c Class, t Task) error {
	if c >= numClasses {
		return ErrBadClass
	}
	if p.state.Add(1)&closedBit != 0 {
		p.state.Add(-1)
		return ErrClosed
	}
	q := p.queues[c]
	ok := q.TryPush(t)
	p.state.Add(-1)
	if !ok {
		if q.Closed() {
			return ErrClosed
		}
		p.rejected.Add(1)
		return ErrFull
	}
	p.wakeOne()
	return nil
}

// SubmitClass queues t in class c, waiting for room until ctx is done
// (returning ctx.Err()) or the pool closes (ErrClosed).
func (p *Pool) SubmitClass(ctx context.Context, c Class, t Task) error {
	if c >= numClasses {
		return ErrBadClass
	}
	if p.state.Add(1)&closedBit != 0 {
		p.state.Add(-1)
		return ErrClosed
	}
	q := p.queues[c]
	var err error
	if !q.TryPush(t) {
		// Make sure someone is draining while we wait.
		p.wakeOne()
		err = q.Push(ctx, t)
	}
	p.state.Add(-1)
	if err != nil {
		if errors.Is(err, ringbuf.ErrClosed) {
			return ErrClosed
		}
		return err
	}
	p.wakeOne()
	return nil
}

// wakeOne unparks a worker if any is parked. A worker announces itself idle
// before its last look at the queues, and we look after our push, so one of
// the two always sees the other.
func (p *Pool) wakeOne() {
	if p.idle.Load() > 0 {
		select {
		case p.wake <- struct{}{}:
		default: // enough wake-ups are pending already
		}
	}
}

func (p *Pool) pop() (Task, bool) {
	if t, ok := p.queues[RealTime].TryPop(); ok {
		return t, true
	}
	return p.queues[Normal].TryPop()
}

func (p *Pool) queued() bool {
	return p.queues[RealTime].Len() > 0 || p.queues[Normal].Len() > 0
}

func (p *Pool) work(w *worker, cpu int, started chan<- error) {
	defer p.wg.Done()
	if cpu >= 0 {
		// Never restored: the pinned thread ends with this goroutine.
		if _, err := numa.PinCPU(cpu); err != nil {
			started <- err
			return
		}
	}
	started <- nil
	for {
		if t, ok := p.pop(); ok {
			p.runOrDrop(w, t)
			continue
		}
		if p.spinFor() {
			continue
		}
		p.idle.Add(1)
		if p.queued() {
			p.idle.Add(-1)
			continue
		}
		select {
		case <-p.wake:
			p.idle.Add(-1)
		case <-p.done:
			p.idle.Add(-1)
			// Every submission has finished: what is queued now is all
			// there will ever be.
			for {
				t, ok := p.pop()
				if !ok {
					return
				}
				p.runOrDrop(w, t)
			}
		}
	}
}

// spinFor polls the queues for a while, yielding between polls, and
// reports whether work showed up.
func (p *Pool) spinFor() bool {
	for i := 0; i < p.spin; i++ {
		runtime.Gosched()
		if p.queued() {
			return true
		}
	}
	return false
}

func (p *Pool) runOrDrop(w *worker, t Task) {
	if p.abandon.Load() {
		p.dropped.Add(1)
		return
	}
	p.run(w, t)
}

func (p *Pool) run(w *worker, t Task) {
	defer func() {
		w.completed.Store(w.completed.Load() + 1)
		if v := recover(); v != nil {
			w.panics.Store(w.panics.Load() + 1)
			p.panicked(t, v)
		}
	}()
	t.Run()
}

func (p *Pool) panicked(t Task, v any) {
	if p.onPanic != nil {
		// A panicking handler must not take the worker down either.
		defer func() {
			if v2 := recover(); v2 != nil {
				p.log.Error("sched: OnPanic handler panicked", "value", fmt.Sprint(v2))
			}
		}()
		p.onPanic(t, v)
		return
	}
	p.log.Error("sched: task panicked", "value", fmt.Sprint(v), "stack", string(debug.Stack()))
}

// Close stops accepting tasks, lets the workers run everything already
// queued, and waits for them to exit. Submissions blocked in Submit return
// ErrClosed. Close is idempotent and always returns nil. It must not be
// called from a task, which would wait for itself.
func (p *Pool) Close() error {
	p.beginClose()
	p.wg.Wait()
	return nil
}

// Shutdown is Close with a bound: if ctx ends before the queues are
// drained, the workers discard the tasks still queued (counted in
// PoolStats.Dropped), and Shutdown returns ctx.Err() once the tasks already
// running have returned. Like Close, it must not be called from a task.
func (p *Pool) Shutdown(ctx context.Context) error {
	p.beginClose()
	drained := make(chan struct{})
	go func() { p.wg.Wait(); close(drained) }()
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
		p.abandon.Store(true)
		<-drained
		return ctx.Err()
	}
}

func (p *Pool) beginClose() {
	p.closeOnce.Do(func() {
		for {
			s := p.state.Load()
			if p.state.CompareAndSwap(s, s|closedBit) {
				break
			}
		}
		// Wake blocked Submit calls; pushes already under way still land.
		for _, q := range p.queues {
			q.Close()
		}
		for p.state.Load() != closedBit {
			runtime.Gosched()
		}
		close(p.done)
	})
}

// Stats returns a snapshot of the pool's counters.
func (p *Pool) Stats() PoolStats {
	s := PoolStats{Workers: len(p.workers), Rejected: p.rejected.Load(), Dropped: p.dropped.Load()}
	for c, q := range p.queues {
		s.Queued[c] = q.Len()
	}
	for i := range p.workers {
		s.Completed += p.workers[i].completed.Load()
		s.Panics += p.workers[i].panics.Load()
	}
	return s
}
