//go:build edgekit_debug

package mempool_test

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/edgekit/edgekit/mempool"
)

// Debug builds use the free list, so a released buffer is the next one its
// class hands out: the detections below are deterministic.

// haveStacks is false under TinyGo, where runtime.Callers records nothing;
// the detections still work, without stacks.
func haveStacks() bool {
	var pcs [1]uintptr
	return runtime.Callers(0, pcs[:]) > 0
}

// wantStack checks that msg names each function in funcs, where stacks are
// recorded.
func wantStack(t *testing.T, msg string, funcs ...string) {
	t.Helper()
	if !haveStacks() {
		return
	}
	for _, f := range funcs {
		if !strings.Contains(msg, f) {
			t.Errorf("message lacks %q:\n%s", f, msg)
		}
	}
}

func TestDebugDoubleRelease(t *testing.T) {
	p := newPool(t, mempool.Config{})
	b := p.Get(100)
	releaseOnce(b)
	msg := mustPanic(t, mempool.ErrReleased, b.Release)
	for _, want := range []string{"got at:", "first released at:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("panic message lacks %q:\n%s", want, msg)
		}
	}
	wantStack(t, msg, "TestDebugDoubleRelease", "releaseOnce")
	if strings.Contains(msg, "mempool.(*Pool).Get") {
		t.Errorf("stack shows the pool's own frames:\n%s", msg)
	}
}

//go:noinline
func releaseOnce(b *mempool.Buf) { b.Release() }

func TestDebugDoublePutAfterRetain(t *testing.T) {
	p := newPool(t, mempool.Config{})
	b := p.Get(10)
	b.Retain()
	p.Put(b)
	p.Put(b)
	mustPanic(t, mempool.ErrReleased, func() { p.Put(b) })
	mustPanic(t, mempool.ErrReleased, b.Retain)
}

func TestDebugPoison(t *testing.T) {
	p := newPool(t, mempool.Config{})
	b := p.Get(100)
	copy(b.B, "secret")
	p.Put(b)
	if len(b.B) != cap(b.B) || !bytes.Equal(b.B, bytes.Repeat([]byte{mempool.Poison}, cap(b.B))) {
		t.Fatalf("released buffer not poisoned: % x", b.B[:8])
	}
	c := p.Get(100)
	if c != b {
		t.Fatal("free list did not hand the released buffer back")
	}
	if c.B[0] != mempool.Poison {
		t.Errorf("reused buffer starts with %#x; want the poison (bytes are not zeroed)", c.B[0])
	}
	p.Put(c)
}

func TestDebugWrittenAfterRelease(t *testing.T) {
	p := newPool(t, mempool.Config{})
	b := p.Get(100)
	stale := b.B
	p.Put(b)
	stale[99] = 'x' // use after release
	msg := mustPanic(t, mempool.ErrWrittenAfterRelease, func() { p.Get(120) })
	for _, want := range []string{"byte 99", "128-byte", "released at:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("panic message lacks %q:\n%s", want, msg)
		}
	}
	wantStack(t, msg, "TestDebugWrittenAfterRelease")
	// Other classes are unaffected.
	p.Put(p.Get(1000))
}

func TestDebugReassignedAfterRelease(t *testing.T) {
	p := newPool(t, mempool.Config{})
	b := p.Get(100)
	p.Put(b)
	b.B = make([]byte, 5) // use after release: the header, not the bytes
	mustPanic(t, mempool.ErrWrittenAfterRelease, func() { p.Get(100) })
}

func TestDebugCleanReuse(t *testing.T) {
	p := newPool(t, mempool.Config{MaxIdle: 2})
	for i := 0; i < 100; i++ {
		b := p.Get(i * 13)
		for j := range b.B {
			b.B[j] = byte(j)
		}
		b.Retain()
		b.Release()
		p.Put(b)
	}
	if n := p.CheckLeaks(t); n != 0 {
		t.Fatalf("CheckLeaks = %d", n)
	}
}

func TestDebugLeakStacks(t *testing.T) {
	p := newPool(t, mempool.Config{})
	leakOne(p)
	b := p.Get(2000)
	var tb fakeTB
	if n := p.CheckLeaks(&tb); n != 2 || len(tb.errs) != 2 {
		t.Fatalf("CheckLeaks = %d, %d reports; want 2, 2", n, len(tb.errs))
	}
	all := strings.Join(tb.errs, "\n")
	for _, want := range []string{"64-byte buffer not released", "2048-byte buffer not released", "got at:"} {
		if !strings.Contains(all, want) {
			t.Errorf("leak reports lack %q:\n%s", want, all)
		}
	}
	wantStack(t, all, "leakOne", "TestDebugLeakStacks")
	p.Put(b)
	tb.errs = nil
	if n := p.CheckLeaks(&tb); n != 1 || len(tb.errs) != 1 || !strings.Contains(tb.errs[0], "64-byte") {
		t.Errorf("after returning one: CheckLeaks = %d, %q", n, tb.errs)
	}
	wantStack(t, strings.Join(tb.errs, ""), "leakOne")
}

//go:noinline
func leakOne(p *mempool.Pool) { _ = p.Get(5) }
