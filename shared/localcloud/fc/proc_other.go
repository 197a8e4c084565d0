//go:build !unix

package fc

import "os/exec"

func setProcAttrs(*exec.Cmd) {}

func killProcess(cmd *exec.Cmd) error { return cmd.Process.Kill() }
