//go:build tinygo

package bearer_test

// lossSends keeps the loss test within the 64 KB of the emulated Cortex-M4.
const lossSends = 100
