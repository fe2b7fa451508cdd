//go:build edgekit_debug

package mempool

import (
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// debugEnabled turns on misuse detection: -tags edgekit_debug.
const debugEnabled = true

const (
	stackDepth = 16
	maxLeaks   = 20 // leaks reported one by one by CheckLeaks
)

// bufDebug records where a Buf was got and released.
type bufDebug struct {
	poisoned bool // B[:cap] was filled with Poison at release
	getN     uint8
	relN     uint8
	getPCs   [stackDepth]uintptr
	relPCs   [stackDepth]uintptr
}

// poolDebug tracks the buffers a Pool has handed out.
type poolDebug struct {
	mu   sync.Mutex
	live map[*Buf]struct{}
}

// misuseError is the panic value of a detected misuse; it wraps ErrReleased
// or ErrWrittenAfterRelease and carries the stacks involved.
type misuseError struct {
	err    error
	detail string
}

func (e *misuseError) Error() string { return e.err.Error() + "\n" + e.detail }
func (e *misuseError) Unwrap() error { return e.err }

func (p *Pool) debugGet(b *Buf) {
	b.dbg.getN = uint8(runtime.Callers(2, b.dbg.getPCs[:]))
	b.dbg.relN = 0
	p.dbg.mu.Lock()
	if p.dbg.live == nil {
		p.dbg.live = make(map[*Buf]struct{})
	}
	p.dbg.live[b] = struct{}{}
	p.dbg.mu.Unlock()
}

func (p *Pool) debugRelease(b *Buf) {
	b.dbg.relN = uint8(runtime.Callers(2, b.dbg.relPCs[:]))
	p.dbg.mu.Lock()
	delete(p.dbg.live, b)
	p.dbg.mu.Unlock()
}

func (p *Pool) debugPoison(b *Buf) {
	for i := range b.B {
		b.B[i] = Poison
	}
	b.dbg.poisoned = true
}

// debugCheckPoison runs when Get takes b from the free list.
func (p *Pool) debugCheckPoison(b *Buf) {
	if !b.dbg.poisoned {
		return
	}
	b.dbg.poisoned = false
	size := p.classes[b.class].size
	if cap(b.B) != size {
		panic(&misuseError{ErrWrittenAfterRelease, "B was reassigned after release; released at:\n" + formatStack(b.dbg.relPCs[:b.dbg.relN])})
	}
	buf := b.B[:size]
	for i, c := range buf {
		if c != Poison {
			panic(&misuseError{ErrWrittenAfterRelease, "byte " + strconv.Itoa(i) + " of a " + strconv.Itoa(size) +
				"-byte buffer is 0x" + strconv.FormatUint(uint64(c), 16) + ", not the poison 0x" +
				strconv.FormatUint(uint64(Poison), 16) + "; released at:\n" + formatStack(b.dbg.relPCs[:b.dbg.relN])})
		}
	}
}

func (b *Buf) debugMisuse() {
	panic(&misuseError{ErrReleased, "got at:\n" + formatStack(b.dbg.getPCs[:b.dbg.getN]) +
		"first released at:\n" + formatStack(b.dbg.relPCs[:b.dbg.relN])})
}

func (p *Pool) debugLeaks(t TB) int {
	t.Helper()
	p.dbg.mu.Lock()
	defer p.dbg.mu.Unlock()
	n := 0
	for b := range p.dbg.live {
		n++
		if n <= maxLeaks {
			t.Errorf("%s", "mempool: "+strconv.Itoa(cap(b.B))+"-byte buffer not released; got at:\n"+formatStack(b.dbg.getPCs[:b.dbg.getN]))
		}
	}
	if n > maxLeaks {
		t.Errorf("%s", "mempool: "+strconv.Itoa(n-maxLeaks)+" more buffers not released")
	}
	return n
}

// formatStack renders pcs like a panic trace, leaving out the frames of
// Pool and Buf methods. TinyGo records no stacks: runtime.Callers returns 0.
func formatStack(pcs []uintptr) string {
	if len(pcs) == 0 {
		return "\t(no stack)\n"
	}
	const self = "github.com/edgekit/edgekit/mempool."
	var sb strings.Builder
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, self+"(*Pool).") && !strings.HasPrefix(f.Function, self+"(*Buf).") {
			sb.WriteString(f.Function)
			sb.WriteString("\n\t")
			sb.WriteString(f.File)
			sb.WriteByte(':')
			sb.WriteString(strconv.Itoa(f.Line))
			sb.WriteByte('\n')
		}
		if !more {
			break
		}
	}
	return sb.String()
}
