//go:build linux

package numa

import (
	"fmt"
	"strconv"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/edgekit/edgekit/internal/sys"
)

// cpuSteerEBPF builds the eBPF twin of cpuSteerCBPF: r0 =
// bpf_get_smp_processor_id(), then the index of that CPU's socket.
func cpuSteerEBPF(cpus []int) asm.Instructions {
	insns := asm.Instructions{asm.FnGetSmpProcessorId.Call()}
	if !identityCPUs(cpus) {
		for i, c := range cpus {
			insns = append(insns, asm.JEq.Imm(asm.R0, int32(c), "cpu"+strconv.Itoa(i)))
		}
	}
	insns = append(insns, asm.Mod.Imm32(asm.R0, int32(len(cpus))), asm.Return())
	if !identityCPUs(cpus) {
		for i := range cpus {
			insns = append(insns, asm.Mov.Imm32(asm.R0, int32(i)).WithSymbol("cpu"+strconv.Itoa(i)), asm.Return())
		}
	}
	return insns
}

// attachCPUSteerEBPF loads the program as a socket filter and attaches it
// to fd's reuseport group. The kernel keeps its own reference, so our
// program handle is closed at once.
func attachCPUSteerEBPF(fd uintptr, cpus []int) error {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "edgekit_steer",
		Type:         ebpf.SocketFilter,
		License:      "Apache-2.0", // the helper it calls is not GPL-only
		Instructions: cpuSteerEBPF(cpus),
	})
	if err != nil {
		return fmt.Errorf("load reuseport eBPF program: %w", err)
	}
	defer prog.Close()
	return sys.AttachReuseportEBPF(fd, prog.FD())
}
