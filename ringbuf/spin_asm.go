//go:build !tinygo && !purego && (amd64 || arm64)

package ringbuf

// spinPause executes n CPU spin-wait hints (PAUSE on amd64, YIELD on arm64),
// giving the core's resources to its sibling and keeping a polling loop from
// flooding the cache line it polls.
//
//go:noescape
func spinPause(n int)
