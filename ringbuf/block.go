package ringbuf

import "context"

// waiters is the blocking machinery a ring embeds: its wait strategy, its
// closing state and the two places where blocked callers park.
type waiters struct {
	wait     waitConfig
	life     lifecycle
	notEmpty waitQueue // consumers parked in Pop
	notFull  waitQueue // producers parked in Push
	// baton is set when several callers may park on one side: a woken
	// caller that leaves work behind passes the wake-up on, so that one
	// wake-up reaches every parked caller a batch can serve, without waking
	// a herd.
	baton bool
}

func (w *waiters) setup(cfg Config, baton bool) {
	w.wait = cfg.waitConfig()
	w.baton = baton
	w.life.init()
	w.notEmpty.init()
	w.notFull.init()
}

// tryRing is the non-blocking half of a ring, which the blocking loops
// below drive. They run only after the caller's own first attempt failed,
// so the indirect calls cost nothing that matters.
type tryRing[T any] interface {
	TryPush(T) bool
	TryPushBatch([]T) int
	TryPop() (T, bool)
	TryPopBatch([]T) int
	Len() int
	Cap() int
}

// passProducers wakes another parked producer while room remains.
func passProducers[T any](w *waiters, r tryRing[T]) {
	if w.baton && w.notFull.sleepers.Load() > 0 && r.Len() < r.Cap() {
		w.notFull.wake()
	}
}

// passConsumers wakes another parked consumer while items remain.
func passConsumers[T any](w *waiters, r tryRing[T]) {
	if w.baton && w.notEmpty.sleepers.Load() > 0 && r.Len() > 0 {
		w.notEmpty.wake()
	}
}

// pushWait is Push after a failed first attempt: it retries with backoff,
// parks while the ring stays full, and fails once the ring is closed.
func pushWait[T any](ctx context.Context, r tryRing[T], w *waiters, v T) error {
	var b backoff
	for {
		if r.TryPush(v) {
			passProducers(w, r)
			return nil
		}
		if w.life.closed.Load() {
			return ErrClosed
		}
		if !b.next(&w.wait) {
			continue
		}
		w.notFull.enter()
		if r.TryPush(v) {
			w.notFull.leave()
			passProducers(w, r)
			return nil
		}
		if err := w.notFull.sleep(ctx, w.life.done); err != nil {
			return err
		}
	}
}

// pushBatchWait is PushBatch: it appends all of vs, waiting as needed.
func pushBatchWait[T any](ctx context.Context, r tryRing[T], w *waiters, vs []T) (int, error) {
	var b backoff
	done := 0
	for done < len(vs) {
		if n := r.TryPushBatch(vs[done:]); n > 0 {
			done += n
			b = backoff{}
			continue
		}
		if w.life.closed.Load() {
			return done, ErrClosed
		}
		if !b.next(&w.wait) {
			continue
		}
		w.notFull.enter()
		if n := r.TryPushBatch(vs[done:]); n > 0 {
			w.notFull.leave()
			done += n
			continue
		}
		if err := w.notFull.sleep(ctx, w.life.done); err != nil {
			return done, err
		}
	}
	passProducers(w, r)
	return done, nil
}

// popWait is Pop after a failed first attempt: it retries with backoff,
// parks while the ring stays empty, and fails once it is closed and drained.
func popWait[T any](ctx context.Context, r tryRing[T], w *waiters) (T, error) {
	var b backoff
	for {
		if v, ok := r.TryPop(); ok {
			passConsumers(w, r)
			return v, nil
		}
		if w.life.closed.Load() {
			if v, ok := r.TryPop(); ok { // pushed before Close
				return v, nil
			}
			var zero T
			return zero, ErrClosed
		}
		if !b.next(&w.wait) {
			continue
		}
		w.notEmpty.enter()
		if v, ok := r.TryPop(); ok {
			w.notEmpty.leave()
			passConsumers(w, r)
			return v, nil
		}
		if err := w.notEmpty.sleep(ctx, w.life.done); err != nil {
			var zero T
			return zero, err
		}
	}
}

// popBatchWait is PopBatch after a failed first attempt.
func popBatchWait[T any](ctx context.Context, r tryRing[T], w *waiters, dst []T) (int, error) {
	var b backoff
	for {
		if n := r.TryPopBatch(dst); n > 0 {
			passConsumers(w, r)
			return n, nil
		}
		if w.life.closed.Load() {
			if n := r.TryPopBatch(dst); n > 0 {
				return n, nil
			}
			return 0, ErrClosed
		}
		if !b.next(&w.wait) {
			continue
		}
		w.notEmpty.enter()
		if n := r.TryPopBatch(dst); n > 0 {
			w.notEmpty.leave()
			passConsumers(w, r)
			return n, nil
		}
		if err := w.notEmpty.sleep(ctx, w.life.done); err != nil {
			return 0, err
		}
	}
}
