//go:build tinygo

package ringbuf

// Smaller on a microcontroller: 64 KB of RAM, 4 KB per goroutine stack and an
// emulated CPU.
const (
	testItems     = 300
	testProducers = 2
	testConsumers = 2
)
