package binlog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/go-mysql-org/go-mysql/replication"
)

// A Source yields events in log order. Next returns io.EOF after the last event of a finite
// source and ctx.Err() once ctx is done; after any error it keeps returning that error. The event
// and its row buffers are valid only until the next call to Next.
type Source interface {
	Next(ctx context.Context) (*Event, error)
	Close() error
}

// FileOptions configures a FileSource.
type FileOptions struct {
	// Start is where to begin: an event boundary in one of the files. Zero means the start of
	// the first file; a File of "" means the first file.
	Start Position
	// AllowGaps lets the file sequence skip numbers.
	AllowGaps bool
	// Log gets warnings (a file without checksums); nil for none.
	Log *slog.Logger
}

// FileSource reads binlog files in sequence order.
type FileSource struct {
	files []string
	idx   int
	cur   *fileReader
	dec   *decoder
	ev    Event
	err   error
	start Position
	ahead *fileReader // lookahead reader on the current file, see TxnEnd

	log   *slog.Logger
	alloc func(n int) []byte // set by a Prefetcher: where events are copied before decoding

	payload payloadReader // events inside a Transaction_payload event, being read

	peeked   bool // lastPeek is the answer for events from peekFrom to its end
	lastPeek TxnEnd
	peekFrom int64
}

var _ Source = (*FileSource)(nil)

// OpenFiles checks the files and returns a source positioned at opts.Start.
func OpenFiles(paths []string, opts FileOptions) (*FileSource, error) {
	files, err := OrderFiles(paths, opts.AllowGaps)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if f == "-" {
			continue
		}
		st, err := os.Stat(f)
		if err != nil {
			return nil, err
		}
		if st.IsDir() {
			return nil, fmt.Errorf("%s: is a directory, not a binlog file", f)
		}
	}
	s := &FileSource{files: files, dec: newDecoder(), start: opts.Start, log: opts.Log}
	if opts.Start.File != "" {
		if s.idx = FileIndex(files, opts.Start.File); s.idx < 0 {
			return nil, fmt.Errorf("start position %s: file %s is not among the binlogs given", opts.Start, opts.Start.File)
		}
	}
	s.start.File = inputName(files[s.idx])
	return s, nil
}

// FileIndex returns the index in files of the file name names: a base name, or a path to the
// same file (dir/mysql-bin.000001 as given on the command line); -1 if none.
func FileIndex(files []string, name string) int {
	base := filepath.Base(name)
	for i, f := range files {
		if inputName(f) != base {
			continue
		}
		if base == name {
			return i
		}
		a, errA := os.Stat(f)
		b, errB := os.Stat(name)
		if errA == nil && errB == nil && os.SameFile(a, b) {
			return i
		}
	}
	return -1
}

// Files returns the paths the source reads, in order.
func (s *FileSource) Files() []string { return s.files }

// Next implements Source.
func (s *FileSource) Next(ctx context.Context) (*Event, error) {
	if s.err != nil {
		return nil, s.err
	}
	ev, err := s.next(ctx)
	if err != nil {
		// Messages name the file as it was given (a folder tells two copies apart), positions
		// its base name.
		var pe *PosError
		if errors.As(err, &pe) && pe.Path == "" && s.idx < len(s.files) && pe.Pos.File == inputName(s.files[s.idx]) {
			pe.Path = s.files[s.idx]
		}
		s.err = err
		return nil, err
	}
	return ev, nil
}

