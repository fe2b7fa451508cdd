package ringbuf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"
)

var (
	_ io.Reader     = (*Bytes)(nil)
	_ io.Writer     = (*Bytes)(nil)
	_ io.ReaderFrom = (*Bytes)(nil)
	_ io.WriterTo   = (*Bytes)(nil)
)

// bytesTinyGo is true under TinyGo, where tests run on an emulated
// microcontroller with 64 KB of RAM.
const bytesTinyGo = runtime.Compiler == "tinygo"

// bytesStreamLen is how many bytes each run of TestBytesStreamExact moves.
func bytesStreamLen() int {
	switch {
	case bytesTinyGo:
		return 16 << 10
	case testing.Short():
		return 32 << 10
	}
	return 192 << 10
}

// bytesStarts are initial index values that cross wrap-around: the 32-bit
// boundary (a real wrap on 32-bit targets, a carry into the high word on
// 64-bit ones) and the top of uintptr (a wrap everywhere).
func bytesStarts() []struct {
	name  string
	start uintptr
} {
	near32 := uint64(1<<32 - 100) // truncated on 32-bit: still 100 below a wrap
	return []struct {
		name  string
		start uintptr
	}{
		{"zero", 0},
		{"near2^32", uintptr(near32)},
		{"nearMax", ^uintptr(0) - 100},
	}
}

// bytesStreamByte is byte off of the deterministic test stream.
func bytesStreamByte(off int) byte {
	x := uint32(off) * 0x9E3779B1
	x ^= x >> 15
	x *= 0x85EBCA77
	x ^= x >> 13
	return byte(x)
}

func bytesFill(p []byte, off int) {
	for i := range p {
		p[i] = bytesStreamByte(off + i)
	}
}

// bytesCheck returns an error if p is not the stream at off.
func bytesCheck(p []byte, off int) error {
	for i, c := range p {
		if want := bytesStreamByte(off + i); c != want {
			return fmt.Errorf("stream byte %d = %#x; want %#x", off+i, c, want)
		}
	}
	return nil
}

// bytesRand is a xorshift generator: deterministic and allocation free.
type bytesRand struct{ s uint32 }

func (r *bytesRand) next() uint32 {
	r.s ^= r.s << 13
	r.s ^= r.s >> 17
	r.s ^= r.s << 5
	return r.s
}

// intn returns a value in [0, n).
func (r *bytesRand) intn(n int) int { return int(r.next() % uint32(n)) }

// bytesShortReader returns p in random short reads, sometimes 0, nil, and
// sometimes the last bytes together with io.EOF.
type bytesShortReader struct {
	p       []byte
	rng     *bytesRand
	lastEOF bool // always return io.EOF with the last bytes
}

func (s *bytesShortReader) Read(b []byte) (int, error) {
	if len(s.p) == 0 {
		return 0, io.EOF
	}
	if s.rng.intn(16) == 0 {
		return 0, nil
	}
	n := copy(b, s.p[:1+s.rng.intn(len(s.p))])
	s.p = s.p[n:]
	if len(s.p) == 0 && (s.lastEOF || s.rng.intn(2) == 0) {
		return n, io.EOF
	}
	return n, nil
}

var errBytesStop = errors.New("stop")

// bytesStopWriter accepts budget bytes, checking them against the stream
// from *off, and then fails with errBytesStop.
type bytesStopWriter struct {
	budget int
	off    *int
	err    error
}

func (w *bytesStopWriter) Write(p []byte) (int, error) {
	n := min(len(p), w.budget)
	if w.err == nil && w.off != nil {
		w.err = bytesCheck(p[:n], *w.off)
		*w.off += n
	}
	w.budget -= n
	if w.budget == 0 {
		return n, errBytesStop
	}
	return n, nil
}

func mustBytes(t testing.TB, cfg BytesConfig, start uintptr) *Bytes {
	t.Helper()
	r, err := newBytes(cfg, start)
	if err != nil {
		t.Fatalf("newBytes(%+v): %v", cfg, err)
	}
	return r
}

// bytesWaitAsleep waits, boundedly, until a caller is parked on w with no
// wake-up pending: it has gone (back) to sleep, or is about to re-check the
// ring after taking the wake-up. Callers rely only on the blocked call not
// having returned, which holds either way.
func bytesWaitAsleep(t *testing.T, w *waitQueue) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for w.sleepers.Load() == 0 || len(w.token) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for a caller to park")
		}
		time.Sleep(time.Millisecond)
	}
}

// bytesNotYet fails if c already has a value: the call returned too early.
func bytesNotYet[T any](t *testing.T, c <-chan T, what string) {
	t.Helper()
	select {
	case v := <-c:
		t.Fatalf("%s returned %v before it could", what, v)
	default:
	}
}

type bytesResult struct {
	n   int
	p   []byte
	err error
}

func TestBytesConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg          BytesConfig
		cap, maxPeek int
		err          error
		only32       bool // needs a 32-bit int to fail
		big          bool // needs more RAM than a microcontroller has
	}{
		{cfg: BytesConfig{}, cap: DefaultCapacity, maxPeek: DefaultCapacity},
		{cfg: BytesConfig{Config: Config{Capacity: 2}, MaxPeek: 2}, cap: 2, maxPeek: 2},
		{cfg: BytesConfig{Config: Config{Capacity: 1000}}, cap: 1024, maxPeek: 1024},
		{cfg: BytesConfig{Config: Config{Capacity: 1000}, MaxPeek: 1024}, cap: 1024, maxPeek: 1024},
		{cfg: BytesConfig{Config: Config{Capacity: 1 << 16}}, cap: 1 << 16, maxPeek: DefaultMaxPeek, big: true},
		{cfg: BytesConfig{Config: Config{Capacity: 1 << 16}, MaxPeek: 9000}, cap: 1 << 16, maxPeek: 9000, big: true},
		{cfg: BytesConfig{Config: Config{Capacity: 64}, MaxPeek: 65}, err: ErrMaxPeek},
		{cfg: BytesConfig{Config: Config{Capacity: 64}, MaxPeek: -1}, err: ErrMaxPeek},
		{cfg: BytesConfig{Config: Config{Capacity: -1}}, err: ErrCapacity},
		{cfg: BytesConfig{Config: Config{Capacity: MaxCapacity + 1}}, err: ErrCapacity},
		// On 32-bit, capacity+MaxPeek would overflow int.
		{cfg: BytesConfig{Config: Config{Capacity: MaxCapacity}, MaxPeek: MaxCapacity}, err: ErrMaxPeek, only32: true},
	} {
		if tc.only32 && ^uint(0)>>32 != 0 || tc.big && bytesTinyGo {
			continue
		}
		r, err := NewBytes(tc.cfg)
		if err != tc.err {
			t.Errorf("NewBytes(%+v) error = %v; want %v", tc.cfg, err, tc.err)
			continue
		}
		if err != nil {
			if r != nil {
				t.Errorf("NewBytes(%+v) returned a ring with error %v", tc.cfg, err)
			}
			continue
		}
		if r.Cap() != tc.cap || r.MaxPeek() != tc.maxPeek || len(r.buf) != tc.cap+tc.maxPeek {
			t.Errorf("NewBytes(%+v): Cap %d MaxPeek %d len(buf) %d; want %d %d %d",
				tc.cfg, r.Cap(), r.MaxPeek(), len(r.buf), tc.cap, tc.maxPeek, tc.cap+tc.maxPeek)
		}
		if r.Buffered() != 0 || r.Available() != r.Cap() || r.Closed() {
			t.Errorf("NewBytes(%+v): Buffered %d Available %d Closed %v", tc.cfg, r.Buffered(), r.Available(), r.Closed())
		}
	}
}

func TestBytesArgumentErrors(t *testing.T) {
	r := mustBytes(t, BytesConfig{Config: Config{Capacity: 16}, MaxPeek: 8}, 0)
	ctx := context.Background()
	r.TryWrite([]byte("0123456789abcdef"))
	if v, err := r.Peek(ctx, -1); v != nil || err != ErrNegativeCount {
		t.Errorf("Peek(-1) = %q, %v; want ErrNegativeCount", v, err)
	}
	if v, err := r.Peek(ctx, 9); v != nil || err != ErrPeekTooLarge {
		t.Errorf("Peek(9) = %q, %v; want ErrPeekTooLarge", v, err)
	}
	for _, n := range []int{-1, 9, 1 << 30} {
		if v, ok := r.TryPeek(n); v != nil || ok {
			t.Errorf("TryPeek(%d) = %q, %v; want nil, false", n, v, ok)
		}
	}
	if n, err := r.Discard(-1); n != 0 || err != ErrNegativeCount {
		t.Errorf("Discard(-1) = %d, %v; want 0, ErrNegativeCount", n, err)
	}
	if r.Buffered() != 16 {
		t.Fatalf("Buffered = %d after failed calls; want 16", r.Buffered())
	}
	// Zero-length calls do nothing and never block.
	if n := r.TryWrite(nil); n != 0 {
		t.Errorf("TryWrite(nil) = %d", n)
	}
	if n, err := r.Write(nil); n != 0 || err != nil {
		t.Errorf("Write(nil) = %d, %v", n, err)
	}
	if n, err := r.Read(nil); n != 0 || err != nil {
		t.Errorf("Read(nil) = %d, %v", n, err)
	}
	if v, err := r.Peek(ctx, 0); len(v) != 0 || err != nil {
		t.Errorf("Peek(0) = %q, %v", v, err)
	}
	if n, err := r.Discard(0); n != 0 || err != nil {
		t.Errorf("Discard(0) = %d, %v", n, err)
	}
	// Discard stops at what is buffered.
	if n, err := r.Discard(100); n != 16 || err != nil {
		t.Errorf("Discard(100) = %d, %v; want 16, nil", n, err)
	}
}

// TestBytesMirror checks that every Peek of n <= MaxPeek bytes at every ring
// position, including those that straddle the end, sees the right bytes,
// whichever way they were written.
func TestBytesMirror(t *testing.T) {
	const size = 16
	fills := []string{"TryWrite", "split", "ReadFrom"}
	for _, st := range []uintptr{0, ^uintptr(0) - 20} {
		for _, maxPeek := range []int{size, 5, 1} {
			for _, fill := range fills {
				for s := 0; s < size; s++ {
					name := fmt.Sprintf("start=%#x/MaxPeek=%d/%s/at=%d", st, maxPeek, fill, s)
					r := mustBytes(t, BytesConfig{Config: Config{Capacity: size}, MaxPeek: maxPeek}, st)
					// Move both indices to ring position s.
					var junk [size]byte
					r.TryWrite(junk[:s])
					r.Discard(s)
					var p [size]byte
					bytesFill(p[:], s)
					switch fill {
					case "TryWrite":
						if n := r.TryWrite(p[:]); n != size {
							t.Fatalf("%s: TryWrite = %d", name, n)
						}
					case "split": // two writes, split at every point
						k := (s * 7) % size
						r.TryWrite(p[:k])
						r.TryWrite(p[k:])
					case "ReadFrom": // direct reads, which may land in the mirror
						rng := bytesRand{uint32(s + 1)}
						// The ring ends up full, so src must report io.EOF
						// with its last bytes or ReadFrom would wait for space.
						n, err := r.ReadFrom(&bytesShortReader{p: p[:], rng: &rng, lastEOF: true})
						if n != size || err != nil {
							t.Fatalf("%s: ReadFrom = %d, %v", name, n, err)
						}
					}
					// Check all views, consuming one byte at a time so the
					// views shrink with what is buffered.
					for off := s; off < s+size; off++ {
						buffered := s + size - off
						for n := 0; n <= maxPeek; n++ {
							v, ok := r.TryPeek(n)
							if ok != (n <= buffered) {
								t.Fatalf("%s: TryPeek(%d) with %d buffered: ok = %v", name, n, buffered, ok)
							}
							if !ok {
								continue
							}
							if len(v) != n || cap(v) != n {
								t.Fatalf("%s: TryPeek(%d) len %d cap %d", name, n, len(v), cap(v))
							}
							if err := bytesCheck(v, off); err != nil {
								t.Fatalf("%s: TryPeek(%d) at %d: %v", name, n, off, err)
							}
						}
						if d, _ := r.Discard(1); d != 1 {
							t.Fatalf("%s: Discard(1) = %d", name, d)
						}
					}
				}
			}
		}
	}
}

