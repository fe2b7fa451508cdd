package ringbuf

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
)

// Errors returned by the byte ring.
var (
	// ErrMaxPeek is returned by NewBytes for a BytesConfig.MaxPeek that is
	// negative or larger than the ring's capacity after rounding.
	ErrMaxPeek = errors.New("ringbuf: MaxPeek out of range")
	// ErrPeekTooLarge is returned by [Bytes.Peek] for more bytes than the
	// ring's MaxPeek.
	ErrPeekTooLarge = errors.New("ringbuf: peek larger than MaxPeek")
	// ErrNegativeCount is returned by [Bytes.Peek] and [Bytes.Discard] for
	// a negative count.
	ErrNegativeCount = errors.New("ringbuf: negative count")

	errInvalidRead  = errors.New("ringbuf: reader returned invalid count")
	errInvalidWrite = errors.New("ringbuf: writer returned invalid count")
)

// DefaultMaxPeek bounds the MaxPeek of a ring whose BytesConfig.MaxPeek is
// 0: such a ring can Peek min(Cap, DefaultMaxPeek) bytes.
const DefaultMaxPeek = 4096

// maxEmptyReads is how many reads in a row may return 0, nil before
// ReadFrom gives up with io.ErrNoProgress, as bufio does.
const maxEmptyReads = 100

// BytesConfig configures a Bytes ring. It is passed by value; the zero value
// is a ring of DefaultCapacity bytes that can Peek all of them.
type BytesConfig struct {
	// Config sets the capacity in bytes (rounded up to a power of two) and
	// the wait strategy of blocking calls.
	Config

	// MaxPeek is the longest view Peek returns. 0 means
	// min(capacity, DefaultMaxPeek); otherwise it must be between 1 and the
	// capacity after rounding. The ring allocates capacity+MaxPeek bytes,
	// and bytes written to the first MaxPeek bytes of the ring are stored
	// twice, so a smaller MaxPeek saves memory and copying.
	MaxPeek int
}

// Bytes is a bounded lock-free byte stream for exactly one writer goroutine
// and one reader goroutine at a time. Writer methods (TryWrite, Write,
// WriteContext, ReadFrom) must not be called concurrently with each other,
// nor reader methods (TryRead, Read, ReadContext, Peek, TryPeek, Discard,
// WriteTo) with each other; the writer and the reader may run concurrently.
// Buffered, Available, Cap, MaxPeek, Close and Closed are safe from any
// goroutine. Bytes implements io.Reader, io.Writer, io.ReaderFrom and
// io.WriterTo, so it works as an in-memory pipe between two goroutines.
//
// Peek and TryPeek return views that alias the ring, without copying, for
// parsers that decode frames in place: Peek a header, Peek the whole frame,
// decode it, Discard it. A view stays valid until the next call that
// consumes bytes (Read, ReadContext, TryRead, Discard, WriteTo); the writer
// never touches buffered bytes. Views must not be modified and must be
// copied to be retained.
//
// Any n <= MaxPeek bytes are contiguous: the ring allocates MaxPeek bytes
// past its end and the writer mirrors the first MaxPeek bytes of the ring
// there, so a view that crosses the end of the ring continues into the
// mirror.
//
// Close is meant for the writer after its last write, as with a channel.
// The reader then drains what is buffered and gets io.EOF. A write that
// races with a Close from another goroutine may still succeed; its bytes
// stay readable.
type Bytes struct {
	_ pad
	// written by the writer
	tail      atomic.Uintptr // stream offset of the next byte written
	headCache uintptr        // writer's copy of head
	_         pad
	// written by the reader
	head      atomic.Uintptr // stream offset of the next byte read
	tailCache uintptr        // reader's copy of tail
	_         pad
	// read-mostly
	mask uintptr
	size uintptr // capacity, a power of two
	peek uintptr // MaxPeek, <= size
	buf  []byte  // size+peek bytes; buf[size:] mirrors buf[:peek]
	// notEmpty parks the reader (Read, Peek, WriteTo), notFull the writer
	// (Write, ReadFrom).
	waiters
	_ pad
}

// NewBytes returns an empty Bytes ring configured by cfg. It returns
// ErrCapacity or ErrMaxPeek for an invalid configuration.
func NewBytes(cfg BytesConfig) (*Bytes, error) {
	return newBytes(cfg, 0)
}

