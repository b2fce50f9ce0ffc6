//go:build !linux

package mariadbtest

func setSubreaper(on bool) {}
func reap(pid int) bool    { return true }
