package binlog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Position is a byte offset in a named binlog file.
type Position struct {
	File   string // base name, e.g. "mysql-bin.000042"
	Offset int64
}

func (p Position) String() string { return p.File + ":" + strconv.FormatInt(p.Offset, 10) }

// IsZero reports whether p was never set.
func (p Position) IsZero() bool { return p.File == "" && p.Offset == 0 }

// ParsePosition reads "FILE:POS" or a bare "POS" (File left empty, meaning the first file).
func ParsePosition(s string) (Position, error) {
	if s == "" {
		return Position{}, errors.New("empty position")
	}
	file, off := "", s
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		file, off = s[:i], s[i+1:]
		if file == "" {
			return Position{}, fmt.Errorf("position %q: empty file name", s)
		}
	}
	n, err := strconv.ParseInt(off, 10, 64)
	if err != nil || n < 0 {
		return Position{}, fmt.Errorf("position %q: offset must be a non-negative integer", s)
	}
	return Position{File: file, Offset: n}, nil
}

// Before reports whether p comes before q in log order, by the sequence numbers of their files
// (mysql-bin.000009 before mysql-bin.000010), then by offset.
func (p Position) Before(q Position) bool {
	if p.File != q.File {
		ps, pok := fileSeq(p.File)
		qs, qok := fileSeq(q.File)
		if pok && qok && ps != qs {
			return ps < qs
		}
		return p.File < q.File
	}
	return p.Offset < q.Offset
}

// fileSeq returns the numeric extension of a binlog file name: mysql-bin.000789 → 789.
func fileSeq(name string) (uint64, bool) {
	i := strings.LastIndexByte(name, '.')
	if i < 0 || i == len(name)-1 {
		return 0, false
	}
	n, err := strconv.ParseUint(name[i+1:], 10, 64)
	return n, err == nil
}