// newBytes starts the indices at start, so tests can cross index
// wrap-around.
func newBytes(cfg BytesConfig, start uintptr) (*Bytes, error) {
	size, err := cfg.slots()
	if err != nil {
		return nil, err
	}
	peek := min(size, DefaultMaxPeek)
	if cfg.MaxPeek != 0 {
		if cfg.MaxPeek < 0 || uintptr(cfg.MaxPeek) > size {
			return nil, ErrMaxPeek
		}
		peek = uintptr(cfg.MaxPeek)
	}
	if int(size+peek) < 0 { // 32-bit: MaxCapacity plus a MaxPeek of MaxCapacity
		return nil, ErrMaxPeek
	}
	r := &Bytes{
		mask: size - 1,
		size: size,
		peek: peek,
		buf:  make([]byte, size+peek),
	}
	r.tail.Store(start)
	r.head.Store(start)
	r.headCache, r.tailCache = start, start
	r.setup(cfg.Config, false)
	return r, nil
}

// Cap returns the capacity in bytes.
func (r *Bytes) Cap() int { return int(r.size) }

// MaxPeek returns the longest view Peek can return.
func (r *Bytes) MaxPeek() int { return int(r.peek) }

// Buffered returns the number of bytes that can be read. Under concurrent
// use it is a snapshot that may already be stale.
func (r *Bytes) Buffered() int {
	h := r.head.Load()
	return length(h, r.tail.Load(), r.size)
}

// Available returns the number of bytes that can be written without
// blocking. Under concurrent use it is a snapshot that may already be stale.
func (r *Bytes) Available() int { return int(r.size) - r.Buffered() }

// Close closes the ring: the writer fails from now on with ErrClosed, the
// reader drains what is buffered and then gets io.EOF. Blocked callers on
// both sides are woken. Close is idempotent.
func (r *Bytes) Close() { r.life.close() }

// Closed reports whether Close has been called.
func (r *Bytes) Closed() bool { return r.life.closed.Load() }

// writable returns the writer's tail and the free space, reading the shared
// head only if the writer's copy shows less than want free.
func (r *Bytes) writable(want uintptr) (t, free uintptr) {
	t = r.tail.Load()
	free = r.size - (t - r.headCache)
	if free < want {
		r.headCache = r.head.Load()
		free = r.size - (t - r.headCache)
	}
	return t, free
}

// readable returns the reader's head and the buffered length, reading the
// shared tail only if the reader's copy shows less than want buffered.
func (r *Bytes) readable(want uintptr) (h, avail uintptr) {
	h = r.head.Load()
	avail = r.tailCache - h
	if avail < want {
		r.tailCache = r.tail.Load()
		avail = r.tailCache - h
	}
	return h, avail
}

// put copies p, which fits in the free space, into the ring at index i,
// wrapping at the end and keeping the mirror up to date.
func (r *Bytes) put(i uintptr, p []byte) {
	size := r.size
	k := copy(r.buf[i:size], p)
	if i < r.peek {
		copy(r.buf[size+i:], p[:k]) // up to the end of the mirror
	}
	if k < len(p) {
		rest := p[k:]
		copy(r.buf[:len(rest)], rest)
		copy(r.buf[size:], rest) // the mirror: at most peek bytes
	}
}

// fixup restores the mirror invariant after n bytes were stored directly at
// buf[i:i+n], where i < size and i+n <= size+peek: bytes stored in [0, peek)
// are copied to the mirror, and bytes stored in the mirror are copied to
// the front of the ring.
func (r *Bytes) fixup(i, n uintptr) {
	size, end := r.size, i+n
	if hi := min(end, r.peek); i < hi {
		copy(r.buf[size+i:size+hi], r.buf[i:hi])
	}
	if end > size { // end-size <= i, so this does not overlap the copy above
		copy(r.buf[:end-size], r.buf[size:end])
	}
}

// view returns the n buffered bytes at offset h as one slice of buf; n must
// be at most peek. Its capacity is clipped so that append cannot write
// into the ring.
func (r *Bytes) view(h, n uintptr) []byte {
	i := h & r.mask
	return r.buf[i : i+n : i+n]
}

// TryWrite writes as much of p as fits, if the ring is open, and returns
// how many bytes it wrote. It never blocks.
func (r *Bytes) TryWrite(p []byte) int {
	if len(p) == 0 || r.life.closed.Load() {
		return 0
	}
	t, free := r.writable(uintptr(len(p)))
	if free == 0 {
		return 0
	}
	n := min(free, uintptr(len(p)))
	r.put(t&r.mask, p[:n])
	r.tail.Store(t + n)
	r.notEmpty.wake()
	return int(n)
}

