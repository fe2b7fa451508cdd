package numa

import (
	"fmt"

	"github.com/edgekit/edgekit/internal/sys"
)

// AllocOnNode maps size bytes of anonymous memory (rounded up by the kernel
// to whole pages) whose pages the kernel must place on NUMA node node
// (mbind MPOL_BIND). Use it for the long-lived buffers of a worker pinned to
// that node; release them with FreeNodeMemory. The memory is not managed by
// the Go garbage collector and must not hold Go pointers.
//
// It returns an error wrapping errors.ErrUnsupported off Linux and on
// kernels without NUMA support.
func AllocOnNode(size, node int) ([]byte, error) {
	b, err := sys.AnonMap(size)
	if err != nil {
		return nil, fmt.Errorf("numa: alloc on node %d: %w", node, err)
	}
	if err := sys.Mbind(b, sys.MPOLBind, []int{node}, sys.MPOLMFStrict); err != nil {
		_ = sys.AnonUnmap(b)
		return nil, fmt.Errorf("numa: alloc on node %d: %w", node, err)
	}
	return b, nil
}

// FreeNodeMemory releases memory from AllocOnNode.
func FreeNodeMemory(b []byte) error {
	if err := sys.AnonUnmap(b); err != nil {
		return fmt.Errorf("numa: %w", err)
	}
	return nil
}

// NodeOf returns the NUMA node that holds the (touched) page at &b[0].
func NodeOf(b []byte) (int, error) {
	n, err := sys.PageNode(b)
	if err != nil {
		return -1, fmt.Errorf("numa: %w", err)
	}
	return n, nil
}

// PreferLocalMemory sets the calling thread's memory policy so that its
// future page faults are served from the node it runs on (MPOL_LOCAL). Call
// it on a pinned thread (see PinCPU); it affects memory first touched by this
// thread, such as buffers it allocates and fills, not the Go heap as a whole.
func PreferLocalMemory() error {
	if err := sys.SetMempolicy(sys.MPOLLocal, nil); err != nil {
		return fmt.Errorf("numa: prefer local memory: %w", err)
	}
	return nil
}

// ResetMemoryPolicy restores the calling thread's default memory policy.
func ResetMemoryPolicy() error {
	if err := sys.SetMempolicy(sys.MPOLDefault, nil); err != nil {
		return fmt.Errorf("numa: reset memory policy: %w", err)
	}
	return nil
}