// TestBytesReadFromFull checks that ReadFrom, when src returns its last
// bytes with io.EOF, returns at once even though the ring is then full.
func TestBytesReadFromFull(t *testing.T) {
	r := mustBytes(t, BytesConfig{Config: Config{Capacity: 8}}, 0)
	n, err := r.ReadFrom(&bytesOneRead{p: []byte("abcdefgh")})
	if n != 8 || err != nil {
		t.Fatalf("ReadFrom = %d, %v; want 8, nil", n, err)
	}
	v, _ := r.TryPeek(8)
	if string(v) != "abcdefgh" {
		t.Fatalf("ring holds %q", v)
	}
}

// bytesOneRead returns p and io.EOF in one call.
type bytesOneRead struct{ p []byte }

func (o *bytesOneRead) Read(b []byte) (int, error) {
	n := copy(b, o.p)
	o.p = o.p[n:]
	if len(o.p) == 0 {
		return n, io.EOF
	}
	return n, nil
}

// TestBytesStreamExact checks, with a writer and a reader goroutine that mix
// every way to move bytes, that the reader sees exactly the stream the
// writer wrote, across index wrap-around.
func TestBytesStreamExact(t *testing.T) {
	total := bytesStreamLen()
	cfgs := []BytesConfig{
		{Config: Config{Capacity: 256}},                                     // MaxPeek = Cap
		{Config: Config{Capacity: 64}, MaxPeek: 16},                         // small mirror
		{Config: Config{Capacity: 1000, Spin: -1, Yield: -1}, MaxPeek: 100}, // park at once
	}
	if bytesTinyGo {
		cfgs[2].Capacity = 128
	}
	for _, st := range bytesStarts() {
		for ci, cfg := range cfgs {
			t.Run(fmt.Sprintf("%s/cfg%d", st.name, ci), func(t *testing.T) {
				r := mustBytes(t, cfg, st.start)
				seed := uint32(ci+1) * 2654435761
				werr := make(chan error, 1)
				rerr := make(chan error, 1)
				go func() { werr <- bytesStreamWriter(r, total, seed) }()
				go func() { rerr <- bytesStreamReader(r, total, seed^0x5bd1e995) }()
				deadline := time.NewTimer(60 * time.Second)
				defer deadline.Stop()
				for range 2 {
					select {
					case err := <-werr:
						if err != nil {
							t.Fatalf("writer: %v", err)
						}
					case err := <-rerr:
						if err != nil {
							t.Fatalf("reader: %v", err)
						}
					case <-deadline.C:
						t.Fatalf("timed out: Buffered %d, Closed %v", r.Buffered(), r.Closed())
					}
				}
			})
		}
	}
}

// bytesStreamWriter writes total bytes of the test stream in random chunks, by
// Write, TryWrite and ReadFrom, and then closes r.
func bytesStreamWriter(r *Bytes, total int, seed uint32) error {
	defer r.Close()
	rng := bytesRand{seed}
	maxChunk := 3 * r.Cap()
	buf := make([]byte, maxChunk)
	for off := 0; off < total; {
		n := min(1+rng.intn(maxChunk), total-off)
		p := buf[:n]
		bytesFill(p, off)
		switch rng.intn(3) {
		case 0:
			if w, err := r.Write(p); w != n || err != nil {
				return fmt.Errorf("Write(%d) = %d, %v", n, w, err)
			}
		case 1:
			for done := 0; done < n; {
				w := r.TryWrite(p[done:])
				if w == 0 {
					runtime.Gosched()
				}
				done += w
			}
		case 2:
			src := &bytesShortReader{p: p, rng: &rng}
			if w, err := r.ReadFrom(src); w != int64(n) || err != nil {
				return fmt.Errorf("ReadFrom(%d bytes) = %d, %v", n, w, err)
			}
		}
		off += n
	}
	return nil
}

