// Package sys is the only edgekit package that imports golang.org/x/sys/unix.
//
// Everything the platform packages (sched, numa, uring) need from the kernel
// goes through here. Linux implementations live in _linux.go files; every
// other platform gets a fallback that returns an error wrapping
// [errors.ErrUnsupported] with context, so callers can test for it with
// errors.Is and still compile everywhere.
package sys
