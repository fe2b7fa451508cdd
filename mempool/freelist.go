package mempool

import "sync"

// freeList is a bounded LIFO of idle buffers for one class: the backend under
// TinyGo (whose sync.Pool is an unbounded slice that never shrinks), in debug
// builds, and whenever Config.MaxIdle is set. Its capacity is fixed at New,
// so it never allocates.
type freeList struct {
	mu   sync.Mutex
	bufs []*Buf // len = idle buffers, cap = MaxIdle
}

func (f *freeList) get() *Buf {
	f.mu.Lock()
	n := len(f.bufs) - 1
	if n < 0 {
		f.mu.Unlock()
		return nil
	}
	b := f.bufs[n]
	f.bufs[n] = nil
	f.bufs = f.bufs[:n]
	f.mu.Unlock()
	return b
}

// put reports false, keeping nothing, if the list is full.
func (f *freeList) put(b *Buf) bool {
	f.mu.Lock()
	n := len(f.bufs)
	if n == cap(f.bufs) {
		f.mu.Unlock()
		return false
	}
	f.bufs = f.bufs[:n+1]
	f.bufs[n] = b
	f.mu.Unlock()
	return true
}