// bytesStreamReader reads the test stream from r by Read, TryRead, Peek plus
// Discard and WriteTo, checking every byte, until io.EOF.
func bytesStreamReader(r *Bytes, total int, seed uint32) error {
	ctx := context.Background()
	rng := bytesRand{seed}
	maxChunk := 3 * r.Cap()
	buf := make([]byte, maxChunk)
	off := 0
	for {
		k := 1 + rng.intn(maxChunk)
		switch rng.intn(4) {
		case 0:
			n, err := r.Read(buf[:k])
			if err == io.EOF {
				return bytesCheckEOF(r, off, total)
			}
			if err != nil || n == 0 {
				return fmt.Errorf("Read = %d, %v", n, err)
			}
			if err := bytesCheck(buf[:n], off); err != nil {
				return fmt.Errorf("Read: %v", err)
			}
			off += n
		case 1:
			n := r.TryRead(buf[:k])
			if n == 0 {
				runtime.Gosched()
				continue
			}
			if err := bytesCheck(buf[:n], off); err != nil {
				return fmt.Errorf("TryRead: %v", err)
			}
			off += n
		case 2:
			k = 1 + rng.intn(r.MaxPeek())
			// A header first, then the whole frame, as a parser would.
			hdr, err := r.Peek(ctx, min(k, 2))
			if err == io.EOF {
				return bytesCheckEOF(r, off, total)
			}
			if err == nil {
				var frame []byte
				frame, err = r.Peek(ctx, k)
				if err == nil && (len(frame) != k || !bytes.Equal(frame[:len(hdr)], hdr)) {
					return fmt.Errorf("Peek(%d) = %d bytes, header %x vs %x", k, len(frame), frame[:len(hdr)], hdr)
				}
				hdr = frame
			}
			if err != nil && err != io.ErrUnexpectedEOF {
				return fmt.Errorf("Peek(%d): %v", k, err)
			}
			if err == io.ErrUnexpectedEOF && (!r.Closed() || off+len(hdr) != total) {
				return fmt.Errorf("Peek(%d) = %d bytes, ErrUnexpectedEOF at %d of %d", k, len(hdr), off, total)
			}
			if err := bytesCheck(hdr, off); err != nil {
				return fmt.Errorf("Peek(%d): %v", k, err)
			}
			if d, err := r.Discard(len(hdr)); d != len(hdr) || err != nil {
				return fmt.Errorf("Discard(%d) = %d, %v", len(hdr), d, err)
			}
			off += len(hdr)
		case 3:
			w := bytesStopWriter{budget: k, off: &off}
			n, err := r.WriteTo(&w)
			if w.err != nil {
				return fmt.Errorf("WriteTo: %v", w.err)
			}
			switch {
			case err == nil:
				if n > int64(k) {
					return fmt.Errorf("WriteTo = %d > budget %d", n, k)
				}
				return bytesCheckEOF(r, off, total)
			case err != errBytesStop || n != int64(k):
				return fmt.Errorf("WriteTo(budget %d) = %d, %v", k, n, err)
			}
		}
	}
}

func bytesCheckEOF(r *Bytes, off, total int) error {
	if off != total || !r.Closed() || r.Buffered() != 0 {
		return fmt.Errorf("EOF at %d of %d (Closed %v, Buffered %d)", off, total, r.Closed(), r.Buffered())
	}
	return nil
}

// TestBytesBlocking checks that blocking calls wait for the other side.
func TestBytesBlocking(t *testing.T) {
	ctx := context.Background()
	for _, st := range bytesStarts() {
		t.Run(st.name, func(t *testing.T) {
			r := mustBytes(t, BytesConfig{Config: Config{Capacity: 16, Spin: 2, Yield: 2}}, st.start)
			res := make(chan bytesResult, 1)

			// Read waits for data.
			go func() {
				p := make([]byte, 8)
				n, err := r.Read(p)
				res <- bytesResult{n, p[:n], err}
			}()
			bytesWaitAsleep(t, &r.notEmpty)
			bytesNotYet(t, res, "Read")
			r.TryWrite([]byte("abc"))
			if got := recvWithin(t, res); string(got.p) != "abc" || got.err != nil {
				t.Fatalf("Read = %q, %v; want abc", got.p, got.err)
			}

			// Peek(n) waits for n bytes, not for the first one.
			go func() {
				v, err := r.Peek(ctx, 10)
				res <- bytesResult{len(v), v, err}
			}()
			bytesWaitAsleep(t, &r.notEmpty)
			r.TryWrite([]byte("01234"))
			bytesWaitAsleep(t, &r.notEmpty) // woken, saw 5 bytes, parked again
			bytesNotYet(t, res, "Peek(10) with 5 bytes buffered")
			r.TryWrite([]byte("56789X"))
			if got := recvWithin(t, res); string(got.p) != "0123456789" || got.err != nil {
				t.Fatalf("Peek = %q, %v; want 0123456789", got.p, got.err)
			}
			r.Discard(11)

			// Write waits for space, a piece at a time.
			r.TryWrite(make([]byte, 16))
			go func() {
				n, err := r.Write([]byte("abcdefgh"))
				res <- bytesResult{n: n, err: err}
			}()
			bytesWaitAsleep(t, &r.notFull)
			bytesNotYet(t, res, "Write to a full ring")
			r.Discard(4)
			bytesWaitAsleep(t, &r.notFull) // wrote 4, parked again
			bytesNotYet(t, res, "Write with 4 of 8 bytes free")
			r.Discard(12)
			if got := recvWithin(t, res); got.n != 8 || got.err != nil {
				t.Fatalf("Write = %d, %v; want 8, nil", got.n, got.err)
			}
			p := make([]byte, 16)
			if n := r.TryRead(p); string(p[:n]) != "abcdefgh" {
				t.Fatalf("ring holds %q after Write; want abcdefgh", p[:n])
			}

			// WriteTo streams until Close.
			var sink bytes.Buffer
			go func() {
				n, err := r.WriteTo(&sink)
				res <- bytesResult{n: int(n), err: err}
			}()
			bytesWaitAsleep(t, &r.notEmpty)
			r.Write([]byte("hello, "))
			r.Write([]byte("world"))
			r.Close()
			if got := recvWithin(t, res); got.n != 12 || got.err != nil || sink.String() != "hello, world" {
				t.Fatalf("WriteTo = %d, %v, %q", got.n, got.err, sink.String())
			}
		})
	}
}

