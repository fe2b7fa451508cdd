// Package edgekit is the root of the edgekit SDK for edge gateways. It holds
// no code of its own: import the package you need.
//
//   - [github.com/edgekit/edgekit/ringbuf]: lock-free bounded queues (SPSC,
//     MPSC, MPMC, lossy, byte rings) with batch and blocking operations.
//   - [github.com/edgekit/edgekit/mempool]: size-classed, reference-counted
//     buffers owned by their user.
//
// The repository's tests here check the module's layering rules: which
// packages may import the kernel interface, and which must stay portable to
// TinyGo.
package edgekit
