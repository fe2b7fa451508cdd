//go:build unix

package broker

import (
	"syscall"
	"testing"
)

// raiseNoFile lifts RLIMIT_NOFILE to at least n, or skips the test.
func raiseNoFile(t *testing.T, n uint64) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Skip("getrlimit:", err)
	}
	if rl.Cur >= n {
		return
	}
	if rl.Max < n {
		rl.Max = n
	}
	rl.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Skipf("cannot raise RLIMIT_NOFILE to %d: %v", n, err)
	}
}

// raiseNoFileMax lifts the soft RLIMIT_NOFILE to the hard limit.
func raiseNoFileMax() {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		rl.Cur = rl.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
}
