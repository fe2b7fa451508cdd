//go:build !unix

package testutil

import (
	"os"
	"os/exec"
)

// Without process groups, the peer's own process is all that is stopped.

func setProcessGroup(*exec.Cmd) {}

func terminate(p *os.Process) error { return p.Kill() }

func kill(p *os.Process) error { return p.Kill() }

func killGroupOrProcess(p *os.Process) error { return p.Kill() }

func killGroup(int) error { return nil }
