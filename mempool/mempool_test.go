package mempool_test

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/edgekit/edgekit/mempool"
)

func newPool(t testing.TB, cfg mempool.Config) *mempool.Pool {
	t.Helper()
	p, err := mempool.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return p
}

// backend is a Config per backend. Tests must hold for both: with sync.Pool
// any idle buffer may vanish at any time (and the race detector drops a
// quarter of Puts on purpose), so only the free list makes allocation counts
// predictable.
type backend struct {
	name          string
	cfg           mempool.Config
	deterministic bool // Allocs and reuse are exactly predictable
}

func backends() []backend {
	return []backend{
		{"default", mempool.Config{CountOps: true}, !mempool.UsesSyncPoolByDefault},
		{"freelist", mempool.Config{MaxIdle: 4, CountOps: true}, true},
	}
}

// mustPanic runs f and checks that it panics with an error matching want. It
// returns the error's message.
func mustPanic(t *testing.T, want error, f func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok || !errors.Is(err, want) {
			t.Fatalf("panic value = %v; want an error matching %q", r, want)
		}
		msg = err.Error()
	}()
	f()
	return ""
}

type classCase struct {
	n       int
	wantCap int
	class   int // index in Stats.Classes, -1 for oversize
}

func TestClassSelection(t *testing.T) {
	const Ki = 1 << 10
	tests := []struct {
		name  string
		cfg   mempool.Config
		sizes []int // expected class sizes
		cases []classCase
	}{
		{
			name:  "default",
			cfg:   mempool.Config{},
			sizes: []int{64, 128, 256, 512, 1 * Ki, 2 * Ki, 4 * Ki, 8 * Ki, 16 * Ki, 32 * Ki, 64 * Ki},
			cases: []classCase{
				{math.MinInt, 64, 0},
				{-1, 64, 0},
				{0, 64, 0},
				{1, 64, 0},
				{63, 64, 0},
				{64, 64, 0},
				{65, 128, 1},
				{127, 128, 1},
				{128, 128, 1},
				{129, 256, 2},
				{1000, 1 * Ki, 4},
				{1 * Ki, 1 * Ki, 4},
				{1*Ki + 1, 2 * Ki, 5},
				{4 * Ki, 4 * Ki, 6},
				{4*Ki + 1, 8 * Ki, 7},
				{32 * Ki, 32 * Ki, 9},
				{32*Ki + 1, 64 * Ki, 10},
				{64*Ki - 1, 64 * Ki, 10},
				{64 * Ki, 64 * Ki, 10},
				{64*Ki + 1, 64*Ki + 1, -1},
				{1 << 20, 1 << 20, -1},
			},
		},
		{
			name:  "min1max4",
			cfg:   mempool.Config{MinSize: 1, MaxSize: 4},
			sizes: []int{1, 2, 4},
			cases: []classCase{
				{-5, 1, 0},
				{0, 1, 0},
				{1, 1, 0},
				{2, 2, 1},
				{3, 4, 2},
				{4, 4, 2},
				{5, 5, -1},
			},
		},
		{
			name:  "single",
			cfg:   mempool.Config{MinSize: 512, MaxSize: 512},
			sizes: []int{512},
			cases: []classCase{
				{0, 512, 0},
				{1, 512, 0},
				{512, 512, 0},
				{513, 513, -1},
			},
		},
		{
			name:  "maxonly",
			cfg:   mempool.Config{MaxSize: 256},
			sizes: []int{64, 128, 256},
			cases: []classCase{
				{64, 64, 0},
				{200, 256, 2},
				{257, 257, -1},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.CountOps = true
			for _, c := range tt.cases {
				if c.wantCap > maxTestAlloc {
					continue
				}
				t.Run(strconv.Itoa(c.n), func(t *testing.T) {
					p := newPool(t, cfg)
					b := p.Get(c.n)
					wantLen := max(c.n, 0)
					if len(b.B) != wantLen || cap(b.B) != c.wantCap {
						t.Fatalf("Get(%d): len %d cap %d; want len %d cap %d", c.n, len(b.B), cap(b.B), wantLen, c.wantCap)
					}
					if r := b.Refs(); r != 1 {
						t.Errorf("Get(%d): refs %d; want 1", c.n, r)
					}
					s := p.Stats()
					if len(s.Classes) != len(tt.sizes) {
						t.Fatalf("%d classes; want %d", len(s.Classes), len(tt.sizes))
					}
					for i, cs := range s.Classes {
						if cs.Size != tt.sizes[i] {
							t.Errorf("class %d size %d; want %d", i, cs.Size, tt.sizes[i])
						}
						want := uint64(0)
						if i == c.class {
							want = 1
						}
						if cs.Gets != want || cs.Outstanding != want || cs.Allocs != want {
							t.Errorf("class %d (%d B): %+v; want Gets, Outstanding, Allocs = %d", i, cs.Size, cs, want)
						}
					}
					over := uint64(0)
					if c.class < 0 {
						over = 1
					}
					if s.Oversize.Gets != over || s.Oversize.Allocs != over || s.Oversize.Size != 0 {
						t.Errorf("oversize: %+v; want Gets, Allocs = %d", s.Oversize, over)
					}
					p.Put(b)
					s = p.Stats()
					if s.Total.Puts != 1 || s.Total.Outstanding != 0 || s.Oversize.Drops != over || s.Total.Drops != over {
						t.Errorf("after Put: total %+v, oversize %+v; want 1 put, %d drop", s.Total, s.Oversize, over)
					}
				})
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		cfg  mempool.Config
		want error
	}{
		{mempool.Config{}, nil},
		{mempool.Config{MinSize: 1}, nil},
		{mempool.Config{MinSize: 1, MaxSize: mempool.MaxSizeLimit}, nil},
		{mempool.Config{MinSize: 4096}, nil},
		{mempool.Config{MaxSize: 64}, nil},
		{mempool.Config{MaxIdle: 1, CountOps: true}, nil},
		{mempool.Config{MinSize: 3}, mempool.ErrSizeNotPowerOfTwo},
		{mempool.Config{MinSize: -64}, mempool.ErrSizeNotPowerOfTwo},
		{mempool.Config{MaxSize: 1000}, mempool.ErrSizeNotPowerOfTwo},
		{mempool.Config{MaxSize: -1}, mempool.ErrSizeNotPowerOfTwo},
		{mempool.Config{MaxSize: math.MinInt}, mempool.ErrSizeNotPowerOfTwo},
		{mempool.Config{MinSize: 256, MaxSize: 128}, mempool.ErrSizeOrder},
		{mempool.Config{MinSize: 128 << 10}, mempool.ErrSizeOrder}, // above the default MaxSize
		{mempool.Config{MaxSize: 32}, mempool.ErrSizeOrder},        // below the default MinSize
		{mempool.Config{MaxIdle: -1}, mempool.ErrNegativeMaxIdle},
	}
	if strconv.IntSize == 64 {
		big := mempool.MaxSizeLimit
		big <<= 1 // at run time: the constant would overflow int on 32-bit targets
		tests = append(tests, struct {
			cfg  mempool.Config
			want error
		}{mempool.Config{MaxSize: big}, mempool.ErrSizeLimit})
	}
	for _, tt := range tests {
		p, err := mempool.New(tt.cfg)
		if err != tt.want {
			t.Errorf("New(%+v) error = %v; want %v", tt.cfg, err, tt.want)
			continue
		}
		if err != nil {
			if p != nil {
				t.Errorf("New(%+v) returned a Pool with error %v", tt.cfg, err)
			}
			if !strings.HasPrefix(err.Error(), "mempool: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			continue
		}
		if tt.cfg.MinSize > maxTestAlloc {
			continue
		}
		b := p.Get(10)
		if len(b.B) != 10 {
			t.Errorf("New(%+v).Get(10): len %d", tt.cfg, len(b.B))
		}
		p.Put(b)
	}
}

// TestStatsScript checks every counter after a scripted sequence.
func TestStatsScript(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			cfg := be.cfg
			cfg.MaxSize = 1024
			p := newPool(t, cfg)
			a := p.Get(10)   // class 64
			b := p.Get(100)  // class 128
			c := p.Get(128)  // class 128
			p.Put(a)         // pooled
			p.Put(b)         // pooled
			d := p.Get(64)   // class 64, may reuse a
			e := p.Get(2000) // oversize
			c.B = append(c.B[:cap(c.B)], 1)
			p.Put(c) // grown: dropped
			p.Put(e) // oversize: dropped
			_ = d    // outstanding

			s := p.Stats()
			if !s.Counting {
				t.Fatal("Counting = false with CountOps")
			}
			check := func(name string, got mempool.ClassStats, size int, gets, puts, out, drops uint64) {
				t.Helper()
				if got.Size != size || got.Gets != gets || got.Puts != puts || got.Outstanding != out || got.Drops != drops {
					t.Errorf("%s: %+v; want Size %d Gets %d Puts %d Outstanding %d Drops %d", name, got, size, gets, puts, out, drops)
				}
			}
			check("64", s.Classes[0], 64, 2, 1, 1, 0)
			check("128", s.Classes[1], 128, 2, 2, 0, 1)
			check("256", s.Classes[2], 256, 0, 0, 0, 0)
			check("oversize", s.Oversize, 0, 1, 1, 0, 1)
			check("total", s.Total, 0, 5, 4, 1, 2)

			// Allocs: class 128 had two buffers out at once; the grown one
			// was never pooled; the oversize Get always allocates.
			if s.Classes[1].Allocs != 2 || s.Oversize.Allocs != 1 {
				t.Errorf("allocs: class 128 %d, oversize %d; want 2, 1", s.Classes[1].Allocs, s.Oversize.Allocs)
			}
			if be.deterministic {
				if s.Classes[0].Allocs != 1 || s.Total.Allocs != 4 {
					t.Errorf("allocs: class 64 %d, total %d; want 1, 4 (free list reuses a for d)", s.Classes[0].Allocs, s.Total.Allocs)
				}
			} else if a0 := s.Classes[0].Allocs; a0 < 1 || a0 > 2 {
				t.Errorf("allocs: class 64 %d; want 1 or 2", a0)
			}
			p.Put(d)
			if s := p.Stats(); s.Total.Outstanding != 0 || s.Total.Puts != 5 {
				t.Errorf("after last Put: %+v", s.Total)
			}
		})
	}
}

func TestStatsWithoutCountOps(t *testing.T) {
	p := newPool(t, mempool.Config{MaxSize: 128})
	a, big := p.Get(1), p.Get(129)
	p.Put(a)
	p.Put(big)
	s := p.Stats()
	if mempool.DebugEnabled {
		if !s.Counting || s.Total.Gets != 2 {
			t.Fatalf("debug build: %+v; want exact counts", s)
		}
		return
	}
	if s.Counting || s.Total.Gets != 0 || s.Total.Puts != 0 || s.Total.Outstanding != 0 {
		t.Errorf("without CountOps: %+v; want op counts off", s)
	}
	if s.Total.Allocs != 2 || s.Total.Drops != 1 || s.Oversize.Drops != 1 {
		t.Errorf("without CountOps: %+v; allocs and drops must stay exact", s.Total)
	}
}

func TestGrownOrShrunkBufferDropped(t *testing.T) {
	tests := []struct {
		name string
		edit func(b []byte) []byte
		drop bool
	}{
		{"untouched", func(b []byte) []byte { return b }, false},
		{"resliced", func(b []byte) []byte { return append(b[:0], "within capacity"...) }, false},
		{"filled", func(b []byte) []byte { return b[:cap(b)] }, false},
		{"grown", func(b []byte) []byte { return append(b[:cap(b)], 'x') }, true},
		{"capped", func(b []byte) []byte { return b[:10:10] }, true},
		{"nil", func(b []byte) []byte { return nil }, true},
		{"foreign", func(b []byte) []byte { return make([]byte, 100, 256) }, false}, // same capacity: cannot be told apart
	}
	for _, be := range backends() {
		for _, tt := range tests {
			t.Run(be.name+"/"+tt.name, func(t *testing.T) {
				p := newPool(t, be.cfg)
				b := p.Get(200)
				b.B = tt.edit(b.B)
				p.Put(b)
				s := p.Stats().Classes[2] // 256
				want := uint64(0)
				if tt.drop {
					want = 1
				}
				if s.Drops != want || s.Puts != 1 {
					t.Errorf("class 256: %+v; want Drops %d Puts 1", s, want)
				}
				// Whatever was pooled must come back with the class capacity.
				for i := 0; i < 3; i++ {
					b := p.Get(256)
					if len(b.B) != 256 || cap(b.B) != 256 {
						t.Fatalf("Get(256) after %s: len %d cap %d", tt.name, len(b.B), cap(b.B))
					}
					defer p.Put(b)
				}
			})
		}
	}
}

func TestOversizeNeverPooled(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			cfg := be.cfg
			cfg.MaxSize = 256
			p := newPool(t, cfg)
			for i := 1; i <= 5; i++ {
				b := p.Get(300)
				if len(b.B) != 300 || cap(b.B) != 300 {
					t.Fatalf("Get(300): len %d cap %d", len(b.B), cap(b.B))
				}
				if i == 3 {
					b.B = nil // no capacity must look like a pooled class
				}
				p.Put(b)
				if s := p.Stats().Oversize; s.Allocs != uint64(i) || s.Drops != uint64(i) {
					t.Fatalf("round %d: oversize %+v; want Allocs = Drops = %d", i, s, i)
				}
			}
			if s := p.Stats(); s.Total.Allocs != 5 {
				t.Errorf("total allocs %d; oversize Gets must not touch the classes", s.Total.Allocs)
			}
		})
	}
}

