// Package mempool hands out size-classed, reference-counted byte buffers from
// a pool that belongs to its user.
//
// There is no package-level pool: a stack, a framer or a test creates a
// [Pool] with [New] and a [Config] (the zero Config gives classes of 64 B to
// 64 KiB in powers of two), gets a [*Buf] whose B holds exactly the requested
// number of bytes, and returns it with [Pool.Put] or [Buf.Release]:
//
//	p, err := mempool.New(mempool.Config{MaxSize: 16 << 10})
//	if err != nil { ... }
//	b := p.Get(n)            // len(b.B) == n, cap(b.B) == the class size; bytes not zeroed
//	n, err = conn.Read(b.B)
//	...
//	p.Put(b)                 // same as b.Release(); b must not be used afterwards
//
// # Fan-out
//
// A Buf carries an atomic reference count that starts at 1. To hand one
// encoded MQTT PUBLISH or CoAP notification to many writers without copies,
// call [Buf.Retain] once per extra holder; each holder calls [Buf.Release]
// when its write is done, and the last release returns the buffer to its
// pool. Holders that share a Buf must only read B.
//
// # Sizes
//
// Get(n) serves n from the smallest class that holds it. Requests above
// Config.MaxSize are allocated with make and never pooled, and a Buf whose B
// no longer has its class capacity (the user appended past it, or swapped
// the slice) is dropped on release rather than pooled, so a pool never holds
// a buffer bigger than its class (STYLE R19). Callers bound sizes read off
// the wire before calling Get (R11).
//
// # Backends
//
// With the gc toolchain each class is a sync.Pool, which frees idle buffers
// across garbage collections. Classes up to 4 KiB also keep a magazine of
// up to 4 idle buffers per P in front of it, which a goroutine reaches with
// preemption disabled (as sync.Pool reaches its own per-P slot) and no
// atomic read-modify-write: a Get+Put pair costs about as much as a bare
// sync.Pool Get+Put, class lookup and reference count included. The first
// Put on a P after a garbage collection empties that P's magazine. (Off
// under the race detector, which cannot see the pinning.) Under TinyGo, whose sync.Pool never frees
// anything, each class is a mutex-protected free list holding at most
// Config.MaxIdle idle buffers (default [DefaultMaxIdle]); setting MaxIdle
// selects that bounded free list with the gc toolchain too.
//
// # Statistics
//
// [Pool.Stats] always reports exact allocation and drop counts, which the hot
// path never touches. Counting every Get and Put costs two atomic adds per
// pair, about as much as the pool itself, so Gets, Puts and Outstanding are
// counted only when Config.CountOps is set (or in debug builds); the
// counters are striped per buffer so that goroutines do not contend on them.
// [Pool.CheckLeaks] uses them to fail a test that did not return its
// buffers.
//
// # Debug builds
//
// Building with -tags edgekit_debug turns on misuse detection: a release of a
// released Buf panics with the stacks of its Get and first release, released
// buffers are filled with [Poison] and checked on their next Get (a mismatch
// panics with [ErrWrittenAfterRelease]), and CheckLeaks lists each buffer not
// returned with the stack of its Get. Debug builds always count operations
// and use the bounded free list, so reuse is deterministic.
//
// The package imports no fmt, reflect or net and starts no goroutines; it
// builds with TinyGo.
package mempool
