//go:build !arm64 && !tinygo

package ringbuf

// cacheLine is the false-sharing granule on amd64, 386, arm, riscv64 and the
// other architectures Go supports here.
const cacheLine = 64

// defaultSpin is the default Config.Spin.
const defaultSpin = 64
