//go:build !tinygo

package mempool

import "sync"

// haveSyncPool reports whether sync.Pool frees idle objects (the gc
// toolchain's does, across garbage collections), making it the default
// backend.
const haveSyncPool = true

// sysPool is a class backed by sync.Pool. It holds *Buf, so Put does not
// allocate (staticcheck SA6002).
type sysPool struct{ p sync.Pool }

func (s *sysPool) get() *Buf {
	b, _ := s.p.Get().(*Buf)
	return b
}

func (s *sysPool) put(b *Buf) { s.p.Put(b) }
