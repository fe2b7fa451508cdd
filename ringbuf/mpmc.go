package ringbuf

import (
	"context"
	"sync/atomic"
)

// cell is one slot of a sequenced ring. seq says whose turn the slot is: a
// producer may fill it when seq equals the producer's position, a consumer
// may empty it when seq equals the consumer's position + 1.
type cell[T any] struct {
	seq atomic.Uintptr
	val T
}

// seqRing is the bounded multi-producer queue of Dmitry Vyukov, with batch
// operations that claim a run of slots with one compare-and-swap. Producers
// never wait for each other and consumers never wait for each other: a slot
// that is claimed but not yet filled simply reads as empty.
type seqRing[T any] struct {
	_     pad
	tail  atomic.Uintptr // next position producers claim
	_     pad
	head  atomic.Uintptr // next position consumers claim
	_     pad
	mask  uintptr
	cells []cell[T]
	_     pad
}

func (q *seqRing[T]) init(n, start uintptr) {
	q.mask = n - 1
	q.cells = make([]cell[T], n)
	for i := uintptr(0); i < n; i++ {
		p := start + i
		q.cells[p&q.mask].seq.Store(p)
	}
	q.tail.Store(start)
	q.head.Store(start)
}

func (q *seqRing[T]) len() int {
	h := q.head.Load()
	return length(h, q.tail.Load(), q.mask+1)
}

// dist is a-b as a signed distance; positions never drift more than
// MaxCapacity apart, so this is exact across wrap-around.
func dist(a, b uintptr) int {
	d := a - b
	if d > ^uintptr(0)>>1 {
		return -int(-d)
	}
	return int(d)
}

// tryPush claims one slot and fills it.
func (q *seqRing[T]) tryPush(v T) bool {
	pos := q.tail.Load()
	for {
		c := &q.cells[pos&q.mask]
		switch d := dist(c.seq.Load(), pos); {
		case d == 0:
			if q.tail.CompareAndSwap(pos, pos+1) {
				c.val = v
				c.seq.Store(pos + 1)
				return true
			}
			pos = q.tail.Load()
		case d < 0: // the slot still holds the item of the previous lap
			return false
		default: // another producer claimed pos
			pos = q.tail.Load()
		}
	}
}

// tryPushBatch claims the longest run of free slots up to len(vs) with one
// compare-and-swap and fills them.
func (q *seqRing[T]) tryPushBatch(vs []T) int {
	pos := q.tail.Load()
	for {
		d := dist(q.cells[pos&q.mask].seq.Load(), pos)
		if d < 0 {
			return 0
		}
		if d > 0 {
			pos = q.tail.Load()
			continue
		}
		n := uintptr(1)
		for n < uintptr(len(vs)) && q.cells[(pos+n)&q.mask].seq.Load() == pos+n {
			n++
		}
		if !q.tail.CompareAndSwap(pos, pos+n) {
			pos = q.tail.Load()
			continue
		}
		for i := uintptr(0); i < n; i++ {
			c := &q.cells[(pos+i)&q.mask]
			c.val = vs[i]
			c.seq.Store(pos + i + 1)
		}
		return int(n)
	}
}

// tryPop claims and empties one slot. single says the caller is the only
// consumer, which lets it advance head with a store instead of a
// compare-and-swap.
func (q *seqRing[T]) tryPop(single bool) (v T, ok bool) {
	pos := q.head.Load()
	for {
		c := &q.cells[pos&q.mask]
		switch d := dist(c.seq.Load(), pos+1); {
		case d == 0:
			if single {
				q.head.Store(pos + 1)
			} else if !q.head.CompareAndSwap(pos, pos+1) {
				pos = q.head.Load()
				continue
			}
			v = c.val
			var zero T
			c.val = zero
			c.seq.Store(pos + q.mask + 1)
			return v, true
		case d < 0: // not filled yet
			return v, false
		default: // another consumer took pos
			pos = q.head.Load()
		}
	}
}

// tryPopBatch claims the longest run of filled slots up to len(dst) with one
// index update and empties them into dst.
func (q *seqRing[T]) tryPopBatch(dst []T, single bool) int {
	pos := q.head.Load()
	for {
		d := dist(q.cells[pos&q.mask].seq.Load(), pos+1)
		if d < 0 {
			return 0
		}
		if d > 0 {
			pos = q.head.Load()
			continue
		}
		n := uintptr(1)
		for n < uintptr(len(dst)) && q.cells[(pos+n)&q.mask].seq.Load() == pos+n+1 {
			n++
		}
		if single {
			q.head.Store(pos + n)
		} else if !q.head.CompareAndSwap(pos, pos+n) {
			pos = q.head.Load()
			continue
		}
		var zero T
		for i := uintptr(0); i < n; i++ {
			c := &q.cells[(pos+i)&q.mask]
			dst[i] = c.val
			c.val = zero
			c.seq.Store(pos + i + q.mask + 1)
		}
		return int(n)
	}
}

// MPMC is a bounded lock-free queue for any number of producer and consumer
// goroutines. All methods are safe for concurrent use.
//
// Items from one producer are popped in the order that producer pushed
// them. A batch push claims its slots with a single compare-and-swap of the
// shared index and a batch pop likewise, so the contended index moves once
// per batch.
//
// Close is exact for producers that have returned: call it after they are
// done (a sync.WaitGroup), as with a channel. A push that races with Close
// may still succeed; its item stays in the ring for any later Pop.
type MPMC[T any] struct{ seqQueue[T] }