// TestBytesReadFromBlocks checks that ReadFrom waits for space and that
// the reader sees everything.
func TestBytesReadFromBlocks(t *testing.T) {
	r := mustBytes(t, BytesConfig{Config: Config{Capacity: 8, Spin: 1, Yield: 1}}, ^uintptr(0)-3)
	res := make(chan bytesResult, 1)
	src := make([]byte, 100)
	bytesFill(src, 0)
	go func() {
		n, err := r.ReadFrom(bytes.NewReader(src))
		res <- bytesResult{n: int(n), err: err}
	}()
	bytesWaitAsleep(t, &r.notFull)
	bytesNotYet(t, res, "ReadFrom into a full ring")
	var got bytes.Buffer
	p := make([]byte, 3)
	for got.Len() < len(src) {
		n, err := r.ReadContext(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		got.Write(p[:n])
	}
	if r := recvWithin(t, res); r.n != 100 || r.err != nil {
		t.Fatalf("ReadFrom = %d, %v; want 100, nil", r.n, r.err)
	}
	if err := bytesCheck(got.Bytes(), 0); err != nil {
		t.Fatal(err)
	}
}

// TestBytesContext checks that a done context unblocks each blocking call.
func TestBytesContext(t *testing.T) {
	r := mustBytes(t, BytesConfig{Config: Config{Capacity: 8, Spin: 2, Yield: 2}}, 0)
	calls := []struct {
		name  string
		full  bool // the call blocks on a full ring, not an empty one
		w     *waitQueue
		run   func(ctx context.Context) (int, error)
		wantN int
	}{
		{"ReadContext", false, &r.notEmpty, func(ctx context.Context) (int, error) {
			return r.ReadContext(ctx, make([]byte, 4))
		}, 0},
		{"Peek", false, &r.notEmpty, func(ctx context.Context) (int, error) {
			v, err := r.Peek(ctx, 4)
			return len(v), err
		}, 0},
		{"WriteContext", true, &r.notFull, func(ctx context.Context) (int, error) {
			return r.WriteContext(ctx, []byte("0123456789"))
		}, 2},
	}
	for _, c := range calls {
		r.Discard(r.Buffered())
		if c.full {
			r.TryWrite([]byte("abcdef"))
		}
		ctx, cancel := context.WithCancel(context.Background())
		res := make(chan bytesResult, 1)
		go func() {
			n, err := c.run(ctx)
			res <- bytesResult{n: n, err: err}
		}()
		bytesWaitAsleep(t, c.w)
		bytesNotYet(t, res, c.name)
		cancel()
		if got := recvWithin(t, res); got.n != c.wantN || got.err != context.Canceled {
			t.Fatalf("%s after cancel = %d, %v; want %d, context.Canceled", c.name, got.n, got.err, c.wantN)
		}
	}
	// A deadline works the same way.
	r.Discard(r.Buffered())
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if _, err := r.ReadContext(ctx, make([]byte, 1)); err != context.DeadlineExceeded {
		t.Fatalf("ReadContext with deadline: %v", err)
	}
}

// TestBytesClose checks that Close wakes both sides and that the reader
// drains before io.EOF.
func TestBytesClose(t *testing.T) {
	ctx := context.Background()
	cfg := BytesConfig{Config: Config{Capacity: 8, Spin: 2, Yield: 2}}

	t.Run("Read", func(t *testing.T) {
		r := mustBytes(t, cfg, 0)
		res := make(chan bytesResult, 1)
		go func() {
			n, err := r.Read(make([]byte, 4))
			res <- bytesResult{n: n, err: err}
		}()
		bytesWaitAsleep(t, &r.notEmpty)
		r.Close()
		if got := recvWithin(t, res); got.n != 0 || got.err != io.EOF {
			t.Fatalf("Read after Close = %d, %v; want 0, io.EOF", got.n, got.err)
		}
	})
	t.Run("Peek", func(t *testing.T) {
		r := mustBytes(t, cfg, ^uintptr(0)-1)
		res := make(chan bytesResult, 1)
		r.TryWrite([]byte("abc"))
		go func() {
			v, err := r.Peek(ctx, 6)
			res <- bytesResult{len(v), v, err}
		}()
		bytesWaitAsleep(t, &r.notEmpty)
		r.Close()
		if got := recvWithin(t, res); string(got.p) != "abc" || got.err != io.ErrUnexpectedEOF {
			t.Fatalf("Peek after Close = %q, %v; want abc, io.ErrUnexpectedEOF", got.p, got.err)
		}
		if v, err := r.Peek(ctx, 3); string(v) != "abc" || err != nil {
			t.Fatalf("Peek(3) after Close = %q, %v; want abc, nil", v, err)
		}
		r.Discard(3)
		if v, err := r.Peek(ctx, 1); v != nil || err != io.EOF {
			t.Fatalf("Peek on a drained closed ring = %q, %v; want io.EOF", v, err)
		}
	})
	t.Run("Write", func(t *testing.T) {
		r := mustBytes(t, cfg, 0)
		res := make(chan bytesResult, 1)
		r.TryWrite([]byte("12345"))
		go func() {
			n, err := r.Write([]byte("abcdef"))
			res <- bytesResult{n: n, err: err}
		}()
		bytesWaitAsleep(t, &r.notFull)
		r.Close()
		if got := recvWithin(t, res); got.n != 3 || got.err != ErrClosed {
			t.Fatalf("Write after Close = %d, %v; want 3, ErrClosed", got.n, got.err)
		}
		// The reader drains what was written, then sees io.EOF.
		p := make([]byte, 16)
		if n, err := r.Read(p); string(p[:n]) != "12345abc" || err != nil {
			t.Fatalf("Read after Close = %q, %v", p[:n], err)
		}
		if n, err := r.Read(p); n != 0 || err != io.EOF {
			t.Fatalf("Read after drain = %d, %v; want 0, io.EOF", n, err)
		}
		if n := r.TryWrite([]byte("x")); n != 0 {
			t.Fatalf("TryWrite after Close = %d", n)
		}
		if n, err := r.Write([]byte("x")); n != 0 || err != ErrClosed {
			t.Fatalf("Write after Close = %d, %v", n, err)
		}
		if n, err := r.ReadFrom(bytes.NewReader([]byte("x"))); n != 0 || err != ErrClosed {
			t.Fatalf("ReadFrom after Close = %d, %v", n, err)
		}
		r.Close() // idempotent
		if !r.Closed() {
			t.Fatal("Closed = false")
		}
	})
	t.Run("ReadFrom", func(t *testing.T) {
		r := mustBytes(t, cfg, 0)
		res := make(chan bytesResult, 1)
		go func() {
			n, err := r.ReadFrom(bytesEndless{})
			res <- bytesResult{n: int(n), err: err}
		}()
		bytesWaitAsleep(t, &r.notFull)
		r.Close()
		if got := recvWithin(t, res); got.n != 8 || got.err != ErrClosed {
			t.Fatalf("ReadFrom after Close = %d, %v; want 8, ErrClosed", got.n, got.err)
		}
	})
	t.Run("WriteTo", func(t *testing.T) {
		r := mustBytes(t, cfg, 0)
		res := make(chan bytesResult, 1)
		go func() {
			n, err := r.WriteTo(io.Discard)
			res <- bytesResult{n: int(n), err: err}
		}()
		bytesWaitAsleep(t, &r.notEmpty)
		r.Close()
		if got := recvWithin(t, res); got.n != 0 || got.err != nil {
			t.Fatalf("WriteTo after Close = %d, %v; want 0, nil", got.n, got.err)
		}
	})
}

// bytesEndless is an io.Reader of zeros that never ends.
type bytesEndless struct{}

func (bytesEndless) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestBytesMisbehavingPeers checks ReadFrom and WriteTo against readers
// and writers that break their contracts or fail.
func TestBytesMisbehavingPeers(t *testing.T) {
	r := mustBytes(t, BytesConfig{Config: Config{Capacity: 8}}, 0)
	if n, err := r.ReadFrom(bytesBadReader{n: 100}); n != 0 || err != errInvalidRead {
		t.Errorf("ReadFrom(too long) = %d, %v", n, err)
	}
	if n, err := r.ReadFrom(bytesBadReader{n: -1}); n != 0 || err != errInvalidRead {
		t.Errorf("ReadFrom(negative) = %d, %v", n, err)
	}
	if n, err := r.ReadFrom(bytesBadReader{}); n != 0 || err != io.ErrNoProgress {
		t.Errorf("ReadFrom(no progress) = %d, %v", n, err)
	}
	errBoom := errors.New("boom")
	if n, err := r.ReadFrom(bytesBadReader{n: 2, err: errBoom}); n != 2 || err != errBoom {
		t.Errorf("ReadFrom(error) = %d, %v; want 2, boom", n, err)
	}
	r.TryWrite([]byte("abcdef"))
	if n, err := r.WriteTo(bytesBadWriter{n: 100}); n != 0 || err != errInvalidWrite {
		t.Errorf("WriteTo(too long) = %d, %v", n, err)
	}
	if n, err := r.WriteTo(bytesBadWriter{n: 3}); n != 3 || err != io.ErrShortWrite {
		t.Errorf("WriteTo(short) = %d, %v; want 3, io.ErrShortWrite", n, err)
	}
	if n, err := r.WriteTo(bytesBadWriter{n: 1, err: errBoom}); n != 1 || err != errBoom {
		t.Errorf("WriteTo(error) = %d, %v; want 1, boom", n, err)
	}
	if r.Buffered() != 4 {
		t.Errorf("Buffered = %d; want 4", r.Buffered())
	}
}

type bytesBadReader struct {
	n   int
	err error
}

func (b bytesBadReader) Read([]byte) (int, error) { return b.n, b.err }

type bytesBadWriter struct {
	n   int
	err error
}

func (b bytesBadWriter) Write([]byte) (int, error) { return b.n, b.err }

// TestBytesNoAllocs checks the non-blocking paths and the blocking calls
// that need not wait.
func TestBytesNoAllocs(t *testing.T) {
	if bytesTinyGo {
		// TinyGo's AllocsPerRun always reports 0, and Skip needs
		// runtime.Goexit, which bare-metal TinyGo lacks.
		t.Log("AllocsPerRun is not implemented by TinyGo")
		return
	}
	r := mustBytes(t, BytesConfig{Config: Config{Capacity: 64}, MaxPeek: 16}, 0)
	ctx := context.Background()
	var p [24]byte
	bytesFill(p[:], 0)
	src := bytesOneRead{}
	sink := bytesStopWriter{}
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"TryWrite+TryRead", func() { r.TryWrite(p[:]); r.TryRead(p[:]) }},
		{"Write+Read", func() { r.Write(p[:]); r.Read(p[:]) }},
		{"Peek+Discard", func() {
			r.TryWrite(p[:])
			h, _ := r.Peek(ctx, 2)
			v, _ := r.Peek(ctx, int(h[0]%16))
			r.Discard(len(v))
			r.Discard(64)
		}},
		{"TryPeek", func() { r.TryWrite(p[:]); r.TryPeek(10); r.Discard(64) }},
		{"ReadFrom+WriteTo", func() {
			src.p = p[:]
			r.ReadFrom(&src)
			sink.budget = len(p)
			r.WriteTo(&sink)
		}},
		{"Buffered+Available", func() { _ = r.Buffered() + r.Available() }},
	} {
		if n := testing.AllocsPerRun(200, c.f); n != 0 {
			t.Errorf("%s: %v allocs per run; want 0", c.name, n)
		}
	}
}

