//go:build linux

package mariadbtest

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// setProcAttrs makes the child die with SIGKILL when the thread that started
// it exits — in practice when the test binary dies, however it dies. The
// server is started from a goroutine locked to its OS thread for as long as
// the server runs (see Server.start), because Pdeathsig is tied to the
// creating thread, not the process (golang.org/issue/27505).
func setProcAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// processGone reports whether pid no longer exists (or is a zombie nobody has
// reaped yet, which happens when PID 1 of a container does not reap orphans).
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return os.IsNotExist(err)
	}
	// Format: pid (comm) state ...; comm may contain spaces and parens.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		st := s[i+2]
		return st == 'Z' || st == 'X'
	}
	return false
}
