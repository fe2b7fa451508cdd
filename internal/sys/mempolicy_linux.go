//go:build linux

package sys

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mpolMaskWords is the size of the node masks passed to the kernel: 1024
// nodes, the kernel's MAX_NUMNODES ceiling.
const mpolMaskWords = 1024 / (8 * unsafe.Sizeof(uintptr(0)))

type mpolMask [mpolMaskWords]uintptr

func mpolMakeMask(nodes []int) (*mpolMask, error) {
	var m mpolMask
	bits := int(8 * unsafe.Sizeof(uintptr(0)))
	for _, n := range nodes {
		if n < 0 || n >= len(m)*bits {
			return nil, fmt.Errorf("sys: numa node %d out of range", n)
		}
		m[n/bits] |= 1 << (uint(n) % uint(bits))
	}
	return &m, nil
}

// mpolErr wraps a mempolicy errno, marking ENOSYS (a kernel built without
// CONFIG_NUMA) and EPERM (these calls are blocked by seccomp profiles such
// as Docker's default one, which allows them only with CAP_SYS_NICE) as
// unsupported.
func mpolErr(call string, e unix.Errno) error {
	switch e {
	case unix.ENOSYS:
		return fmt.Errorf("sys: %s: %w: kernel without NUMA support (%w)", call, errors.ErrUnsupported, e)
	case unix.EPERM:
		return fmt.Errorf("sys: %s: %w: blocked, for example by a seccomp profile (%w)", call, errors.ErrUnsupported, e)
	}
	return fmt.Errorf("sys: %s: %w", call, e)
}

// Mbind sets the NUMA memory policy mode (MPOLBind, ...) for the pages of b,
// which must be page-aligned (see AnonMap), restricted to nodes.
func Mbind(b []byte, mode int, nodes []int, flags int) error {
	if len(b) == 0 {
		return nil
	}
	m, err := mpolMakeMask(nodes)
	if err != nil {
		return err
	}
	var maskp, maxnode uintptr
	if len(nodes) > 0 {
		maskp, maxnode = uintptr(unsafe.Pointer(m)), uintptr(len(m))*8*unsafe.Sizeof(uintptr(0))
	}
	_, _, e := unix.Syscall6(unix.SYS_MBIND, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		uintptr(mode), maskp, maxnode, uintptr(flags))
	if e != 0 {
		return mpolErr("mbind", e)
	}
	return nil
}

// SetMempolicy sets the NUMA memory policy of the calling OS thread for
// future allocations. Hold the thread with runtime.LockOSThread.
func SetMempolicy(mode int, nodes []int) error {
	m, err := mpolMakeMask(nodes)
	if err != nil {
		return err
	}
	var maskp, maxnode uintptr
	if len(nodes) > 0 {
		maskp, maxnode = uintptr(unsafe.Pointer(m)), uintptr(len(m))*8*unsafe.Sizeof(uintptr(0))
	}
	_, _, e := unix.Syscall(unix.SYS_SET_MEMPOLICY, uintptr(mode), maskp, maxnode)
	if e != 0 {
		return mpolErr("set_mempolicy", e)
	}
	return nil
}

// PageNode returns the NUMA node that holds the page containing &b[0]
// (get_mempolicy with MPOL_F_NODE|MPOL_F_ADDR). The page must be touched.
func PageNode(b []byte) (int, error) {
	if len(b) == 0 {
		return -1, errors.New("sys: get_mempolicy: empty buffer")
	}
	const mpolFNode, mpolFAddr = 1, 2
	var node int32
	_, _, e := unix.Syscall6(unix.SYS_GET_MEMPOLICY, uintptr(unsafe.Pointer(&node)), 0, 0,
		uintptr(unsafe.Pointer(&b[0])), mpolFNode|mpolFAddr, 0)
	if e != 0 {
		return -1, mpolErr("get_mempolicy", e)
	}
	return int(node), nil
}

// AnonMap maps size bytes of private anonymous memory, page-aligned, for use
// with Mbind. Release it with AnonUnmap.
func AnonMap(size int) ([]byte, error) {
	if size <= 0 {
		return nil, fmt.Errorf("sys: mmap: size %d", size)
	}
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("sys: mmap %d bytes: %w", size, err)
	}
	return b, nil
}

// AnonUnmap releases memory from AnonMap.
func AnonUnmap(b []byte) error {
	if err := unix.Munmap(b); err != nil {
		return fmt.Errorf("sys: munmap: %w", err)
	}
	return nil
}
