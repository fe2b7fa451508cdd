package ringbuf

import (
	"context"
	"sync/atomic"
)

// SPSC is a bounded lock-free queue for exactly one producer goroutine and
// one consumer goroutine at a time. Producer methods (TryPush, TryPushBatch,
// Push, PushBatch) must not be called concurrently with each other, nor
// consumer methods (TryPop, TryPopBatch, Pop, PopBatch) with each other; a
// producer and a consumer may run concurrently. Len, Cap, Close and Closed
// are safe from any goroutine.
//
// Each side keeps a private copy of the other side's index and reads the
// shared one only when its copy says the ring is full (or empty), so a side
// that is ahead touches no shared cache line. Batch operations move many
// items with one index update.
//
// Close is meant for the producer after its last push, as with a channel. A
// push that races with a Close from another goroutine may still succeed;
// its item stays in the ring for any later Pop.
type SPSC[T any] struct {
	_ pad
	// written by the producer
	tail      atomic.Uintptr
	headCache uintptr // producer's copy of head
	_         pad
	// written by the consumer
	head      atomic.Uintptr
	tailCache uintptr // consumer's copy of tail
	_         pad
	// read-mostly
	mask uintptr
	buf  []T
	keep bool // do not zero popped slots: see Config.RetainPopped
	waiters
	_ pad
}

// NewSPSC returns an empty SPSC ring configured by cfg.
func NewSPSC[T any](cfg Config) (*SPSC[T], error) {
	return newSPSC[T](cfg, 0)
}

// newSPSC starts the indices at start, so tests can cross index wrap-around.
func newSPSC[T any](cfg Config, start uintptr) (*SPSC[T], error) {
	n, err := cfg.slots()
	if err != nil {
		return nil, err
	}
	r := &SPSC[T]{mask: n - 1, buf: make([]T, n), keep: cfg.RetainPopped || pointerFree[T]()}
	r.tail.Store(start)
	r.head.Store(start)
	r.headCache, r.tailCache = start, start
	r.setup(cfg, false)
	return r, nil
}

// Cap returns the number of slots.
func (r *SPSC[T]) Cap() int { return len(r.buf) }

// Len returns the number of queued items. Under concurrent use it is a
// snapshot that may already be stale.
func (r *SPSC[T]) Len() int {
	h := r.head.Load()
	return length(h, r.tail.Load(), uintptr(len(r.buf)))
}

// Close closes the ring: producers fail from now on with ErrClosed (or
// false), consumers drain what is queued and then get ErrClosed. Blocked
// callers on both sides are woken. Close is idempotent.
func (r *SPSC[T]) Close() { r.life.close() }

// Closed reports whether Close has been called.
func (r *SPSC[T]) Closed() bool { return r.life.closed.Load() }

// TryPush appends v if there is room and the ring is open, and reports
// whether it did. It never blocks.
func (r *SPSC[T]) TryPush(v T) bool {
	if r.life.closed.Load() {
		return false
	}
	t := r.tail.Load()
	if t-r.headCache > r.mask {
		r.headCache = r.head.Load()
		if t-r.headCache > r.mask {
			return false
		}
	}
	r.buf[t&r.mask] = v
	r.tail.Store(t + 1)
	r.notEmpty.wake()
	return true
}

// TryPushBatch appends as many items of vs as fit, in order, with a single
// index update, and returns how many it appended. It never blocks.
func (r *SPSC[T]) TryPushBatch(vs []T) int {
	if len(vs) == 0 || r.life.closed.Load() {
		return 0
	}
	t := r.tail.Load()
	size := uintptr(len(r.buf))
	free := size - (t - r.headCache)
	if free < uintptr(len(vs)) {
		r.headCache = r.head.Load()
		free = size - (t - r.headCache)
		if free == 0 {
			return 0
		}
	}
	n := min(free, uintptr(len(vs)))
	i := t & r.mask
	k := copy(r.buf[i:], vs[:n])
	copy(r.buf, vs[k:n])
	r.tail.Store(t + n)
	r.notEmpty.wake()
	return int(n)
}

// TryPop removes and returns the oldest item, if there is one. It never
// blocks; ok is false when the ring is empty.
func (r *SPSC[T]) TryPop() (v T, ok bool) {
	h := r.head.Load()
	if h == r.tailCache {
		r.tailCache = r.tail.Load()
		if h == r.tailCache {
			return v, false
		}
	}
	i := h & r.mask
	v = r.buf[i]
	if !r.keep {
		var zero T
		r.buf[i] = zero // let the GC collect what the item points to
	}
	r.head.Store(h + 1)
	r.notFull.wake()
	return v, true
}

// TryPopBatch removes up to len(dst) of the oldest items into dst, in
// order, with a single index update, and returns how many it removed. It
// never blocks.
func (r *SPSC[T]) TryPopBatch(dst []T) int {
	if len(dst) == 0 {
		return 0
	}
	h := r.head.Load()
	avail := r.tailCache - h
	if avail < uintptr(len(dst)) {
		r.tailCache = r.tail.Load()
		avail = r.tailCache - h
		if avail == 0 {
			return 0
		}
	}
	n := min(avail, uintptr(len(dst)))
	i := h & r.mask
	k := copy(dst[:n], r.buf[i:])
	copy(dst[k:n], r.buf)
	if !r.keep {
		clearRange(r.buf, i, n)
	}
	r.head.Store(h + n)
	r.notFull.wake()
	return int(n)
}

// Push appends v, waiting for room while the ring is full. It returns
// ErrClosed if the ring is closed, or ctx.Err() if ctx is done first.
func (r *SPSC[T]) Push(ctx context.Context, v T) error {
	if r.TryPush(v) {
		return nil
	}
	return pushWait[T](ctx, r, &r.waiters, v)
}

// PushBatch appends all of vs, in order, waiting for room as needed. It
// returns how many items it appended, with ErrClosed or ctx.Err() if that
// is fewer than len(vs).
func (r *SPSC[T]) PushBatch(ctx context.Context, vs []T) (int, error) {
	return pushBatchWait[T](ctx, r, &r.waiters, vs)
}

// Pop removes and returns the oldest item, waiting while the ring is empty.
// Once the ring is closed and drained it returns ErrClosed; if ctx is done
// first it returns ctx.Err().
func (r *SPSC[T]) Pop(ctx context.Context) (T, error) {
	if v, ok := r.TryPop(); ok {
		return v, nil
	}
	return popWait[T](ctx, r, &r.waiters)
}

// PopBatch waits until at least one item is queued and then removes up to
// len(dst) items into dst with a single index update. Once the ring is
// closed and drained it returns ErrClosed; if ctx is done first it returns
// ctx.Err().
func (r *SPSC[T]) PopBatch(ctx context.Context, dst []T) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	if n := r.TryPopBatch(dst); n > 0 {
		return n, nil
	}
	return popBatchWait[T](ctx, r, &r.waiters, dst)
}

// clearRange zeroes n slots of buf from index i, wrapping at the end.
func clearRange[T any](buf []T, i, n uintptr) {
	end := i + n
	if end <= uintptr(len(buf)) {
		clear(buf[i:end])
		return
	}
	clear(buf[i:])
	clear(buf[:end-uintptr(len(buf))])
}
