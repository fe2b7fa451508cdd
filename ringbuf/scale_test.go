//go:build !tinygo

package ringbuf

// testItems is how many items each producer sends in concurrency tests.
const testItems = 20000
