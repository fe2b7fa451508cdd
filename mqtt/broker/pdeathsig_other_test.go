//go:build !linux

package broker

import "os/exec"

func setPdeathsig(*exec.Cmd) {}
