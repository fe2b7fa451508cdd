//go:build !tinygo

package ringbuf

// Concurrency tests: items each producer sends, and how many producers and
// consumers the multi-producer and multi-consumer rings get.
const (
	testItems     = 20000
	testProducers = 4
	testConsumers = 3
)
