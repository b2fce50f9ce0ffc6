//go:build unix

package binlog

import (
	"os"
	"syscall"
)

// mapFile maps size bytes of f from off (a multiple of the page size) read-only. The lookahead
// reads the headers of a long transaction's events through it: a page fault per 64 KiB or so
// instead of a read per event.
func mapFile(f *os.File, off, size int64) ([]byte, error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, syscall.EINVAL
	}
	return syscall.Mmap(int(f.Fd()), off, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
}

var pageSize = int64(os.Getpagesize())

// canMap: mapFile works here.
const canMap = true

func unmapFile(b []byte) {
	if b != nil {
		_ = syscall.Munmap(b)
	}
}
