//go:build tinygo

package mempool

// haveSyncPool is false under TinyGo: its sync.Pool is an unbounded slice
// that never frees anything (tinygo src/sync/pool.go), so every class uses
// the bounded free list instead.
const haveSyncPool = false

// sysPool is never used under TinyGo; it takes no space.
type sysPool struct{}

func (*sysPool) get() *Buf  { return nil }
func (*sysPool) put(b *Buf) {}
