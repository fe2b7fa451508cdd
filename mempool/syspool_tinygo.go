//go:build tinygo

package mempool

import "sync/atomic"

// haveSyncPool is false under TinyGo: its sync.Pool is an unbounded slice
// that never frees anything (tinygo src/sync/pool.go), so every class uses
// the bounded free list instead.
const haveSyncPool = false

// magazines is false under TinyGo: the free list serves every class, and
// the declarations below only keep the shared code compiling.
const (
	magazines = false
	magCap    = 1
)

// sysPool is never used under TinyGo; it holds nothing.
type sysPool struct {
	mags  []mag
	epoch *atomic.Uint32
}

type mag struct {
	n     int
	epoch uint32
	bufs  [magCap]*Buf
}

func (*mag) drop(uint32) {}

func procPin() int { return 0 }
func procUnpin()   {}

func (*sysPool) init(int, *atomic.Uint32) {}
func (*sysPool) get() *Buf                { return nil }
func (*sysPool) put(*Buf)                 {}

func watchGC(*Pool, *atomic.Uint32) {}
