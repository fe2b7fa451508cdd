//go:build !linux

package mqttbrokerbench

import "os/exec"

func setPdeathsig(*exec.Cmd) {}
