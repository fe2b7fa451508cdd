//go:build unix

package testutil

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// setProcessGroup makes the command the leader of a new process group, so
// that signalling the group reaches the children it starts too, and where it
// can, has the peer killed if the test process dies.
func setProcessGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	setDeathSignal(cmd.SysProcAttr)
}

// terminate asks the peer's process group to exit.
func terminate(p *os.Process) error { return signalGroup(p.Pid, syscall.SIGTERM) }

// kill kills the peer's process group.
func kill(p *os.Process) error { return signalGroup(p.Pid, syscall.SIGKILL) }

// killGroupOrProcess is exec.Cmd.Cancel: kill the group.
func killGroupOrProcess(p *os.Process) error { return kill(p) }

// killGroup kills whatever is left in the process group pgid.
func killGroup(pgid int) error { return signalGroup(pgid, syscall.SIGKILL) }

func signalGroup(pgid int, sig syscall.Signal) error {
	if pgid <= 0 {
		return errors.New("testutil: no process group")
	}
	err := syscall.Kill(-pgid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}
