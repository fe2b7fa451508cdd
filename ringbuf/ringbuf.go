package ringbuf

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"time"
)

// Errors returned by the rings.
var (
	// ErrClosed is returned by blocking operations once the ring is closed:
	// by producers at once, by consumers after they have drained it. The
	// Bytes ring's reader gets io.EOF instead, as io.Reader requires.
	ErrClosed = errors.New("ringbuf: closed")
	// ErrCapacity is returned by constructors for a capacity that is
	// negative or larger than MaxCapacity.
	ErrCapacity = errors.New("ringbuf: capacity out of range")
)

const (
	// DefaultCapacity is the capacity of a ring whose Config.Capacity is 0.
	DefaultCapacity = 1024
	// MaxCapacity is the largest capacity a ring accepts. It keeps the
	// distance between two indices representable as a signed int32, so
	// index arithmetic is exact on 32-bit targets.
	MaxCapacity = 1 << 30

	defaultYield = 16
)

// Config configures a ring. It is passed by value; the zero value is a ring
// of DefaultCapacity with the default wait strategy.
type Config struct {
	// Capacity is the number of slots (bytes for a Bytes ring). It is rounded
	// up to a power of two of at least 2; 0 means DefaultCapacity. Cap
	// reports the result.
	Capacity int

	// Spin is how many times a blocking call retries, PollInterval apart,
	// before it starts yielding; 0 means 16 (none under TinyGo, whose
	// scheduler runs one goroutine at a time, so spinning cannot see the
	// other side move) and a negative value means none.
	Spin int
	// PollInterval is how long a spinning call waits between two looks at
	// the other side of the ring, with the CPU's spin-wait hint (PAUSE on
	// amd64, YIELD on arm64) rather than a tight loop; 0 means 1.5 µs and a
	// negative value means no wait. Polling less often keeps the polled
	// index's cache line from bouncing between the cores on every item, and
	// lets items accumulate, so that a consumer that catches up pops a run
	// of them with one index read: measured here, single-item SPSC went
	// from 1.6x a channel's cost to 0.5x. The price is latency: a call
	// spinning on an empty (or full) ring notices the other side up to
	// PollInterval late. Ignored under TinyGo, which does not spin.
	PollInterval time.Duration
	// Yield is how many times a blocking call then retries after
	// runtime.Gosched before it parks; 0 means 16 and a negative value
	// means none. A parked call costs nothing while it waits and is woken by
	// the other side, by Close or by its context.
	Yield int

	// RetainPopped, for SPSC rings, leaves popped items in their slots
	// instead of zeroing them, until the producer overwrites them. That
	// saves the consumer a write per item, which keeps the slots' cache
	// lines clean for the producer: measured 15-30% less per item on batch
	// transfers. The cost is that the GC keeps what a popped item points to
	// alive until its slot is reused. Rings of builtin scalar types (ints,
	// floats, bool, uintptr) never zero popped slots, as there is nothing
	// to release; set RetainPopped for structs and arrays without pointers.
	RetainPopped bool
}

// pointerFree reports whether T is a builtin scalar type, whose popped
// values the GC has no reason to see cleared. It cannot see inside structs
// (that would take reflection); Config.RetainPopped covers those.
func pointerFree[T any]() bool {
	var zero T
	switch any(zero).(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64,
		uintptr, float32, float64, complex64, complex128, bool:
		return true
	}
	return false
}

// slots validates c.Capacity and returns it rounded up to a power of two.
func (c Config) slots() (uintptr, error) {
	n := c.Capacity
	if n == 0 {
		n = DefaultCapacity
	}
	if n < 0 || n > MaxCapacity {
		return 0, ErrCapacity
	}
	s := uintptr(2) // a sequenced ring cannot tell full from free with one slot
	for s < uintptr(n) {
		s <<= 1
	}
	return s, nil
}

