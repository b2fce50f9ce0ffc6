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
	"runtime/debug"

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
	// ev is where the next event is decoded: own, or an Event of a Prefetcher's pool (no copy).
	ev    *Event
	own   Event
	err   error
	start Position
	// The current file once more, for a lookahead past the bytes read (see PeekTxnEnd).
	ahead *os.File
	view  fileView

	log  *slog.Logger
	pool *chunkPool // set by a Prefetcher: events outlive the next call, so buffers are recycled by it
	// skip, set by a Prefetcher, says which events (with their checksum verified) are left out
	// undecoded. The last event of the input is never left out, so that where the input ends
	// stays what it is.
	skip    func(h Header, body []byte, f *format) bool
	skipped skippedEvent

	inner   bool     // the event last returned came out of a Transaction_payload event
	lastEOF Position // where the last file read to its end ended

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
	s.ev = &s.own
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
			ok, err := s.payload.decodeNext(s.dec, s.cur.fmt, s.ev)
			if err != nil {
				return nil, err
			}
			if ok {
				s.inner = true
				return s.ev, nil
			}
			continue
		}
		if s.cur == nil {
			if s.idx >= len(s.files) {
				if s.skipped.raw != nil {
					return s.decodeSkipped()
				}
				return nil, io.EOF
			}
			fr, err := openFileWith(s.files[s.idx], s.pool)
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
			s.lastEOF = s.cur.pos()
			s.cur.Close()
			s.cur = nil
			s.closeAhead()
			s.idx++
			continue
		}
		if err != nil {
			return nil, err
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
		if s.skip != nil {
			if s.skip(h, body, s.cur.fmt) {
				s.skipped = skippedEvent{at: at, end: s.cur.off, h: h, raw: raw, body: body, fmt: s.cur.fmt}
				s.pool.setPin(raw)
				continue
			}
			s.skipped = skippedEvent{}
			s.pool.setPin(nil)
		}
		s.inner = false
		s.ev.reuse(at, s.cur.off, h, body)
		if err := s.dec.decode(s.ev, raw, s.cur.fmt); err != nil {
			return nil, &PosError{Pos: at, Err: err}
		}
		return s.ev, nil
	}
}

// skippedEvent is the event last left out, while no event after it was read.
type skippedEvent struct {
	at   Position
	end  int64
	h    Header
	raw  []byte // in a buffer of the Prefetcher's pool, not reused before the consumer passes it
	body []byte
	fmt  *format
}

