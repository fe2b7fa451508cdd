package sched

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
)

// Defaults for MemoryLimitConfig.
const (
	// DefaultHeadroom is the share of the cgroup limit left for memory the
	// Go runtime does not count against its limit or cannot return quickly:
	// cgo and C libraries, the page cache of files the process writes (it
	// is charged to the cgroup), kernel socket buffers.
	DefaultHeadroom = 0.10
	// DefaultMinHeadroom is the least headroom in bytes.
	DefaultMinHeadroom = 8 << 20
)

// MemoryLimitConfig configures ApplyMemoryLimit. The zero value leaves 10%
// of the limit (at least 8 MiB) as headroom and respects GOMEMLIMIT.
type MemoryLimitConfig struct {
	// Headroom is the fraction of the cgroup limit to keep below it, in
	// [0, 0.9]; 0 means DefaultHeadroom. Use a tiny positive value such as
	// 1e-9 for practically none.
	Headroom float64
	// MinHeadroom is the least headroom in bytes; 0 means
	// DefaultMinHeadroom, negative means none.
	MinHeadroom int64
	// Override sets the limit even when the GOMEMLIMIT environment variable
	// is set. By default an explicit GOMEMLIMIT wins.
	Override bool

	// Getenv and SetMemoryLimit replace os.Getenv and
	// debug.SetMemoryLimit, for tests; nil means the real ones.
	Getenv         func(string) string
	SetMemoryLimit func(int64) int64
}

// MemoryLimitResult reports what ApplyMemoryLimit did and why.
type MemoryLimitResult struct {
	Applied  bool
	Limit    int64 // the limit set, if Applied
	Previous int64 // the runtime's limit before (math.MaxInt64: none)
	Reason   string
}

// ApplyMemoryLimit sets the Go runtime's soft memory limit
// (debug.SetMemoryLimit) to l.Memory minus headroom, so the garbage
// collector works harder before the cgroup's OOM killer strikes. The Go
// runtime does not do this on its own. Nothing is set when there is no
// limit, when the limit minus headroom is not positive, or when GOMEMLIMIT
// is set and cfg.Override is false; the result says which.
func ApplyMemoryLimit(l Limits, cfg MemoryLimitConfig) (MemoryLimitResult, error) {
	getenv, set := cfg.Getenv, cfg.SetMemoryLimit
	if getenv == nil {
		getenv = os.Getenv
	}
	if set == nil {
		set = debug.SetMemoryLimit
	}
	frac := cfg.Headroom
	if frac == 0 {
		frac = DefaultHeadroom
	}
	if frac < 0 || frac > 0.9 || math.IsNaN(frac) {
		return MemoryLimitResult{}, fmt.Errorf("%w: Headroom %v; want 0..0.9", ErrConfig, cfg.Headroom)
	}
	minRoom := cfg.MinHeadroom
	if minRoom == 0 {
		minRoom = DefaultMinHeadroom
	}
	minRoom = max(minRoom, 0)
	res := MemoryLimitResult{Previous: set(-1)}
	if l.Memory <= 0 {
		res.Reason = "no cgroup memory limit found; runtime limit left alone"
		return res, nil
	}
	if v := getenv("GOMEMLIMIT"); v != "" && !cfg.Override {
		res.Reason = "GOMEMLIMIT=" + v + " is set and takes precedence over the cgroup limit of " + strconv.FormatInt(l.Memory, 10) + " bytes"
		return res, nil
	}
	room := max(int64(float64(l.Memory)*frac), minRoom)
	limit := l.Memory - room
	if limit <= 0 {
		res.Reason = "cgroup limit " + strconv.FormatInt(l.Memory, 10) + " bytes is smaller than the headroom " + strconv.FormatInt(room, 10)
		return res, nil
	}
	set(limit)
	res.Applied, res.Limit = true, limit
	res.Reason = "memory limit " + strconv.FormatInt(limit, 10) + " bytes = cgroup limit " + strconv.FormatInt(l.Memory, 10) +
		" (" + l.MemorySource + ") - headroom " + strconv.FormatInt(room, 10)
	return res, nil
}
