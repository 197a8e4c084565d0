package fc

import (
	"os/exec"
	"syscall"
)

// setProcAttrs puts the function in its own process group, so that a
// timeout kills everything it started, and has the kernel kill it when the
// process that started it dies (a devstack killed by a closed pipe or ^C
// leaves no function running).
func setProcAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killProcess(cmd *exec.Cmd) error {
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