func TestFreeListBound(t *testing.T) {
	p := newPool(t, mempool.Config{MaxIdle: 2, CountOps: true})
	var bs []*mempool.Buf
	for i := 0; i < 3; i++ {
		bs = append(bs, p.Get(100))
	}
	for _, b := range bs {
		p.Put(b)
	}
	s := p.Stats().Classes[1]
	if s.Allocs != 3 || s.Drops != 1 || s.Puts != 3 {
		t.Fatalf("after 3 Puts into a list of 2: %+v; want Allocs 3 Drops 1", s)
	}
	for i := range bs {
		bs[i] = p.Get(100)
	}
	if s := p.Stats().Classes[1]; s.Allocs != 4 {
		t.Fatalf("after 3 more Gets: %+v; want Allocs 4 (2 reused)", s)
	}
	if bs[0] == bs[1] || bs[0] == bs[2] || bs[1] == bs[2] {
		t.Fatal("free list handed out one buffer twice")
	}
	for _, b := range bs {
		p.Put(b)
	}
}

// TestRefcount retains k times, releases k+1 times, and checks that only the
// last release returns the buffer, exactly once.
func TestRefcount(t *testing.T) {
	for _, be := range backends() {
		for _, k := range []int{0, 1, 2, 7} {
			t.Run(be.name+"/"+strconv.Itoa(k), func(t *testing.T) {
				p := newPool(t, be.cfg)
				b := p.Get(50)
				for i := 0; i < k; i++ {
					b.Retain()
				}
				if r := b.Refs(); r != int32(k+1) {
					t.Fatalf("refs %d after %d Retains; want %d", r, k, k+1)
				}
				for i := 0; i <= k; i++ {
					if i%2 == 0 {
						b.Release()
					} else {
						p.Put(b) // Put is Release
					}
					s := p.Stats().Total
					wantPuts, wantOut := uint64(0), uint64(1)
					if i == k {
						wantPuts, wantOut = 1, 0
					}
					if s.Puts != wantPuts || s.Outstanding != wantOut {
						t.Fatalf("after release %d of %d: %+v; want Puts %d Outstanding %d", i+1, k+1, s, wantPuts, wantOut)
					}
				}
				if be.deterministic {
					// The buffer is idle in the free list: one more
					// release is detected.
					mustPanic(t, mempool.ErrReleased, b.Release)
					mustPanic(t, mempool.ErrReleased, b.Retain)
				}
				if s := p.Stats().Total; s.Puts != 1 || s.Drops != 0 {
					t.Fatalf("after misuse: %+v; want the buffer pooled once", s)
				}
			})
		}
	}
}

