//go:build !edgekit_debug

package mempool

// debugEnabled is false without -tags edgekit_debug: the hooks below are
// empty and the calls to them are compiled out.
const debugEnabled = false

// bufDebug and poolDebug are empty here; Buf.dbg and Pool.dbg are used by
// the debug_on.go twins only.
//
//lint:ignore U1000 used only with -tags edgekit_debug (debug_on.go)
type bufDebug struct{}

//lint:ignore U1000 used only with -tags edgekit_debug (debug_on.go)
type poolDebug struct{}

func (p *Pool) debugGet(*Buf)         {}
func (p *Pool) debugRelease(*Buf)     {}
func (p *Pool) debugPoison(*Buf)      {}
func (p *Pool) debugCheckPoison(*Buf) {}
func (b *Buf) debugMisuse()           {}
func (p *Pool) debugLeaks(TB) int     { return 0 }
