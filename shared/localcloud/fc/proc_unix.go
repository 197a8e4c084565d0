//go:build unix && !linux

package fc

import (
	"os/exec"
	"syscall"
)

// setProcAttrs puts the function in its own process group, so that a
// timeout kills everything it started.
func setProcAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func killProcess(cmd *exec.Cmd) error {
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
