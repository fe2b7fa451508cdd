//go:build !linux

package sys

import (
	"errors"
	"fmt"
	"runtime"
)

// Epoll is not supported on this platform.
type Epoll struct{}

// EpollReady is one readiness event.
type EpollReady struct {
	Key    uint32
	Hangup bool
}

// NewEpoll is not supported on this platform.
func NewEpoll(maxEvents int) (*Epoll, error) {
	return nil, fmt.Errorf("sys: epoll on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func (e *Epoll) Add(fd int, key uint32) error   { return errors.ErrUnsupported }
func (e *Epoll) Rearm(fd int, key uint32) error { return errors.ErrUnsupported }
func (e *Epoll) Remove(fd int) error            { return errors.ErrUnsupported }
func (e *Epoll) Close() error                   { return nil }
func (e *Epoll) Wait(dst []EpollReady, msec int) ([]EpollReady, error) {
	return dst, errors.ErrUnsupported
}

// ReadNonblock is not supported on this platform.
func ReadNonblock(fd int, p []byte) (int, bool, error) { return 0, false, errors.ErrUnsupported }
