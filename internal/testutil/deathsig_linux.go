package testutil

import "syscall"

// setDeathSignal has the kernel kill the peer if the test process dies
// without running its cleanups (a -timeout panic, a crash, os.Exit), which
// also voids the peer's Lifetime bound. Linux ties this to the thread that
// started the peer; the Go runtime ends a thread only when a goroutine locked
// to it exits, which tests that use peers do not do.
func setDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
