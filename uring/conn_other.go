//go:build !linux

package uring

import (
	"errors"
	"fmt"
	"net"
	"runtime"
)

func newURingConn(uc *net.UDPConn, cfg *Config) (backend, error) {
	return nil, fmt.Errorf("uring: io_uring on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func newMmsgConn(uc *net.UDPConn, cfg *Config) (backend, error) {
	return nil, fmt.Errorf("uring: recvmmsg on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