// decodeSkipped hands out the event last left out after all: it turned out to be the input's last.
func (s *FileSource) decodeSkipped() (*Event, error) {
	k := s.skipped
	s.skipped, s.inner = skippedEvent{}, false
	if s.pool != nil {
		s.pool.handOverPinned()
	}
	s.ev.reuse(k.at, k.end, k.h, k.body)
	if err := s.dec.decode(s.ev, k.raw, k.fmt); err != nil {
		return nil, &PosError{Pos: k.at, Err: err}
	}
	return s.ev, nil
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
	s.view.close()
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

// shortRead is the lookahead's answer when fewer bytes than it needs were there at at: the
// binlog ends inside the transaction, or reading failed.
func shortRead(at Position, err error) (TxnEnd, error) {
	if err == nil || errors.Is(err, io.EOF) {
		return TxnEnd{End: at, Truncated: true}, nil
	}
	return TxnEnd{}, &PosError{Pos: at, Err: err}
}

// lookHeader parses the header of the event at at for the lookahead, with its size checked.
func lookHeader(hb []byte, at Position) (Header, error) {
	h := parseHeader(hb)
	if h.EventSize < headerSize || h.EventSize > maxEventSize {
		return Header{}, &PosError{Pos: at, Err: fmt.Errorf("%w: event size %d", ErrCorrupt, h.EventSize)}
	}
	return h, nil
}

func (s *FileSource) peekTxnEnd(ctx context.Context, last *Event) (TxnEnd, error) {
	sc, end, done := startScan(last)
	if done {
		return end, nil
	}

	// Most transactions end within the bytes read already or the next read: frame them there,
	// so that they are read from the file once. A longer one continues on a reader of its own.
	fr := s.cur
	relay := fr.relay
	k, maxLook := 0, fr.size/2
	for {
		at := Position{File: fr.name, Offset: fr.off + int64(k)}
		hb, err := fr.peekAhead(k, headerSize)
		if len(hb) < headerSize {
			return shortRead(at, err)
		}
		h, err := lookHeader(hb, at)
		if err != nil {
			return TxnEnd{}, err
		}
		size := int(h.EventSize)
		if k+size > maxLook {
			break
		}
		raw, err := fr.peekAhead(k, size)
		if len(raw) < size {
			return shortRead(at, err)
		}
		if h.Type == replication.FORMAT_DESCRIPTION_EVENT && at.Offset != 4 {
			relay = true
		}
		if err := checkEnd(fr.fmt, relay, h, at); err != nil {
			return TxnEnd{}, err
		}
		k += size
		if end, done := sc.event(h, raw, at, fr.fmt); done {
			return end, nil
		}
	}

	if s.ahead == nil {
		f, err := os.Open(fr.path)
		if err != nil {
			return TxnEnd{}, err
		}
		s.ahead = f
	}
	return s.scanFile(ctx, fr, fr.off+int64(k), relay, &sc)
}

// scanFile frames the events of the current file from off to the end of the transaction sc
// follows. A long transaction is mostly large rows events, and only their headers are read,
// through a memory map of the file where there is one: the lookahead touches a small part of
// the bytes it passes, and copies none of them.
func (s *FileSource) scanFile(ctx context.Context, fr *fileReader, off int64, relay bool, sc *txnScan) (end TxnEnd, err error) {
	v := &s.view
	if v.f != s.ahead {
		v.reset(s.ahead)
	}
	if !v.noMap {
		// A file cut shorter while mapped faults on access: an error, not a crash.
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			if r := recover(); r != nil {
				if re, ok := r.(interface{ Addr() uintptr }); ok && re != nil {
					end, err = TxnEnd{}, &PosError{Pos: Position{File: fr.name, Offset: off}, Err: fmt.Errorf("%w: the file became shorter while being read", ErrTruncated)}
					return
				}
				panic(r)
			}
		}()
	}
	hop := false
	for n := 0; ; n++ {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return TxnEnd{}, err
			}
		}
		at := Position{File: fr.name, Offset: off}
		hb, err := v.bytes(off, headerSize, hop)
		if len(hb) < headerSize {
			return shortRead(at, err)
		}
		h, err := lookHeader(hb, at)
		if err != nil {
			return TxnEnd{}, err
		}
		raw := hb[:headerSize] // enough for all but a statement
		switch {
		case len(hb) >= int(h.EventSize):
			raw = hb[:h.EventSize]
		case h.Type == replication.QUERY_EVENT:
			if !v.fits(off + int64(h.EventSize)) {
				return TxnEnd{End: at, Truncated: true}, nil
			}
			raw, err = v.bytes(off, int(h.EventSize), false)
			if len(raw) < int(h.EventSize) {
				return shortRead(at, err)
			}
		case !v.fits(off + int64(h.EventSize)):
			return TxnEnd{End: at, Truncated: true}, nil
		}
		if h.Type == replication.FORMAT_DESCRIPTION_EVENT && off != 4 {
			relay = true
		}
		if err := checkEnd(fr.fmt, relay, h, at); err != nil {
			return TxnEnd{}, err
		}
		hop = h.EventSize >= 4<<10
		off += int64(h.EventSize)
		if end, done := sc.event(h, raw, at, fr.fmt); done {
			return end, nil
		}
	}
}

// fileView reads a file at offsets for the lookahead: through a window of it mapped into
// memory where that is possible, else with ReadAt into a buffer. The window is moved rather than
// grown, so that the pages it touches (which count as the process's memory) stay few however
// long the transaction.
type fileView struct {
	f      *os.File
	mapped []byte // the file's bytes from mapOff, or nil
	mapOff int64
	noMap  bool  // mapping failed once: ReadAt from then on
	size   int64 // the file's size when last looked at

	buf    []byte // ReadAt: the file's bytes from bufOff
	bufOff int64
	block  []byte
}

const mapWindow = 8 << 20

func (v *fileView) reset(f *os.File) {
	v.close()
	v.f, v.size = f, -1
}

func (v *fileView) close() {
	unmapFile(v.mapped)
	*v = fileView{block: v.block}
}

// stat looks at the file's size again: a server may be appending to it.
func (v *fileView) stat() {
	if st, err := v.f.Stat(); err == nil {
		v.size = st.Size()
	}
}

// fits reports whether the file holds the bytes up to end.
func (v *fileView) fits(end int64) bool {
	if end > v.size {
		v.stat()
	}
	return end <= v.size
}

