package ringbuf

import (
	"context"
	"sync/atomic"
)

// Lossy is a bounded queue that never blocks its producers: when it is
// full, Push evicts the oldest item to make room. It suits latest-value
// telemetry, where a stale reading is worth less than a fresh one. All
// methods are safe for concurrent use by any number of producers and
// consumers.
//
// Every item Push gives up on (evicted, or refused after Close) is counted
// in Dropped and handed to the evicted function given to NewLossy, so that
// items owning resources (a *mempool.Buf, say) can be released.
type Lossy[T any] struct {
	r       seqQueue[T]
	evicted func(T)
	dropped atomic.Uint64
}

// NewLossy returns an empty Lossy ring configured by cfg. If evicted is not
// nil, Push calls it, on the pushing goroutine, with each item it drops.
func NewLossy[T any](cfg Config, evicted func(T)) (*Lossy[T], error) {
	l := &Lossy[T]{evicted: evicted}
	if err := l.r.init(cfg, 0, false); err != nil {
		return nil, err
	}
	return l, nil
}

// Push appends v, evicting the oldest item while the ring is full, and
// returns how many items it dropped: usually 0, 1 when the ring was full,
// more only when racing producers took the slot it freed. After Close it
// appends nothing and drops v itself.
func (l *Lossy[T]) Push(v T) (dropped int) {
	if l.r.life.closed.Load() {
		l.drop(v)
		return 1
	}
	for !l.r.q.tryPush(v) {
		// Full: evict the oldest. A consumer may have freed a slot
		// meanwhile; then the retry succeeds at once.
		if o, ok := l.r.q.tryPop(false); ok {
			l.drop(o)
			dropped++
		}
	}
	l.r.notEmpty.wake()
	return dropped
}

func (l *Lossy[T]) drop(v T) {
	l.dropped.Add(1)
	if l.evicted != nil {
		l.evicted(v)
	}
}

// Dropped returns how many items Push has evicted or refused since the
// ring was made.
func (l *Lossy[T]) Dropped() uint64 { return l.dropped.Load() }

// TryPop removes and returns the oldest item, if there is one.
func (l *Lossy[T]) TryPop() (T, bool) { return l.r.TryPop() }

// TryPopBatch removes up to len(dst) of the oldest items into dst and
// returns how many it removed.
func (l *Lossy[T]) TryPopBatch(dst []T) int { return l.r.TryPopBatch(dst) }

// Pop removes and returns the oldest item, waiting while the ring is empty.
// Once the ring is closed and drained it returns ErrClosed; if ctx is done
// first it returns ctx.Err().
func (l *Lossy[T]) Pop(ctx context.Context) (T, error) { return l.r.Pop(ctx) }

// PopBatch waits until at least one item is queued and then removes up to
// len(dst) items into dst, as MPMC.PopBatch.
func (l *Lossy[T]) PopBatch(ctx context.Context, dst []T) (int, error) {
	return l.r.PopBatch(ctx, dst)
}

// Len returns the number of queued items; see MPMC.Len.
func (l *Lossy[T]) Len() int { return l.r.Len() }

// Cap returns the number of slots.
func (l *Lossy[T]) Cap() int { return l.r.Cap() }

// Close closes the ring: Push refuses new items, consumers drain what is
// queued and then get ErrClosed. Close is idempotent.
func (l *Lossy[T]) Close() { l.r.Close() }

// Closed reports whether Close has been called.
func (l *Lossy[T]) Closed() bool { return l.r.Closed() }
