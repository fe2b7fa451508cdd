//go:build !linux

package sys

import (
	"errors"
	"fmt"
	"runtime"
)

func sockoptUnsupported(what string) error {
	return fmt.Errorf("sys: %s on %s: %w", what, runtime.GOOS, errors.ErrUnsupported)
}

// SetReusePort sets SO_REUSEPORT; reuseport groups are Linux-only here.
func SetReusePort(fd uintptr, on bool) error { return sockoptUnsupported("SO_REUSEPORT groups") }

// SetIncomingCPU sets SO_INCOMING_CPU; not supported on this platform.
func SetIncomingCPU(fd uintptr, cpu int) error { return sockoptUnsupported("SO_INCOMING_CPU") }

// IncomingCPU reads SO_INCOMING_CPU; not supported on this platform.
func IncomingCPU(fd uintptr) (int, error) { return -1, sockoptUnsupported("SO_INCOMING_CPU") }

// AttachReuseportCBPF attaches a classic BPF reuseport program; not
// supported on this platform.
func AttachReuseportCBPF(fd uintptr, prog []SockFilter) error {
	return sockoptUnsupported("SO_ATTACH_REUSEPORT_CBPF")
}

// AttachReuseportEBPF attaches an eBPF reuseport program; not supported on
// this platform.
func AttachReuseportEBPF(fd uintptr, progFD int) error {
	return sockoptUnsupported("SO_ATTACH_REUSEPORT_EBPF")
}

// DetachReuseportBPF removes a reuseport program; not supported on this
// platform.
func DetachReuseportBPF(fd uintptr) error { return sockoptUnsupported("SO_DETACH_REUSEPORT_BPF") }