// bytes returns at least n bytes at off if the file holds them (fewer at its end), maybe more;
// small asks for no more than n where reads cost by the byte.
func (v *fileView) bytes(off int64, n int, small bool) ([]byte, error) {
	if v.mapped != nil && off >= v.mapOff && off+int64(n) <= v.mapOff+int64(len(v.mapped)) {
		return v.mapped[off-v.mapOff:], nil
	}
	if !v.noMap {
		if !v.fits(off + int64(n)) {
			n = int(max(v.size-off, 0))
		}
		if n <= 0 {
			return nil, io.EOF
		}
		start := off &^ (pageSize - 1)
		size := min(max(mapWindow, off+int64(n)-start), v.size-start)
		m, err := mapFile(v.f, start, size)
		if err == nil {
			unmapFile(v.mapped)
			v.mapped, v.mapOff = m, start
			return v.mapped[off-start:], nil
		}
		v.noMap = true
	}
	if off >= v.bufOff && off+int64(n) <= v.bufOff+int64(len(v.buf)) {
		return v.buf[off-v.bufOff:], nil
	}
	want := max(n, 64<<10)
	if small {
		want = n
	}
	if cap(v.block) < want {
		v.block = make([]byte, want)
	}
	k, err := v.f.ReadAt(v.block[:want], off)
	v.buf, v.bufOff = v.block[:k], off
	return v.buf, err
}

// startScan begins following the transaction that last starts: done, with its end, for a
// statement outside BEGIN...COMMIT (or a MariaDB standalone GTID's statement), which ends at once.
func startScan(last *Event) (sc txnScan, end TxnEnd, done bool) {
	if last.Kind == KindQuery && last.Query.Keyword() == "" {
		return txnScan{}, TxnEnd{End: last.EndPosition(), Timestamp: last.Header.Timestamp}, true
	}
	standalone := last.Kind == KindGTID && last.GTID.Standalone
	return txnScan{standalone: standalone, seenBegin: last.Kind == KindQuery && last.Query.Keyword() == "BEGIN" ||
		last.Kind == KindGTID && last.GTID.MariaDB && !standalone || last.Kind == KindRows}, TxnEnd{}, false
}

// scanTxnEnd follows the transaction sc follows in the current file from offset from (an event
// boundary) to its end, by framing the events there.
func (s *FileSource) scanTxnEnd(ctx context.Context, from int64, sc *txnScan) (TxnEnd, error) {
	if s.cur == nil {
		return TxnEnd{}, errors.New("lookahead without a current file")
	}
	if s.cur.stream {
		return TxnEnd{}, &PosError{Pos: s.cur.pos(), Err: errNoLookahead}
	}
	if s.ahead == nil {
		f, err := os.Open(s.cur.path)
		if err != nil {
			return TxnEnd{}, err
		}
		s.ahead = f
	}
	return s.scanFile(ctx, s.cur, from, s.cur.relay, sc)
}

// txnScan follows the events of a transaction, framed but not decoded, to its end.
type txnScan struct {
	standalone bool // a MariaDB standalone GTID: its one statement ends it
	seenBegin  bool
}

// event looks at the event at "at" and says whether it ends the transaction, and where.
func (sc *txnScan) event(h Header, raw []byte, at Position, f *format) (TxnEnd, bool) {
	kw := ""
	if h.Type == replication.QUERY_EVENT {
		qb := raw[headerSize:]
		if f != nil && f.checksum && len(qb) >= 4 {
			qb = qb[:len(qb)-4]
		}
		kw = queryKeyword(qb)
	}
	return sc.step(h, kw, at)
}

// step is event for an event whose statement keyword (Query.Keyword), if it is a Query event,
// is known.
func (sc *txnScan) step(h Header, kw string, at Position) (TxnEnd, bool) {
	end := TxnEnd{End: Position{File: at.File, Offset: at.Offset + int64(h.EventSize)}, Timestamp: h.Timestamp}
	switch h.Type {
	case replication.XID_EVENT, replication.TRANSACTION_PAYLOAD_EVENT:
		// A compressed transaction is one payload event: its end is the commit.
		return end, true
	case replication.QUERY_EVENT:
		switch {
		case kw == "COMMIT" || kw == "ROLLBACK":
			return end, true
		case kw == "BEGIN":
			sc.seenBegin = true
		case kw == "" && (sc.standalone || !sc.seenBegin):
			return end, true
		}
	case replication.GTID_EVENT, replication.ANONYMOUS_GTID_EVENT, replication.GTID_TAGGED_LOG_EVENT,
		replication.MARIADB_GTID_EVENT, replication.ROTATE_EVENT, replication.STOP_EVENT:
		// The next transaction started, or the file ended, without a commit: treat the
		// transaction as ending before this event.
		return TxnEnd{End: at, Timestamp: h.Timestamp, Truncated: true}, true
	}
	return TxnEnd{}, false
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
