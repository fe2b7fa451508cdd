//go:build tinygo

package ringbuf

// cacheLine is zero under TinyGo: microcontrollers have one core and little
// RAM, so padding would only waste memory.
const cacheLine = 0

// defaultSpin is the default Config.Spin. Spinning is useless there: the scheduler is
// cooperative, so the other side cannot move while we spin.
const defaultSpin = 0

// spinWaits is false: with a cooperative scheduler the other side cannot
// move while a call waits between polls, and the emulated clock need not
// advance either, so Config.PollInterval is ignored.
const spinWaits = false