func (s *FileSource) next(ctx context.Context) (*Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for {
		if s.payload.active() {
			ok, err := s.payload.decodeNext(s.dec, s.cur.fmt, &s.ev)
			if err != nil {
				return nil, err
			}
			if ok {
				return &s.ev, nil
			}
			continue
		}
		if s.cur == nil {
			if s.idx >= len(s.files) {
				return nil, io.EOF
			}
			fr, err := openFile(s.files[s.idx])
			if err != nil {
				var pe *PosError
				if errors.As(err, &pe) {
					return nil, err
				}
				return nil, fmt.Errorf("%s: %w", s.files[s.idx], err)
			}
			s.cur = fr
			if s.start.File == fr.name && s.start.Offset > 4 {
				if err := s.seek(s.start.Offset); err != nil {
					return nil, err
				}
			}
		}
		at := s.cur.pos()
		h, raw, err := s.cur.next()
		if err == io.EOF && s.cur.fmt == nil {
			// The magic number alone: a server writes the format description event with it, so
			// this is a cut-off copy, and a replay of it alone would end with nothing, exit 0.
			// Only as the last of several files is it what a server that crashed right after
			// rotating leaves: the replay of the files before it is whole.
			if s.idx == len(s.files)-1 && len(s.files) > 1 {
				if s.log != nil {
					s.log.Warn("the last binlog holds only its magic number (a server that crashed right after rotating); nothing after it",
						slog.String("file", s.files[s.idx]))
				}
			} else {
				return nil, &PosError{Pos: s.cur.pos(), Err: fmt.Errorf("%w: the file ends before its format description event", ErrTruncated)}
			}
		}
		if err == io.EOF {
			s.cur.Close()
			s.cur = nil
			s.closeAhead()
			s.idx++
			continue
		}
		if err != nil {
			return nil, err
		}
		var owned []byte
		if s.alloc != nil {
			// The event outlives this call (a Prefetcher hands it to another goroutine), so
			// decode it from memory of its own rather than the read buffer.
			owned = s.alloc(len(raw))
			copy(owned, raw)
			raw = owned
		}
		body, err := s.cur.body(h, raw, at)
		if err != nil {
			return nil, err
		}
		if h.Type == replication.FORMAT_DESCRIPTION_EVENT && !s.cur.fmt.checksum && !s.cur.warnedCRC && s.log != nil {
			s.cur.warnedCRC = true
			s.log.Warn("the binlog has no event checksums (binlog_checksum=NONE): corruption is found only where a length or structure does not fit",
				slog.String("file", s.files[s.idx]))
		}
		if h.Type == replication.TRANSACTION_PAYLOAD_EVENT {
			if err := s.payload.open(body, at, s.cur.off); err != nil {
				return nil, &PosError{Pos: at, Err: err}
			}
			continue
		}
		s.ev = Event{Pos: at, End: s.cur.off, Header: h, Body: body, owned: owned}
		if err := s.dec.decode(&s.ev, raw, s.cur.fmt); err != nil {
			return nil, &PosError{Pos: at, Err: err}
		}
		return &s.ev, nil
	}
}