// FuzzBytes runs a sequence of single-goroutine operations, decoded from
// the input, against a ring and a model (a plain byte queue) and checks
// that they agree on contents, sizes and errors.
//
// Input: byte 0 picks the capacity (1..64), byte 1 MaxPeek, byte 2 the
// start index; then pairs of (operation, argument).
func FuzzBytes(f *testing.F) {
	f.Add([]byte{4, 0, 0, 0, 10, 2, 4, 4, 6, 6, 3, 1, 20, 3, 20})
	f.Add([]byte{3, 5, 2, 0, 7, 2, 3, 0, 8, 4, 5, 5, 5, 6, 8})
	f.Add([]byte{6, 17, 1, 7, 60, 8, 30, 5, 17, 5, 18, 9, 0, 2, 100, 5, 3, 3, 9})
	f.Add([]byte{0, 0, 2, 0, 1, 4, 1, 5, 1, 6, 1, 9, 0, 5, 1, 8, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 3 {
			return
		}
		size := 1 << (in[0] % 7)
		maxPeek := int(in[1]) % (size + 1)
		start := []uintptr{0, ^uintptr(0) - 40, uintptr(uint64(1<<32 - 40))}[in[2]%3]
		r, err := newBytes(BytesConfig{Config: Config{Capacity: size, Spin: 1, Yield: 1}, MaxPeek: maxPeek}, start)
		if err != nil {
			t.Fatal(err)
		}
		size = r.Cap() // Config may round small capacities up
		if maxPeek == 0 {
			maxPeek = size
		}
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		var (
			model  []byte // what the ring should hold
			view   []byte // the last Peek view, valid until bytes are consumed
			closed bool
			next   int // stream offset of the next byte written
			buf    = make([]byte, 2*size+1)
		)
		check := func(op string, n int, err error, wantN int, wantErr error) {
			t.Helper()
			if n != wantN || err != wantErr {
				t.Fatalf("%s = %d, %v; want %d, %v", op, n, err, wantN, wantErr)
			}
		}
		checkView := func(op string, v []byte, n int) {
			t.Helper()
			if !bytes.Equal(v, model[:n]) {
				t.Fatalf("%s = %x; want %x", op, v, model[:n])
			}
		}
		write := func(k int) []byte {
			p := buf[:k]
			bytesFill(p, next)
			return p
		}
		wrote := func(n int) {
			model = append(model, buf[:n]...)
			next += n
		}
		consume := func(n int) {
			model = model[n:]
			if n > 0 {
				view = nil
			}
		}
		for ops := in[3:]; len(ops) >= 2; ops = ops[2:] {
			op, arg := ops[0], int(ops[1])
			free := size - len(model)
			k := arg % (2*size + 1)
			switch op % 10 {
			case 0: // TryWrite
				n := r.TryWrite(write(k))
				want := min(k, free)
				if closed {
					want = 0
				}
				check("TryWrite", n, nil, want, nil)
				wrote(n)
			case 1: // WriteContext that cannot wait
				n, err := r.WriteContext(cancelled, write(k))
				switch {
				case k == 0:
					check("WriteContext", n, err, 0, nil)
				case closed:
					check("WriteContext", n, err, 0, ErrClosed)
				case k > free:
					check("WriteContext", n, err, free, context.Canceled)
				default:
					check("WriteContext", n, err, k, nil)
				}
				wrote(n)
			case 2: // TryRead
				n := r.TryRead(buf[:k])
				check("TryRead", n, nil, min(k, len(model)), nil)
				checkView("TryRead", buf[:n], n)
				consume(n)
			case 3: // ReadContext that cannot wait
				n, err := r.ReadContext(cancelled, buf[:k])
				switch {
				case k == 0:
					check("ReadContext", n, err, 0, nil)
				case len(model) > 0:
					check("ReadContext", n, err, min(k, len(model)), nil)
				case closed:
					check("ReadContext", n, err, 0, io.EOF)
				default:
					check("ReadContext", n, err, 0, context.Canceled)
				}
				checkView("ReadContext", buf[:n], n)
				consume(n)
			case 4: // TryPeek, sometimes out of range
				k := arg % (maxPeek + 2)
				if arg >= 250 {
					k = 249 - arg
				}
				v, ok := r.TryPeek(k)
				want := k >= 0 && k <= maxPeek && k <= len(model)
				if ok != want {
					t.Fatalf("TryPeek(%d) ok = %v; want %v", k, ok, want)
				}
				if ok {
					checkView("TryPeek", v, k)
					view = v
				}
			case 5: // Peek that cannot wait
				k := arg % (maxPeek + 2)
				if arg >= 250 {
					k = 249 - arg
				}
				v, err := r.Peek(cancelled, k)
				switch {
				case k < 0:
					check("Peek", len(v), err, 0, ErrNegativeCount)
				case k > maxPeek:
					check("Peek", len(v), err, 0, ErrPeekTooLarge)
				case k <= len(model):
					check("Peek", len(v), err, k, nil)
					checkView("Peek", v, k)
					view = v
				case closed && len(model) == 0:
					check("Peek", len(v), err, 0, io.EOF)
				case closed:
					check("Peek", len(v), err, len(model), io.ErrUnexpectedEOF)
					checkView("Peek", v, len(model))
				default:
					check("Peek", len(v), err, 0, context.Canceled)
				}
			case 6: // Discard, sometimes negative
				if arg >= 250 {
					k = 249 - arg
				}
				n, err := r.Discard(k)
				if k < 0 {
					check("Discard", n, err, 0, ErrNegativeCount)
					break
				}
				check("Discard", n, err, min(k, len(model)), nil)
				consume(n)
			case 7: // ReadFrom, sized so it cannot wait
				if !closed && free == 0 {
					break
				}
				k = min(k, free)
				src := bytesOneRead{p: write(k)}
				n, err := r.ReadFrom(&src)
				if closed {
					check("ReadFrom", int(n), err, 0, ErrClosed)
					break
				}
				check("ReadFrom", int(n), err, k, nil)
				wrote(k)
			case 8: // WriteTo, with a budget it can meet without waiting
				if !closed {
					if len(model) == 0 {
						break
					}
					k = min(k, len(model))
				}
				off := next - len(model)
				w := bytesStopWriter{budget: k, off: &off}
				n, err := r.WriteTo(&w)
				if w.err != nil {
					t.Fatalf("WriteTo wrote wrong bytes: %v", w.err)
				}
				switch {
				case len(model) == 0:
					check("WriteTo", int(n), err, 0, nil)
				case k <= len(model):
					check("WriteTo", int(n), err, k, errBytesStop)
				default:
					check("WriteTo", int(n), err, len(model), nil)
				}
				consume(int(n))
			case 9: // Close, rarely
				if arg%8 == 0 {
					r.Close()
					closed = true
				}
			}
			if view != nil && !bytes.Equal(view, model[:len(view)]) {
				t.Fatalf("after op %d: Peek view changed to %x; want %x", op%10, view, model[:len(view)])
			}
			if r.Buffered() != len(model) || r.Available() != size-len(model) || r.Closed() != closed {
				t.Fatalf("after op %d: Buffered %d Available %d Closed %v; model holds %d, closed %v",
					op%10, r.Buffered(), r.Available(), r.Closed(), len(model), closed)
			}
		}
	})
}

