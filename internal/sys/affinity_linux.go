//go:build linux

package sys

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// AppendAffinity appends to dst the CPUs the calling OS thread may run on,
// in ascending order.
func AppendAffinity(dst []int) ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return dst, fmt.Errorf("sys: sched_getaffinity: %w", err)
	}
	for cpu := 0; cpu < len(set)*64; cpu++ {
		if set.IsSet(cpu) {
			dst = append(dst, cpu)
		}
	}
	return dst, nil
}
