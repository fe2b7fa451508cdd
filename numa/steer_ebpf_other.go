//go:build !linux

package numa

import (
	"errors"
	"fmt"
	"runtime"
)

func attachCPUSteerEBPF(fd uintptr, cpus []int) error {
	return fmt.Errorf("reuseport eBPF on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
