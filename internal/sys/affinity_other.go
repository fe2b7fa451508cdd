//go:build !linux

package sys

import (
	"errors"
	"fmt"
	"runtime"
)

// AppendAffinity appends to dst the CPUs the calling OS thread may run on.
// It is not supported on this platform.
func AppendAffinity(dst []int) ([]int, error) {
	return dst, fmt.Errorf("sys: cpu affinity on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