// Write writes all of p, waiting for space as needed. It implements
// io.Writer. If the ring is closed first it returns how many bytes it wrote
// with ErrClosed.
func (r *Bytes) Write(p []byte) (int, error) {
	return r.WriteContext(context.Background(), p)
}

// WriteContext writes all of p, waiting for space as needed. It returns how
// many bytes it wrote, with ErrClosed or ctx.Err() if that is fewer than
// len(p).
func (r *Bytes) WriteContext(ctx context.Context, p []byte) (int, error) {
	var b backoff
	done := 0
	for done < len(p) {
		if n := r.TryWrite(p[done:]); n > 0 {
			done += n
			b = backoff{}
			continue
		}
		if r.life.closed.Load() {
			return done, ErrClosed
		}
		if !b.next(&r.wait) {
			continue
		}
		r.notFull.enter()
		if n := r.TryWrite(p[done:]); n > 0 {
			r.notFull.leave()
			done += n
			continue
		}
		if err := r.notFull.sleep(ctx, r.life.done); err != nil {
			return done, err
		}
	}
	return done, nil
}

// ReadFrom reads from src straight into the ring's free space, with no
// intermediate buffer, waiting for space while the ring is full, until src
// returns io.EOF. It implements io.ReaderFrom; a goroutine that feeds the
// ring from a device typically runs io.Copy(ring, device) or calls
// ReadFrom. It returns the number of bytes read and nil at io.EOF, any
// other error from src, io.ErrNoProgress after 100 reads in a row that
// return 0, nil, or ErrClosed once the ring is closed (a read already
// underway when Close is called completes, and its bytes are kept).
//
// ReadFrom asks src to fill at most the free space: src.Read gets a slice
// of the ring that it must not retain, as io.Reader requires.
func (r *Bytes) ReadFrom(src io.Reader) (int64, error) {
	var (
		total int64
		b     backoff
		empty int
	)
	for {
		if r.life.closed.Load() {
			return total, ErrClosed
		}
		t, free := r.writable(r.size)
		if free == 0 {
			if !b.next(&r.wait) {
				continue
			}
			r.notFull.enter()
			if _, free = r.writable(1); free > 0 {
				r.notFull.leave()
				continue
			}
			_ = r.notFull.sleep(context.Background(), r.life.done)
			continue
		}
		b = backoff{}
		i := t & r.mask
		m := min(free, r.size+r.peek-i) // may run into the mirror
		n, err := src.Read(r.buf[i : i+m : i+m])
		if n < 0 || uintptr(n) > m {
			return total, errInvalidRead
		}
		if n > 0 {
			r.fixup(i, uintptr(n))
			r.tail.Store(t + uintptr(n))
			r.notEmpty.wake()
			total += int64(n)
			empty = 0
		}
		switch {
		case err == io.EOF:
			return total, nil
		case err != nil:
			return total, err
		case n == 0:
			if empty++; empty >= maxEmptyReads {
				return total, io.ErrNoProgress
			}
		}
	}
}

// TryRead reads up to len(p) buffered bytes into p and returns how many it
// read. It never blocks.
func (r *Bytes) TryRead(p []byte) int {
	if len(p) == 0 {
		return 0
	}
	h, avail := r.readable(uintptr(len(p)))
	if avail == 0 {
		return 0
	}
	n := min(avail, uintptr(len(p)))
	i := h & r.mask
	k := copy(p[:n], r.buf[i:r.size])
	copy(p[k:n], r.buf)
	r.head.Store(h + n)
	r.notFull.wake()
	return int(n)
}

// Read waits until at least one byte is buffered and then reads up to
// len(p) bytes into p. It implements io.Reader: once the ring is closed and
// drained it returns 0, io.EOF.
func (r *Bytes) Read(p []byte) (int, error) {
	return r.ReadContext(context.Background(), p)
}

// ReadContext is Read with a context: if ctx is done before any byte is
// buffered it returns 0, ctx.Err().
func (r *Bytes) ReadContext(ctx context.Context, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var b backoff
	for {
		if n := r.TryRead(p); n > 0 {
			return n, nil
		}
		if r.life.closed.Load() {
			if n := r.TryRead(p); n > 0 { // written before Close
				return n, nil
			}
			return 0, io.EOF
		}
		if !b.next(&r.wait) {
			continue
		}
		r.notEmpty.enter()
		if n := r.TryRead(p); n > 0 {
			r.notEmpty.leave()
			return n, nil
		}
		if err := r.notEmpty.sleep(ctx, r.life.done); err != nil {
			return 0, err
		}
	}
}