func TestReleaseOfReleasedPanics(t *testing.T) {
	// An oversize buffer is never pooled, so the Buf stays released and
	// the check is deterministic on every backend.
	p := newPool(t, mempool.Config{MaxSize: 64, CountOps: true})
	b := p.Get(65)
	b.Release()
	mustPanic(t, mempool.ErrReleased, b.Release)
	b2 := p.Get(65)
	p.Put(b2)
	mustPanic(t, mempool.ErrReleased, func() { p.Put(b2) })
	b3 := p.Get(65)
	b3.Release()
	mustPanic(t, mempool.ErrReleased, b3.Retain)
	if s := p.Stats().Oversize; s.Puts != 3 || s.Drops != 3 {
		t.Errorf("oversize %+v; want 3 puts, 3 drops, no double count", s)
	}
}

func TestPutNil(t *testing.T) {
	p := newPool(t, mempool.Config{CountOps: true})
	p.Put(nil)
	if s := p.Stats().Total; s.Puts != 0 {
		t.Errorf("Put(nil) counted: %+v", s)
	}
}

func TestPutReturnsToOwner(t *testing.T) {
	p1 := newPool(t, mempool.Config{CountOps: true})
	p2 := newPool(t, mempool.Config{CountOps: true})
	b := p1.Get(10)
	p2.Put(b)
	if s1, s2 := p1.Stats().Total, p2.Stats().Total; s1.Puts != 1 || s2.Puts != 0 {
		t.Errorf("Put on another pool: owner %+v, other %+v; want the owner to take it back", s1, s2)
	}
}

