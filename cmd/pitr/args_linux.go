package main

import "unsafe"

// overwriteArg writes 'x' over a[from:to] in place. On Linux the runtime builds os.Args as
// strings over the process's own argument block (gostringnocopy of argv), which is what
// /proc/PID/cmdline and ps read; it is writable memory, and nothing in Go reads these strings
// after hideSecrets has copied them.
func overwriteArg(a string, from, to int) {
	if len(a) == 0 {
		return
	}
	b := unsafe.Slice(unsafe.StringData(a), len(a))
	for i := from; i < to; i++ {
		b[i] = 'x'
	}
}