// The benchmarks move a stream from a writer goroutine to a reader
// goroutine in fixed-size chunks, through a Bytes ring, through io.Pipe and
// through a buffered channel of recycled chunks, all holding 64 KiB.

const bytesBenchRing = 64 << 10

var bytesBenchChunks = []int{64, 4 << 10}

func BenchmarkBytesStream(b *testing.B) {
	for _, chunk := range bytesBenchChunks {
		b.Run(fmt.Sprintf("Bytes/%d", chunk), func(b *testing.B) { benchBytesRing(b, chunk) })
		b.Run(fmt.Sprintf("IoPipe/%d", chunk), func(b *testing.B) { benchBytesPipe(b, chunk) })
		b.Run(fmt.Sprintf("Chan/%d", chunk), func(b *testing.B) { benchBytesChan(b, chunk) })
	}
}

func benchBytesRing(b *testing.B, chunk int) {
	r, err := NewBytes(BytesConfig{Config: Config{Capacity: bytesBenchRing}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(chunk))
	n := b.N
	p := make([]byte, chunk)
	b.ResetTimer()
	go func() {
		p := make([]byte, chunk)
		for range n {
			r.Write(p)
		}
		r.Close()
	}()
	for {
		if _, err := r.Read(p); err != nil {
			break
		}
	}
}

func benchBytesPipe(b *testing.B, chunk int) {
	pr, pw := io.Pipe()
	b.ReportAllocs()
	b.SetBytes(int64(chunk))
	n := b.N
	p := make([]byte, chunk)
	b.ResetTimer()
	go func() {
		p := make([]byte, chunk)
		for range n {
			pw.Write(p)
		}
		pw.Close()
	}()
	for {
		if _, err := pr.Read(p); err != nil {
			break
		}
	}
}

func benchBytesChan(b *testing.B, chunk int) {
	depth := bytesBenchRing / chunk
	full := make(chan []byte, depth)
	free := make(chan []byte, depth)
	for range depth {
		free <- make([]byte, chunk)
	}
	b.ReportAllocs()
	b.SetBytes(int64(chunk))
	n := b.N
	p := make([]byte, chunk)
	b.ResetTimer()
	go func() {
		src := make([]byte, chunk)
		for range n {
			c := <-free
			copy(c, src)
			full <- c
		}
		close(full)
	}()
	for c := range full {
		copy(p, c)
		free <- c
	}
}

// BenchmarkBytesCopy moves a stream with io.Copy at both ends: ReadFrom
// reads straight into the ring and WriteTo writes straight out of it.
func BenchmarkBytesCopy(b *testing.B) {
	const chunk = 4 << 10
	r, err := NewBytes(BytesConfig{Config: Config{Capacity: bytesBenchRing}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(chunk)
	src := &io.LimitedReader{R: bytesEndless{}, N: int64(b.N) * chunk}
	b.ResetTimer()
	go func() {
		r.ReadFrom(src)
		r.Close()
	}()
	r.WriteTo(io.Discard)
}

// BenchmarkBytesFrames parses length-prefixed frames on one goroutine:
// Peek the header, Peek the frame, Discard it. The time includes refilling
// the ring with TryWrite whenever it has room for a frame.
func BenchmarkBytesFrames(b *testing.B) {
	for _, size := range []int{16, 256} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			r, err := NewBytes(BytesConfig{Config: Config{Capacity: 4 << 10}, MaxPeek: 512})
			if err != nil {
				b.Fatal(err)
			}
			frame := make([]byte, size)
			frame[0], frame[1] = byte(size>>8), byte(size)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				for r.Available() >= size {
					r.TryWrite(frame)
				}
				hdr, err := r.Peek(ctx, 2)
				if err != nil {
					b.Fatal(err)
				}
				n := int(hdr[0])<<8 | int(hdr[1])
				f, err := r.Peek(ctx, n)
				if err != nil || len(f) != n {
					b.Fatal(err)
				}
				r.Discard(n)
			}
		})
	}
}
