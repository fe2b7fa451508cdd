package mempool

import "sync/atomic"

// Build facts for the external tests.
const (
	DebugEnabled = debugEnabled
	// UsesSyncPoolByDefault reports whether Config.MaxIdle == 0 selects
	// sync.Pool (gc toolchain, non-debug build) rather than the bounded
	// free list.
	UsesSyncPoolByDefault = haveSyncPool && !debugEnabled
)

// Refs returns b's reference count.
func (b *Buf) Refs() int32 { return atomic.LoadInt32(&b.refs) }
