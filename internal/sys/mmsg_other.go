//go:build !linux

package sys

import (
	"errors"
	"fmt"
	"runtime"
)

// Mmsghdr stands in for struct mmsghdr, which this platform lacks.
type Mmsghdr struct{}

// Recvmmsg is not supported on this platform.
func Recvmmsg(fd int, hs []Mmsghdr, flags int) (int, error) {
	return 0, fmt.Errorf("sys: recvmmsg on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// Sendmmsg is not supported on this platform.
func Sendmmsg(fd int, hs []Mmsghdr, flags int) (int, error) {
	return 0, fmt.Errorf("sys: sendmmsg on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// MmsgSockFamily is not supported on this platform.
func MmsgSockFamily(fd int) (int, error) {
	return 0, fmt.Errorf("sys: getsockname on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
