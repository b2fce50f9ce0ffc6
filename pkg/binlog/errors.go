package binlog

import "errors"

var (
	// ErrNotBinlog means the file does not start with the binlog magic bytes.
	ErrNotBinlog = errors.New("not a binlog file (bad magic bytes)")
	// ErrChecksum means an event's CRC32 does not match its bytes.
	ErrChecksum = errors.New("event checksum mismatch")
	// ErrTruncated means the file ends inside an event: the server crashed or the copy is short.
	ErrTruncated = errors.New("binlog truncated inside an event")
	// ErrCorrupt means an event's bytes contradict the format.
	ErrCorrupt = errors.New("corrupt event")
	// ErrNoTableMap means a rows event names a table id with no preceding table map.
	ErrNoTableMap = errors.New("rows event without a preceding table map")
	// ErrStartInTxn means a start position falls between a transaction's first and last event.
	ErrStartInTxn = errors.New("start inside a transaction")
	// ErrUnsupported means an event or column type pitr cannot decode faithfully.
	ErrUnsupported = errors.New("unsupported")

	errNoLookahead = errors.New("no transaction lookahead for this event")
)

// PosError is an error at a position of a binlog file. Every error the decoder returns is one,
// so messages start with file:offset.
type PosError struct {
	Pos  Position
	Path string // the file as given, when it differs from Pos.File; "" for none
	Err  error
}

func (e *PosError) Error() string {
	// The position first, as --start-position takes it; the path as given last, when a folder
	// tells two copies apart.
	if e.Path != "" && e.Path != e.Pos.File {
		return e.Pos.String() + ": " + e.Err.Error() + " (file " + e.Path + ")"
	}
	return e.Pos.String() + ": " + e.Err.Error()
}
func (e *PosError) Unwrap() error { return e.Err }