type fakeTB struct {
	errs []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	// Our messages use "%s" with one string argument; keep it simple.
	if format == "%s" && len(args) == 1 {
		if s, ok := args[0].(string); ok {
			f.errs = append(f.errs, s)
			return
		}
	}
	f.errs = append(f.errs, format)
}

func TestCheckLeaks(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			cfg := be.cfg
			cfg.MaxSize = 1024
			p := newPool(t, cfg)
			var tb fakeTB
			if n := p.CheckLeaks(&tb); n != 0 || len(tb.errs) != 0 {
				t.Fatalf("fresh pool: CheckLeaks = %d, %q", n, tb.errs)
			}
			a, b := p.Get(10), p.Get(2000) // oversize
			b.Retain()
			b.Release()
			if n := p.CheckLeaks(&tb); n != 2 || len(tb.errs) == 0 {
				t.Fatalf("2 buffers out: CheckLeaks = %d, %q", n, tb.errs)
			}
			for _, e := range tb.errs {
				if !strings.HasPrefix(e, "mempool: ") || !strings.Contains(e, "not released") {
					t.Errorf("leak report %q", e)
				}
			}
			p.Put(a)
			p.Put(b)
			tb.errs = nil
			if n := p.CheckLeaks(&tb); n != 0 || len(tb.errs) != 0 {
				t.Fatalf("all returned: CheckLeaks = %d, %q", n, tb.errs)
			}
		})
	}
	t.Run("uncounted", func(t *testing.T) {
		p := newPool(t, mempool.Config{})
		_ = p.Get(1)
		var tb fakeTB
		n := p.CheckLeaks(&tb)
		if mempool.DebugEnabled {
			if n != 1 {
				t.Errorf("debug build: CheckLeaks = %d; want 1", n)
			}
			return
		}
		if n != -1 || len(tb.errs) != 1 || !strings.Contains(tb.errs[0], "CountOps") {
			t.Errorf("without CountOps: CheckLeaks = %d, %q; want -1 and an error naming CountOps", n, tb.errs)
		}
	})
}
