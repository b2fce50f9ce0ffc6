//go:build !unix

package binlog

import (
	"errors"
	"os"
)

// mapFile is not available here: the lookahead reads with ReadAt.
func mapFile(*os.File, int64, int64) ([]byte, error) { return nil, errors.ErrUnsupported }

var pageSize = int64(os.Getpagesize())

const canMap = false

func unmapFile([]byte) {}
