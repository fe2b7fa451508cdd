//go:build !linux

package sys

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

func uringUnsupported(what string) error {
	return fmt.Errorf("sys: %s on %s: %w", what, runtime.GOOS, errors.ErrUnsupported)
}

// UringSetup is not supported on this platform.
func UringSetup(entries uint32, p *UringParams) (int, error) {
	return -1, uringUnsupported("io_uring_setup")
}

// UringEnter is not supported on this platform.
func UringEnter(fd int, toSubmit, minComplete, flags uint32) (int, error) {
	return 0, uringUnsupported("io_uring_enter")
}

// UringRegister is not supported on this platform.
func UringRegister(fd int, op uint32, arg unsafe.Pointer, nrArgs uint32) (int, error) {
	return 0, uringUnsupported("io_uring_register")
}

// UringMmap is not supported on this platform.
func UringMmap(fd int, offset int64, size int) ([]byte, error) {
	return nil, uringUnsupported("io_uring mmap")
}

// UringMmapAnon is not supported on this platform.
func UringMmapAnon(size int) ([]byte, error) {
	return nil, uringUnsupported("anonymous mmap")
}

// UringMunmap is not supported on this platform.
func UringMunmap(b []byte) error {
	return uringUnsupported("munmap")
}

// UringCloseFD is not supported on this platform.
func UringCloseFD(fd int) error {
	return uringUnsupported("close")
}

// UringEnterArg is not supported on this platform.
func UringEnterArg(fd int, toSubmit, minComplete, flags uint32, arg unsafe.Pointer, size uintptr) (int, error) {
	return 0, uringUnsupported("io_uring_enter")
}
