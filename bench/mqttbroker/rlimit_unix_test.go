//go:build unix

package mqttbrokerbench

import "syscall"

// raiseNoFileMax lifts the soft RLIMIT_NOFILE to the hard limit.
func raiseNoFileMax() {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		rl.Cur = rl.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
}