func (c Config) waitConfig() waitConfig {
	w := waitConfig{spin: defaultSpin, yield: defaultYield}
	if c.Spin != 0 {
		w.spin = max(c.Spin, 0)
	}
	if c.Yield != 0 {
		w.yield = max(c.Yield, 0)
	}
	w.poll = defaultPoll
	if c.PollInterval != 0 {
		w.poll = max(c.PollInterval, 0)
	}
	return w
}

// defaultPoll is the default Config.PollInterval.
const defaultPoll = 1500 * time.Nanosecond

// pauseFor spins for about d with the CPU's spin-wait hint, checking the
// clock every few hints (a PAUSE takes 10-140 cycles depending on the CPU;
// reading the monotonic clock through the vDSO about 20-40 ns).
func pauseFor(d time.Duration) {
	start := time.Now()
	for {
		spinPause(8)
		if time.Since(start) >= d {
			return
		}
	}
}

// pad separates fields written by different goroutines onto different
// cache lines.
type pad [cacheLine]byte

// waitConfig is the resolved wait strategy of a ring.
type waitConfig struct {
	spin, yield int
	poll        time.Duration
}

// backoff is the state of one blocking call: it retries at once for the
// first spin rounds, then after runtime.Gosched for yield rounds, and then
// tells the caller to park. It never sleeps on a timer: a short time.Sleep
// costs tens of microseconds, far more than the wait it replaces.
type backoff struct{ n int }

// next reports whether the caller should park now. Otherwise it has spun or
// yielded and the caller should retry.
func (b *backoff) next(c *waitConfig) (park bool) {
	b.n++
	switch {
	case b.n <= c.spin:
		if spinWaits && c.poll > 0 {
			pauseFor(c.poll)
		}
		return false
	case b.n <= c.spin+c.yield:
		runtime.Gosched()
		return false
	}
	return true
}

// waitQueue is where blocked callers on one side of a ring park. The other
// side calls wake after each operation; wake is a single atomic load unless
// somebody is parked. It allocates nothing per wait.
//
// The protocol avoids lost wake-ups: a waiter registers (sleepers++) and
// then re-checks the ring before it blocks; the other side changes the ring
// and then checks sleepers. With sequentially consistent atomics at least
// one of the two sees the other.
type waitQueue struct {
	sleepers atomic.Int32
	token    chan struct{} // capacity 1: a pending wake-up
}

func (w *waitQueue) init() { w.token = make(chan struct{}, 1) }

// wake lets one parked waiter retry, if there is one.
func (w *waitQueue) wake() {
	if w.sleepers.Load() > 0 {
		select {
		case w.token <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

// enter registers the caller as a waiter; it must re-check the ring and
// then call leave or sleep.
func (w *waitQueue) enter() { w.sleepers.Add(1) }

// leave unregisters a waiter that did not need to sleep.
func (w *waitQueue) leave() { w.sleepers.Add(-1) }

// sleep blocks until a wake-up, done is closed, or ctx is done, and then
// unregisters the caller. It returns ctx.Err() only in the last case.
func (w *waitQueue) sleep(ctx context.Context, done <-chan struct{}) error {
	var err error
	select {
	case <-w.token:
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	w.sleepers.Add(-1)
	return err
}

// lifecycle is the closing state shared by every ring.
type lifecycle struct {
	closed atomic.Bool
	done   chan struct{} // closed by Close
}

func (l *lifecycle) init() { l.done = make(chan struct{}) }

// close closes the ring once; later calls do nothing.
func (l *lifecycle) close() {
	if l.closed.CompareAndSwap(false, true) {
		close(l.done)
	}
}

// length returns tail-head clamped to [0, capacity], for Len methods that
// read indices written by other goroutines. head must be loaded first.
func length(head, tail, capacity uintptr) int {
	n := tail - head
	if n > capacity { // head was loaded before the consumer moved on
		n = capacity
	}
	return int(n)
}
