//go:build !linux

package sys

import (
	"errors"
	"fmt"
	"runtime"
)

// SetAffinity restricts the calling OS thread to the given CPUs. It is not
// supported on this platform.
func SetAffinity(cpus []int) error {
	return fmt.Errorf("sys: sched_setaffinity on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// Getcpu returns the CPU and NUMA node the calling thread is running on. It
// is not supported on this platform.
func Getcpu() (cpu, node int, err error) {
	return -1, -1, fmt.Errorf("sys: getcpu on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// Gettid returns the id of the calling OS thread; 0 on this platform.
func Gettid() int { return 0 }
