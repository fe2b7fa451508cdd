//go:build tinygo || purego || !(amd64 || arm64)

package ringbuf

// spinPause burns about n short iterations: the portable stand-in for the
// CPU spin-wait hint. The Go compilers keep empty loops.
//
//go:noinline
func spinPause(n int) {
	for i := 0; i < n; i++ {
	}
}
