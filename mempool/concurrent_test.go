package mempool_test

import (
	"runtime"
	"sync"
	"testing"

	"github.com/edgekit/edgekit/mempool"
)

// TestConcurrentRelease has many goroutines drop the references of one
// buffer at once; exactly one of them must return it.
func TestConcurrentRelease(t *testing.T) {
	holders, rounds := 32, 200
	if !bigTests {
		holders, rounds = 2, 10
	}
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			p := newPool(t, be.cfg)
			var wg sync.WaitGroup
			var bad sync.Once
			ins := make([]chan *mempool.Buf, holders)
			for i := range ins {
				ins[i] = make(chan *mempool.Buf, 1)
				go func(in <-chan *mempool.Buf) {
					for b := range in {
						if b.B[0] != byte(len(b.B)) { // holders only read
							bad.Do(func() { t.Error("holder saw another round's buffer") })
						}
						b.Release()
						wg.Done()
					}
				}(ins[i])
			}
			for r := 0; r < rounds; r++ {
				b := p.Get(1 + r%200)
				b.B[0] = byte(len(b.B))
				for i := 1; i < holders; i++ {
					b.Retain()
				}
				wg.Add(holders)
				for _, in := range ins {
					in <- b
				}
				wg.Wait()
				if s := p.Stats().Total; s.Puts != uint64(r+1) || s.Outstanding != 0 {
					t.Fatalf("round %d: %+v; want exactly one Put per round", r, s)
				}
			}
			for _, in := range ins {
				close(in)
			}
		})
	}
}

// xorshift is a tiny deterministic generator, one per goroutine.
type xorshift uint32

func (x *xorshift) next() uint32 {
	v := uint32(*x)
	v ^= v << 13
	v ^= v >> 17
	v ^= v << 5
	*x = xorshift(v)
	return v
}

// fill and check give each buffer a pattern unique to its holder, so two
// goroutines handed the same memory at once are caught.
func fill(b []byte, tag uint32) {
	for i := range b {
		b[i] = byte(tag + uint32(i)*7)
	}
}

func intact(b []byte, tag uint32) bool {
	for i := range b {
		if b[i] != byte(tag+uint32(i)*7) {
			return false
		}
	}
	return true
}

// TestStress runs owners that keep a few buffers each and a fan-out stage in
// which one producer shares buffers with several readers; run it with -race.
func TestStress(t *testing.T) {
	workers, ops, readers, maxSize := 6, 2000, 4, 2048
	if !bigTests {
		workers, ops, readers, maxSize = 1, 200, 2, 256
	}
	if testing.Short() {
		ops /= 4
	}
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			cfg := be.cfg
			cfg.MaxSize = maxSize
			p := newPool(t, cfg)
			var wg sync.WaitGroup
			errs := make(chan string, workers+readers+1)

			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					rng := xorshift(uint32(w)*2654435761 + 1)
					type held struct {
						b   *mempool.Buf
						tag uint32
					}
					var hs [4]held
					for i := 0; i < ops; i++ {
						slot := &hs[rng.next()%uint32(len(hs))]
						if slot.b != nil {
							if !intact(slot.b.B, slot.tag) {
								errs <- "buffer changed while held"
								return
							}
							p.Put(slot.b)
							slot.b = nil
							continue
						}
						n := int(rng.next() % uint32(maxSize+maxSize/4)) // some oversize
						slot.b, slot.tag = p.Get(n), rng.next()
						if len(slot.b.B) != n {
							errs <- "wrong length"
							return
						}
						fill(slot.b.B, slot.tag)
						if i%64 == 0 {
							runtime.Gosched()
						}
					}
					for _, h := range hs {
						if h.b != nil {
							p.Put(h.b)
						}
					}
				}(w)
			}

			// Fan-out: encode once, hand the same Buf to every reader.
			chans := make([]chan *mempool.Buf, readers)
			for r := range chans {
				chans[r] = make(chan *mempool.Buf, 8)
				wg.Add(1)
				go func(in <-chan *mempool.Buf) {
					defer wg.Done()
					for b := range in {
						if !intact(b.B, uint32(len(b.B))) {
							errs <- "shared buffer changed"
						}
						b.Release()
					}
				}(chans[r])
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := xorshift(99)
				for i := 0; i < ops/4; i++ {
					n := int(rng.next() % uint32(maxSize))
					b := p.Get(n)
					fill(b.B, uint32(n))
					for range chans[1:] {
						b.Retain()
					}
					for _, c := range chans {
						c <- b
					}
				}
				for _, c := range chans {
					close(c)
				}
			}()

			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
			if n := p.CheckLeaks(t); n != 0 {
				t.Errorf("%d buffers leaked", n)
			}
			s := p.Stats()
			if s.Total.Gets != s.Total.Puts {
				t.Errorf("totals %+v: Gets != Puts", s.Total)
			}
			if s.Total.Allocs > s.Total.Gets {
				t.Errorf("totals %+v: more allocations than Gets", s.Total)
			}
		})
	}
}
