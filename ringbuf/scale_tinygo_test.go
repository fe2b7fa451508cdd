//go:build tinygo

package ringbuf

// testItems is smaller on a microcontroller: 64 KB of RAM and an emulated CPU.
const testItems = 500