// seek moves the current file to off, which must be an event boundary. Events before it are
// framed (to find the boundaries and the format description) but not decoded.
func (s *FileSource) seek(off int64) error {
	prev := s.cur.off
	// Where the transaction open at each event boundary started (-1: none), so that a start
	// inside one is refused with where it starts, instead of failing later on a rows event
	// whose table map was skipped.
	txnStart, begun := int64(-1), false
	for s.cur.off < off {
		at := s.cur.pos()
		prev = at.Offset
		h, raw, err := s.cur.next()
		if err == io.EOF {
			return fmt.Errorf("start position %s is past the end of the file (%d bytes)", Position{File: s.cur.name, Offset: off}, s.cur.off)
		}
		if err != nil {
			return err
		}
		switch h.Type {
		case replication.GTID_EVENT, replication.ANONYMOUS_GTID_EVENT, replication.GTID_TAGGED_LOG_EVENT:
			txnStart, begun = at.Offset, false
		case replication.MARIADB_GTID_EVENT:
			// Flags byte after seq_no and domain_id; FL_STANDALONE (1) marks DDL.
			body := raw[headerSize:]
			txnStart, begun = at.Offset, !(len(body) > 12 && body[12]&1 != 0)
		case replication.QUERY_EVENT:
			qb := raw[headerSize:]
			if s.cur.fmt != nil && s.cur.fmt.checksum && len(qb) >= 4 {
				qb = qb[:len(qb)-4]
			}
			switch queryKeyword(qb) {
			case "COMMIT", "ROLLBACK":
				txnStart = -1
			case "BEGIN":
				if txnStart < 0 {
					txnStart = at.Offset
				}
				begun = true
			case "":
				if !begun {
					txnStart = -1 // DDL: a transaction of its own
				}
			}
		case replication.XID_EVENT, replication.TRANSACTION_PAYLOAD_EVENT:
			txnStart = -1
		case replication.TABLE_MAP_EVENT, replication.WRITE_ROWS_EVENTv0, replication.UPDATE_ROWS_EVENTv0, replication.DELETE_ROWS_EVENTv0,
			replication.WRITE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv1, replication.DELETE_ROWS_EVENTv1,
			replication.WRITE_ROWS_EVENTv2, replication.UPDATE_ROWS_EVENTv2, replication.DELETE_ROWS_EVENTv2:
			if txnStart < 0 {
				txnStart, begun = at.Offset, true
			}
		}
		if h.Type == replication.FORMAT_DESCRIPTION_EVENT {
			body, err := s.cur.body(h, raw, at)
			if err != nil {
				return err
			}
			ev := Event{Pos: at, End: s.cur.off, Header: h, Body: body}
			if err := s.dec.decode(&ev, raw, s.cur.fmt); err != nil {
				return &PosError{Pos: at, Err: err}
			}
		}
	}
	if s.cur.off != off {
		return fmt.Errorf("start position %s is not at an event boundary (an event spans %d..%d)",
			Position{File: s.cur.name, Offset: off}, prev, s.cur.off)
	}
	if txnStart >= 0 {
		at, begin := Position{File: s.cur.name, Offset: off}, Position{File: s.cur.name, Offset: txnStart}
		msg := fmt.Sprintf("start position %s is inside the transaction that starts at %s: start at %s to replay that transaction whole", at, begin, begin)
		if end := s.txnEndFrom(); end > 0 {
			msg += fmt.Sprintf(", or at %s (its end) to leave it out", Position{File: s.cur.name, Offset: end})
		}
		return startInTxnError{msg}
	}
	return nil
}

type startInTxnError struct{ msg string }

func (e startInTxnError) Error() string { return e.msg }
func (e startInTxnError) Unwrap() error { return ErrStartInTxn }

// txnEndFrom frames events from the current offset to the end of the transaction open there,
// for an error message; 0 if the file ends first.
func (s *FileSource) txnEndFrom() int64 {
	for {
		h, raw, err := s.cur.next()
		if err != nil {
			return 0
		}
		switch h.Type {
		case replication.XID_EVENT:
			return s.cur.off
		case replication.QUERY_EVENT:
			qb := raw[headerSize:]
			if s.cur.fmt != nil && s.cur.fmt.checksum && len(qb) >= 4 {
				qb = qb[:len(qb)-4]
			}
			if kw := queryKeyword(qb); kw == "COMMIT" || kw == "ROLLBACK" {
				return s.cur.off
			}
		case replication.GTID_EVENT, replication.ANONYMOUS_GTID_EVENT, replication.MARIADB_GTID_EVENT, replication.ROTATE_EVENT:
			return 0
		}
	}
}

// Close releases the files.
func (s *FileSource) Close() error {
	s.closeAhead()
	if s.cur != nil {
		err := s.cur.Close()
		s.cur = nil
		return err
	}
	return nil
}

func (s *FileSource) closeAhead() {
	if s.ahead != nil {
		s.ahead.Close()
		s.ahead = nil
	}
}

// TxnEnd describes where the transaction that the last event started ends.
type TxnEnd struct {
	End       Position // just past the event that ends it
	Timestamp uint32   // header time of that event: the commit time
	Truncated bool     // the file ends first
}

// PeekTxnEnd looks ahead, without disturbing Next, for the end of the transaction that the
// event last returned by Next started (a GTID event, a BEGIN, or a standalone statement). It
// lets a replay decide on whole transactions by commit time or end position before writing any
// of their rows, without holding them. It only frames events: checksums are checked by Next.
func (s *FileSource) PeekTxnEnd(ctx context.Context) (TxnEnd, error) {
	if s.cur == nil {
		return TxnEnd{}, errors.New("lookahead without a current file")
	}
	if s.cur.stream {
		return TxnEnd{}, &PosError{Pos: s.ev.Pos, Err: errNoLookahead}
	}
	last := s.ev
	// Asking again from inside the transaction last looked at (a BEGIN after its GTID, a rows
	// event after its BEGIN) gets the same answer without scanning again.
	if s.peeked && last.Pos.File == s.lastPeek.End.File && last.Pos.Offset < s.lastPeek.End.Offset && last.Pos.Offset >= s.peekFrom {
		return s.lastPeek, nil
	}
	end, err := s.peekTxnEnd(ctx, last)
	if err != nil {
		return TxnEnd{}, err
	}
	s.peeked, s.lastPeek, s.peekFrom = true, end, last.Pos.Offset
	return end, nil
}