// MPSC is a bounded lock-free queue for any number of producer goroutines
// and one consumer goroutine at a time. Producer methods are safe for
// concurrent use; consumer methods (TryPop, TryPopBatch, Pop, PopBatch) must
// not be called concurrently with each other. Len, Cap, Close and Closed are
// safe from any goroutine.
//
// It is an MPMC ring whose consumer advances its index with a plain store
// instead of a compare-and-swap. Order and Close behave as for MPMC.
type MPSC[T any] struct{ seqQueue[T] }

// seqQueue is the implementation of MPMC and MPSC: a seqRing plus blocking,
// closing and wake-ups.
type seqQueue[T any] struct {
	q      seqRing[T]
	single bool // one consumer: see seqRing.tryPop
	waiters
}

// NewMPMC returns an empty MPMC ring configured by cfg.
func NewMPMC[T any](cfg Config) (*MPMC[T], error) {
	r := new(MPMC[T])
	if err := r.init(cfg, 0, false); err != nil {
		return nil, err
	}
	return r, nil
}

// NewMPSC returns an empty MPSC ring configured by cfg.
func NewMPSC[T any](cfg Config) (*MPSC[T], error) {
	r := new(MPSC[T])
	if err := r.init(cfg, 0, true); err != nil {
		return nil, err
	}
	return r, nil
}

// init prepares an empty queue whose indices start at start, so tests can
// cross index wrap-around.
func (r *seqQueue[T]) init(cfg Config, start uintptr, single bool) error {
	n, err := cfg.slots()
	if err != nil {
		return err
	}
	r.q.init(n, start)
	r.single = single
	r.setup(cfg, true)
	return nil
}

// Cap returns the number of slots.
func (r *seqQueue[T]) Cap() int { return len(r.q.cells) }

// Len returns the number of queued items, counting slots claimed by
// producers that are still filling them. Under concurrent use it is a
// snapshot that may already be stale.
func (r *seqQueue[T]) Len() int { return r.q.len() }

// Close closes the ring: producers fail from now on with ErrClosed (or
// false), consumers drain what is queued and then get ErrClosed. Blocked
// callers on both sides are woken. Close is idempotent.
func (r *seqQueue[T]) Close() { r.life.close() }

// Closed reports whether Close has been called.
func (r *seqQueue[T]) Closed() bool { return r.life.closed.Load() }

// TryPush appends v if there is room and the ring is open, and reports
// whether it did. It never blocks.
func (r *seqQueue[T]) TryPush(v T) bool {
	if r.life.closed.Load() || !r.q.tryPush(v) {
		return false
	}
	r.notEmpty.wake()
	return true
}

// TryPushBatch appends as many leading items of vs as fit, in order, and
// returns how many it appended. It never blocks.
func (r *seqQueue[T]) TryPushBatch(vs []T) int {
	if len(vs) == 0 || r.life.closed.Load() {
		return 0
	}
	n := r.q.tryPushBatch(vs)
	if n > 0 {
		r.notEmpty.wake()
	}
	return n
}

// TryPop removes and returns the oldest item, if there is one. It never
// blocks.
func (r *seqQueue[T]) TryPop() (T, bool) {
	v, ok := r.q.tryPop(r.single)
	if ok {
		r.notFull.wake()
	}
	return v, ok
}

// TryPopBatch removes up to len(dst) of the oldest items into dst and
// returns how many it removed. It never blocks.
func (r *seqQueue[T]) TryPopBatch(dst []T) int {
	if len(dst) == 0 {
		return 0
	}
	n := r.q.tryPopBatch(dst, r.single)
	if n > 0 {
		r.notFull.wake()
	}
	return n
}

// Push appends v, waiting for room while the ring is full. It returns
// ErrClosed if the ring is closed, or ctx.Err() if ctx is done first.
func (r *seqQueue[T]) Push(ctx context.Context, v T) error {
	if r.TryPush(v) {
		return nil
	}
	return pushWait[T](ctx, r, &r.waiters, v)
}

// PushBatch appends all of vs, in order, waiting for room as needed. It
// returns how many items it appended, with ErrClosed or ctx.Err() if that
// is fewer than len(vs). Items of concurrent producers may interleave with
// the batch.
func (r *seqQueue[T]) PushBatch(ctx context.Context, vs []T) (int, error) {
	return pushBatchWait[T](ctx, r, &r.waiters, vs)
}

// Pop removes and returns the oldest item, waiting while the ring is empty.
// Once the ring is closed and drained it returns ErrClosed; if ctx is done
// first it returns ctx.Err().
func (r *seqQueue[T]) Pop(ctx context.Context) (T, error) {
	if v, ok := r.TryPop(); ok {
		passConsumers[T](&r.waiters, r)
		return v, nil
	}
	return popWait[T](ctx, r, &r.waiters)
}

// PopBatch waits until at least one item is queued and then removes up to
// len(dst) items into dst. Once the ring is closed and drained it returns
// ErrClosed; if ctx is done first it returns ctx.Err().
func (r *seqQueue[T]) PopBatch(ctx context.Context, dst []T) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	if n := r.TryPopBatch(dst); n > 0 {
		passConsumers[T](&r.waiters, r)
		return n, nil
	}
	return popBatchWait[T](ctx, r, &r.waiters, dst)
}
