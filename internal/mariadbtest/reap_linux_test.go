//go:build linux

package mariadbtest

import "syscall"

const prSetChildSubreaper = 36 // PR_SET_CHILD_SUBREAPER

// setSubreaper makes orphaned descendants be re-parented to this process
// instead of PID 1, so that reap can collect them. Some container init
// processes never reap orphans, which would leave zombies behind.
func setSubreaper(on bool) {
	v := uintptr(0)
	if on {
		v = 1
	}
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, v, 0)
}

// reap collects pid if it is an exited child of this process. It reports
// false while pid is a child that cannot be collected yet.
func reap(pid int) bool {
	var ws syscall.WaitStatus
	got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	return err != nil || got == pid // ECHILD: not (or no longer) our child
}