func (s *FileSource) peekTxnEnd(ctx context.Context, last Event) (TxnEnd, error) {
	if s.ahead == nil || s.ahead.off > s.cur.off {
		s.closeAhead()
		fr, err := openFile(s.cur.path)
		if err != nil {
			return TxnEnd{}, err
		}
		s.ahead = fr
	}
	a := s.ahead
	a.fmt = s.cur.fmt
	if gap := s.cur.off - a.off; gap > 0 {
		// Usually the lookahead stopped at the end of the previous transaction, a few events
		// back, with those bytes still in its buffer.
		if gap <= int64(a.r.Buffered()) {
			_, _ = a.r.Discard(int(gap))
		} else {
			if _, err := a.f.Seek(s.cur.off, io.SeekStart); err != nil {
				return TxnEnd{}, err
			}
			a.r.Reset(a.f)
		}
		a.off = s.cur.off
	}
	// A statement outside BEGIN...COMMIT, and a MariaDB standalone GTID's statement, end at once.
	switch {
	case last.Kind == KindQuery && last.Query.Keyword() == "":
		return TxnEnd{End: last.EndPosition(), Timestamp: last.Header.Timestamp}, nil
	}
	standalone := last.Kind == KindGTID && last.GTID.Standalone
	seenBegin := last.Kind == KindQuery && last.Query.Keyword() == "BEGIN" ||
		last.Kind == KindGTID && last.GTID.MariaDB && !standalone || last.Kind == KindRows
	for n := 0; ; n++ {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return TxnEnd{}, err
			}
		}
		h, raw, err := a.next()
		if err == io.EOF || errors.Is(err, ErrTruncated) {
			return TxnEnd{End: a.pos(), Truncated: true}, nil
		}
		if err != nil {
			return TxnEnd{}, err
		}
		end := TxnEnd{End: a.pos(), Timestamp: h.Timestamp}
		switch h.Type {
		case replication.XID_EVENT, replication.TRANSACTION_PAYLOAD_EVENT:
			// A compressed transaction is one payload event: its end is the commit.
			return end, nil
		case replication.QUERY_EVENT:
			qb := raw[headerSize:]
			if a.fmt != nil && a.fmt.checksum && len(qb) >= 4 {
				qb = qb[:len(qb)-4]
			}
			kw := queryKeyword(qb)
			switch {
			case kw == "COMMIT" || kw == "ROLLBACK":
				return end, nil
			case kw == "BEGIN":
				seenBegin = true
			case kw == "" && (standalone || !seenBegin):
				return end, nil
			}
		case replication.GTID_EVENT, replication.ANONYMOUS_GTID_EVENT, replication.GTID_TAGGED_LOG_EVENT,
			replication.MARIADB_GTID_EVENT, replication.ROTATE_EVENT, replication.STOP_EVENT:
			// The next transaction started, or the file ended, without a commit: treat the
			// transaction as ending before this event.
			return TxnEnd{End: Position{File: a.name, Offset: a.off - int64(h.EventSize)}, Timestamp: h.Timestamp, Truncated: true}, nil
		}
	}
}

// queryKeyword classifies a Query event body without decoding it fully.
func queryKeyword(body []byte) string {
	if len(body) < 13 {
		return ""
	}
	schemaLen := int(body[8])
	statusLen := int(binary.LittleEndian.Uint16(body[11:]))
	p := 13 + statusLen + schemaLen + 1
	if p > len(body) {
		return ""
	}
	return Query{SQL: body[p:]}.Keyword()
}
