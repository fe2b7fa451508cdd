//go:build !arm64 && !tinygo

package ringbuf

// cacheLine is the false-sharing granule on amd64, 386, arm, riscv64 and the
// other architectures Go supports here.
const cacheLine = 64

// defaultSpin is the default Config.Spin.
const defaultSpin = 16

// spinWaits: spinning calls wait Config.PollInterval between polls.
const spinWaits = true
