//go:build arm64 && !tinygo

package ringbuf

// cacheLine is the false-sharing granule on arm64: 128 bytes, because Apple
// and Neoverse cores prefetch adjacent 64-byte lines in pairs (the value
// golang.org/x/sys/cpu uses too).
const cacheLine = 128

// defaultSpin is the default Config.Spin.
const defaultSpin = 16

// spinWaits: spinning calls wait Config.PollInterval between polls.
const spinWaits = true
