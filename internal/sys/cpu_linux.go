//go:build linux

package sys

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SetAffinity restricts the calling OS thread to the given CPUs. The caller
// must hold the thread with runtime.LockOSThread, or the Go scheduler may
// move the goroutine and leave the mask on a thread it later reuses.
func SetAffinity(cpus []int) error {
	var set unix.CPUSet
	for _, c := range cpus {
		if c < 0 || c >= len(set)*64 {
			return fmt.Errorf("sys: sched_setaffinity: cpu %d out of range [0,%d)", c, len(set)*64)
		}
		set.Set(c)
	}
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("sys: sched_setaffinity: %w", err)
	}
	return nil
}

// Getcpu returns the CPU and NUMA node the calling thread is running on.
// The answer may be stale as soon as it returns unless the thread is pinned.
func Getcpu() (cpu, node int, err error) {
	var c, n uint32
	_, _, e := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&c)), uintptr(unsafe.Pointer(&n)), 0)
	if e != 0 {
		return -1, -1, fmt.Errorf("sys: getcpu: %w", e)
	}
	return int(c), int(n), nil
}

// Gettid returns the id of the calling OS thread.
func Gettid() int { return unix.Gettid() }
