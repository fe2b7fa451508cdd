//go:build tinygo

package ringbuf

// cacheLine is zero under TinyGo: microcontrollers have one core and little
// RAM, so padding would only waste memory.
const cacheLine = 0
