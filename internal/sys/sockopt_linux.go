//go:build linux

package sys

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SetReusePort sets SO_REUSEPORT on the socket fd.
func SetReusePort(fd uintptr, on bool) error {
	v := 0
	if on {
		v = 1
	}
	if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, v); err != nil {
		return soptErr("setsockopt SO_REUSEPORT", err)
	}
	return nil
}

// SetIncomingCPU sets SO_INCOMING_CPU on the socket fd: since Linux 6.2 a
// reuseport group without a BPF program prefers the socket whose incoming CPU
// matches the CPU that received the packet.
func SetIncomingCPU(fd uintptr, cpu int) error {
	if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_INCOMING_CPU, cpu); err != nil {
		return soptErr("setsockopt SO_INCOMING_CPU", err)
	}
	return nil
}

// IncomingCPU reads SO_INCOMING_CPU of the socket fd: the CPU that last
// processed a packet for it (or the value set by SetIncomingCPU), -1 if none.
func IncomingCPU(fd uintptr) (int, error) {
	v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_INCOMING_CPU)
	if err != nil {
		return -1, soptErr("getsockopt SO_INCOMING_CPU", err)
	}
	return v, nil
}

// AttachReuseportCBPF attaches a classic BPF program to the reuseport group
// of the socket fd (SO_ATTACH_REUSEPORT_CBPF). The program's return value
// indexes the group's sockets in the order they were bound; an index out of
// range falls back to the kernel's hash. It needs no privilege.
func AttachReuseportCBPF(fd uintptr, prog []SockFilter) error {
	if len(prog) == 0 || len(prog) > 4096 {
		return fmt.Errorf("sys: SO_ATTACH_REUSEPORT_CBPF: %d instructions; want 1..4096", len(prog))
	}
	fp := unix.SockFprog{Len: uint16(len(prog)), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
	if err := unix.SetsockoptSockFprog(int(fd), unix.SOL_SOCKET, unix.SO_ATTACH_REUSEPORT_CBPF, &fp); err != nil {
		return soptErr("setsockopt SO_ATTACH_REUSEPORT_CBPF", err)
	}
	return nil
}

// AttachReuseportEBPF attaches the loaded eBPF program progFD (a socket
// filter or sk_reuseport program) to the reuseport group of the socket fd
// (SO_ATTACH_REUSEPORT_EBPF). The kernel keeps its own reference, so the
// caller may close progFD afterwards.
func AttachReuseportEBPF(fd uintptr, progFD int) error {
	if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ATTACH_REUSEPORT_EBPF, progFD); err != nil {
		return soptErr("setsockopt SO_ATTACH_REUSEPORT_EBPF", err)
	}
	return nil
}

// DetachReuseportBPF removes the program of the reuseport group of the
// socket fd (SO_DETACH_REUSEPORT_BPF).
func DetachReuseportBPF(fd uintptr) error {
	if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DETACH_REUSEPORT_BPF, 0); err != nil {
		return soptErr("setsockopt SO_DETACH_REUSEPORT_BPF", err)
	}
	return nil
}

// soptErr wraps a socket option error. ENOPROTOOPT means the kernel (or an
// emulator such as qemu-user, which passes unknown options through as
// unsupported) does not know the option: that is reported as unsupported.
func soptErr(what string, err error) error {
	if errors.Is(err, unix.ENOPROTOOPT) {
		return fmt.Errorf("sys: %s: %w (%w)", what, errors.ErrUnsupported, err)
	}
	return fmt.Errorf("sys: %s: %w", what, err)
}
