//go:build !unix

package fctest

import "os/exec"

func setProcAttrs(*exec.Cmd) {}

func killProcess(cmd *exec.Cmd) error { return cmd.Process.Kill() }
