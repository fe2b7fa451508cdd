//go:build !linux

package sys

import (
	"errors"
	"fmt"
	"runtime"
)

// Eventfd is not supported on this platform.
func Eventfd(nonblock bool) (int, error) {
	return -1, fmt.Errorf("sys: eventfd on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
