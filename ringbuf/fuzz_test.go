package ringbuf

import (
	"testing"
)

// FuzzRing drives every ring with a sequence of operations decoded from the
// input, on one goroutine, and checks each result against a slice model.
// The first byte picks the ring and where its indices start (near 0, near
// 2^32 or near the top of uintptr); the second its capacity.
func FuzzRing(f *testing.F) {
	f.Add([]byte{0, 2, 0x01, 0x01, 0x01, 0x02, 0x03, 0x44, 0x85})
	f.Add([]byte{1, 3, 0x41, 0x42, 0x43, 0x84, 0x85, 0x01, 0xC2})
	f.Add([]byte{2, 1, 0x4F, 0x8F, 0x4F, 0x8F, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07})
	f.Add([]byte{5, 4, 0x47, 0x47, 0x47, 0x88, 0x02, 0x8F})
	f.Add([]byte{7, 0, 0xC1, 0x01, 0x01, 0xC3, 0xC3, 0x02})
	f.Add([]byte{11, 3, 0x4F, 0x02, 0x02, 0x4F, 0x82, 0x8F, 0x8F})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 2 {
			return
		}
		sel, capExp, ops := in[0], in[1]%6, in[2:]
		start := starts[int(sel/4)%len(starts)].start + uintptr(sel%7)
		cfg := Config{Capacity: 1 << capExp}
		if sel%4 == 3 {
			fuzzLossy(t, cfg, start, ops)
			return
		}
		k := kinds[int(sel%4)]
		q := mustMake(t, k, cfg, start)
		var model []int
		next, closed := 0, false
		buf := make([]int, 16)
		for _, op := range ops {
			n := int(op & 0x0F)
			switch op >> 6 {
			case 0: // single push or pop
				if op&1 == 0 {
					ok := q.TryPush(next)
					if ok != (!closed && len(model) < q.Cap()) {
						t.Fatalf("%s TryPush = %v with %d/%d queued", k.name, ok, len(model), q.Cap())
					}
					if ok {
						model = append(model, next)
						next++
					}
				} else {
					v, ok := q.TryPop()
					if ok != (len(model) > 0) || (ok && v != model[0]) {
						t.Fatalf("%s TryPop = %d, %v; model %v", k.name, v, ok, model)
					}
					if ok {
						model = model[1:]
					}
				}
			case 1: // batch push of n
				for i := range buf[:n] {
					buf[i] = next + i
				}
				got := q.TryPushBatch(buf[:n])
				want := min(n, q.Cap()-len(model))
				if closed {
					want = 0
				}
				if got != want {
					t.Fatalf("%s TryPushBatch(%d) = %d; want %d", k.name, n, got, want)
				}
				model = append(model, buf[:got]...)
				next += got
			case 2: // batch pop of n
				got := q.TryPopBatch(buf[:n])
				if want := min(n, len(model)); got != want {
					t.Fatalf("%s TryPopBatch(%d) = %d; want %d", k.name, n, got, want)
				}
				for i, v := range buf[:got] {
					if v != model[i] {
						t.Fatalf("%s TryPopBatch item %d = %d; want %d", k.name, i, v, model[i])
					}
				}
				model = model[got:]
			case 3: // close, then check push fails and pops still drain
				q.Close()
				closed = true
				if q.TryPush(-1) || q.TryPushBatch(buf[:1]) != 0 {
					t.Fatalf("%s: push after Close succeeded", k.name)
				}
			}
			if q.Len() != len(model) {
				t.Fatalf("%s Len = %d; model has %d", k.name, q.Len(), len(model))
			}
		}
	})
}

func fuzzLossy(t *testing.T, cfg Config, start uintptr, ops []byte) {
	var evicted []int
	l := &Lossy[int]{evicted: func(v int) { evicted = append(evicted, v) }}
	if err := l.r.init(cfg, start, false); err != nil {
		t.Fatal(err)
	}
	var model []int
	next, closed := 0, false
	for _, op := range ops {
		switch op >> 6 {
		case 0, 1:
			evicted = evicted[:0]
			d := l.Push(next)
			switch {
			case closed:
				if d != 1 || len(evicted) != 1 || evicted[0] != next {
					t.Fatalf("Push after Close dropped %d, %v", d, evicted)
				}
			case len(model) == l.Cap():
				if d != 1 || len(evicted) != 1 || evicted[0] != model[0] {
					t.Fatalf("Push into full ring dropped %d, %v; oldest %d", d, evicted, model[0])
				}
				model = append(model[1:], next)
			default:
				if d != 0 {
					t.Fatalf("Push with room dropped %d", d)
				}
				model = append(model, next)
			}
			next++
		case 2:
			v, ok := l.TryPop()
			if ok != (len(model) > 0) || (ok && v != model[0]) {
				t.Fatalf("Lossy TryPop = %d, %v; model %v", v, ok, model)
			}
			if ok {
				model = model[1:]
			}
		case 3:
			l.Close()
			closed = true
		}
		if l.Len() != len(model) {
			t.Fatalf("Lossy Len = %d; model has %d", l.Len(), len(model))
		}
	}
}
