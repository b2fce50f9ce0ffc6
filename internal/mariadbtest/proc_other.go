//go:build !linux

package mariadbtest

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// setProcAttrs: without Pdeathsig a killed test binary may leave the server
// behind; Stop (via tb.Cleanup) still stops it in every normal case.
func setProcAttrs(cmd *exec.Cmd) {}

// processGone reports whether pid no longer exists.
func processGone(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return true
	}
	return errors.Is(p.Signal(syscall.Signal(0)), os.ErrProcessDone)
}