// TryPeek returns a view of the next n buffered bytes without consuming
// them, if that many are buffered and 0 <= n <= MaxPeek; otherwise it
// returns nil, false. It never blocks. The view is valid until the next
// call that consumes bytes; see [Bytes].
func (r *Bytes) TryPeek(n int) ([]byte, bool) {
	if n < 0 || uintptr(n) > r.peek {
		return nil, false
	}
	h, avail := r.readable(uintptr(n))
	if avail < uintptr(n) {
		return nil, false
	}
	return r.view(h, uintptr(n)), true
}

// Peek waits until n bytes are buffered and returns a view of them without
// consuming them. The view aliases the ring and is valid until the next
// call that consumes bytes (Read, ReadContext, TryRead, Discard, WriteTo);
// copy it to retain it. Peek returns ErrNegativeCount for n < 0 and
// ErrPeekTooLarge for n > MaxPeek. If the ring is closed with fewer than n
// bytes left, it returns a view of what is left with io.ErrUnexpectedEOF,
// or nil, io.EOF if nothing is left. If ctx is done first it returns nil,
// ctx.Err().
func (r *Bytes) Peek(ctx context.Context, n int) ([]byte, error) {
	if n < 0 {
		return nil, ErrNegativeCount
	}
	if uintptr(n) > r.peek {
		return nil, ErrPeekTooLarge
	}
	var b backoff
	for {
		if v, ok := r.TryPeek(n); ok {
			return v, nil
		}
		if r.life.closed.Load() {
			h, avail := r.readable(uintptr(n))
			switch {
			case avail >= uintptr(n): // written before Close
				return r.view(h, uintptr(n)), nil
			case avail == 0:
				return nil, io.EOF
			}
			return r.view(h, avail), io.ErrUnexpectedEOF
		}
		if !b.next(&r.wait) {
			continue
		}
		// Every write wakes the reader; if it is still short of n bytes
		// it comes back here and parks again.
		r.notEmpty.enter()
		if v, ok := r.TryPeek(n); ok {
			r.notEmpty.leave()
			return v, nil
		}
		if err := r.notEmpty.sleep(ctx, r.life.done); err != nil {
			return nil, err
		}
	}
}

// Discard consumes up to n buffered bytes without copying them and returns
// how many it consumed: n, or fewer if fewer are buffered. It never blocks;
// to skip more than is buffered, alternate it with Peek(ctx, 1). The error
// is ErrNegativeCount for n < 0 and nil otherwise.
func (r *Bytes) Discard(n int) (int, error) {
	if n < 0 {
		return 0, ErrNegativeCount
	}
	if n == 0 {
		return 0, nil
	}
	h, avail := r.readable(uintptr(n))
	d := min(avail, uintptr(n))
	if d > 0 {
		r.head.Store(h + d)
		r.notFull.wake()
	}
	return int(d), nil
}

// WriteTo writes buffered bytes straight from the ring to dst, waiting for
// more, until the ring is closed and drained; then it returns the number of
// bytes written and nil. It implements io.WriterTo. It stops early with the
// first error from dst, or io.ErrShortWrite if dst accepts fewer bytes than
// it was given without an error; the bytes dst accepted are consumed, the
// rest stay buffered.
//
// dst.Write gets a slice of the ring that it must not modify or retain, as
// io.Writer requires.
func (r *Bytes) WriteTo(dst io.Writer) (int64, error) {
	var (
		total int64
		b     backoff
	)
	for {
		h, avail := r.readable(r.size)
		if avail == 0 {
			if r.life.closed.Load() {
				if _, avail = r.readable(1); avail == 0 {
					return total, nil
				}
				continue // written before Close
			}
			if !b.next(&r.wait) {
				continue
			}
			r.notEmpty.enter()
			if _, avail = r.readable(1); avail > 0 {
				r.notEmpty.leave()
				continue
			}
			_ = r.notEmpty.sleep(context.Background(), r.life.done)
			continue
		}
		b = backoff{}
		i := h & r.mask
		m := min(avail, r.size+r.peek-i) // may run into the mirror
		n, err := dst.Write(r.buf[i : i+m : i+m])
		if n < 0 || uintptr(n) > m {
			n = 0
			if err == nil {
				err = errInvalidWrite
			}
		}
		if n > 0 {
			r.head.Store(h + uintptr(n))
			r.notFull.wake()
			total += int64(n)
		}
		if err != nil {
			return total, err
		}
		if uintptr(n) < m {
			return total, io.ErrShortWrite
		}
	}
}
