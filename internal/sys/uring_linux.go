//go:build linux

package sys

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// UringSetup calls io_uring_setup(2). The error is the raw errno
// (syscall.Errno), so callers can tell ENOSYS and EPERM (seccomp) apart.
func UringSetup(entries uint32, p *UringParams) (int, error) {
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(p)), 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// UringEnter calls io_uring_enter(2) without a signal mask. It may block
// (with UringEnterGetEvents and minComplete > 0), so it goes through the
// runtime's blocking-syscall path. The error is the raw errno.
func UringEnter(fd int, toSubmit, minComplete, flags uint32) (int, error) {
	n, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(fd), uintptr(toSubmit),
		uintptr(minComplete), uintptr(flags), 0, 0)
	if errno != 0 {
		return int(n), errno
	}
	return int(n), nil
}

// UringRegister calls io_uring_register(2). The error is the raw errno.
func UringRegister(fd int, op uint32, arg unsafe.Pointer, nrArgs uint32) (int, error) {
	n, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(fd), uintptr(op), uintptr(arg),
		uintptr(nrArgs), 0, 0)
	if errno != 0 {
		return int(n), errno
	}
	return int(n), nil
}

// UringMmap maps a region of an io_uring fd (UringOffSQRing, UringOffCQRing,
// UringOffSQEs), shared with the kernel and populated up front.
func UringMmap(fd int, offset int64, size int) ([]byte, error) {
	return unix.Mmap(fd, offset, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
}

// UringMmapAnon maps size bytes of zeroed, page-aligned anonymous memory
// outside the Go heap, for buffer rings and buffers the kernel writes into
// asynchronously.
func UringMmapAnon(size int) ([]byte, error) {
	return unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
}

// UringMunmap unmaps memory from UringMmap or UringMmapAnon.
func UringMunmap(b []byte) error {
	return unix.Munmap(b)
}

// UringCloseFD closes a ring or eventfd descriptor.
func UringCloseFD(fd int) error {
	return unix.Close(fd)
}

// UringEnterArg calls io_uring_enter(2) with an extended argument (flags
// should include UringEnterExtArg), typically a UringGeteventsArg whose Ts
// bounds the wait.
func UringEnterArg(fd int, toSubmit, minComplete, flags uint32, arg unsafe.Pointer, size uintptr) (int, error) {
	n, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(fd), uintptr(toSubmit),
		uintptr(minComplete), uintptr(flags), uintptr(arg), size)
	if errno != 0 {
		return int(n), errno
	}
	return int(n), nil
}
