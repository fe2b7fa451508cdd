//go:build !linux

package sys

import (
	"errors"
	"fmt"
	"runtime"
)

func mpolUnsupported(what string) error {
	return fmt.Errorf("sys: %s on %s: %w", what, runtime.GOOS, errors.ErrUnsupported)
}

// Mbind sets the NUMA memory policy of b; not supported on this platform.
func Mbind(b []byte, mode int, nodes []int, flags int) error { return mpolUnsupported("mbind") }

// SetMempolicy sets the calling thread's NUMA policy; not supported on this
// platform.
func SetMempolicy(mode int, nodes []int) error { return mpolUnsupported("set_mempolicy") }

// PageNode returns the NUMA node of a page; not supported on this platform.
func PageNode(b []byte) (int, error) { return -1, mpolUnsupported("get_mempolicy") }

// AnonMap maps anonymous memory for Mbind; not supported on this platform.
func AnonMap(size int) ([]byte, error) { return nil, mpolUnsupported("anonymous mmap for mbind") }

// AnonUnmap releases memory from AnonMap; not supported on this platform.
func AnonUnmap(b []byte) error { return mpolUnsupported("munmap") }
