//go:build linux

package sys

import "golang.org/x/sys/unix"

// Eventfd creates a close-on-exec eventfd with a zero counter. With nonblock
// set, reads of a zero counter fail with EAGAIN, which is what the Go
// netpoller needs (os.NewFile registers a non-blocking fd with it).
func Eventfd(nonblock bool) (int, error) {
	flags := unix.EFD_CLOEXEC
	if nonblock {
		flags |= unix.EFD_NONBLOCK
	}
	return unix.Eventfd(0, flags)
}
