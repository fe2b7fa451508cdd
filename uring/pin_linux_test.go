package uring_test

import (
	"flag"
	"runtime"
	"syscall"
	"testing"
	"unsafe"
)

// pin locks the calling goroutine to its OS thread and that thread to one
// CPU, returning a function that undoes both. Filling and draining on the
// same CPU keeps skb frees local: a datagram freed on another CPU than the
// one that allocated it is handed back with an IPI (skb_attempt_defer_free),
// which in a VM costs a VM exit, and unpinned runs here varied up to 3x
// from round to round depending on where the scheduler put the reader.
func pin(tb testing.TB) func() {
	runtime.LockOSThread()
	var old, set [16]uint64
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(old), uintptr(unsafe.Pointer(&old))); e != 0 {
		runtime.UnlockOSThread()
		tb.Logf("sched_getaffinity: %v; not pinned", e)
		return func() {}
	}
	cpu := -1
	for i := len(old)*64 - 1; i >= 0 && cpu < 0; i-- {
		if old[i/64]&(1<<(i%64)) != 0 {
			cpu = i
		}
	}
	set[cpu/64] = 1 << (cpu % 64)
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(set), uintptr(unsafe.Pointer(&set))); e != 0 {
		runtime.UnlockOSThread()
		tb.Logf("sched_setaffinity: %v; not pinned", e)
		return func() {}
	}
	return func() {
		syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(old), uintptr(unsafe.Pointer(&old)))
		runtime.UnlockOSThread()
	}
}

// pinFlag pins the drain benchmarks to one CPU (see pin). Off by default:
// an unpinned Go program is the realistic case, and it lets the io_uring
// backend's kernel-side receive (task work on the thread that armed it)
// overlap with the reader on another CPU.
var pinFlag = flag.Bool("pin", false, "pin drain benchmarks to one CPU")

func maybePin(tb testing.TB) func() {
	if !*pinFlag {
		return func() {}
	}
	return pin(tb)
}
