//go:build !(tinygo && lm3s6965)

package main

import (
	"fmt"
	"os"
)

// main on the host only says how to build the firmware: the gateway logic is
// exercised by go test, and the firmware runs on a Cortex-M (or QEMU).
func main() {
	fmt.Fprintln(os.Stderr, "gateway-cortexm is firmware; build it with:\n"+
		"  tinygo build -gc=precise -target=<cortex-m4-qemu.json> -o fw.elf ./examples/gateway-cortexm\n"+
		"and run it under qemu-system-arm -machine lm3s6965evb (see README.md)")
	os.Exit(2)
}
