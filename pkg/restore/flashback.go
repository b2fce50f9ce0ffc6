package restore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// A flashback (Config.Flashback) renders the inverse of each kept row change, and must hand the
// sink the inverse transactions newest first, each one's statements newest first. One
// transaction can be millions of rows, so nothing is reversed in memory: the forward pass
// appends each record to a temporary file with its length after it, and the file is then read
// from its end to its start, one bounded block at a time.
//
// Records, each `payload | len uint32 | rows int64 | where uint32 | kind byte`:
//
//	'B' a kept transaction begins; payload: its TxnInfo as JSON
//	'S' one rendered inverse row statement with its RowCheck
//	'C' the transaction committed; payload: its TxnInfo and TxnSummary as JSON (read first
//	    when going backwards, so it carries what the comment naming the transaction needs)
const (
	spillBegin  = 'B'
	spillStmt   = 'S'
	spillCommit = 'C'

	spillTrailer = 4 + 8 + 4 + 1
	spillBlock   = 1 << 20 // bytes read back at a time
)

// ErrFlashbackStatement is why a flashback stops at DDL or at a change logged as a statement:
// only row images say what to put back.
var ErrFlashbackStatement = errors.New("--flashback undoes row changes only, from their row images")

// spillSink is the Sink of a flashback's forward pass: it writes every record to the spill file
// and nothing to the real sink until replay.
type spillSink struct {
	f       *os.File
	w       []byte // records not yet written to f
	off     int64  // bytes written to f
	begin   int64  // where the open transaction's 'B' record starts
	info    TxnInfo
	session []string
	block   int64 // bytes read back at a time; spillBlock unless a test sets it
}

var _ RowSink = (*spillSink)(nil)

func newSpillSink(dir string) (*spillSink, error) {
	f, err := os.CreateTemp(dir, "pitr-flashback-*")
	if err != nil {
		return nil, fmt.Errorf("--flashback needs a temporary file for the reversed statements: %w", err)
	}
	// Unlinked at once: the space goes back to the system however the run ends.
	os.Remove(f.Name())
	return &spillSink{f: f, block: spillBlock}, nil
}

func (s *spillSink) record(kind byte, payload []byte, c RowCheck) error {
	s.w = append(s.w, payload...)
	s.w = binary.LittleEndian.AppendUint32(s.w, uint32(len(payload)))
	s.w = binary.LittleEndian.AppendUint64(s.w, uint64(c.Rows))
	s.w = binary.LittleEndian.AppendUint32(s.w, uint32(c.Where))
	s.w = append(s.w, kind)
	if len(s.w) >= int(s.block) {
		return s.flush()
	}
	return nil
}

func (s *spillSink) flush() error {
	if len(s.w) == 0 {
		return nil
	}
	n, err := s.f.WriteAt(s.w, s.off)
	s.off += int64(n)
	s.w = s.w[:0]
	if err != nil {
		return fmt.Errorf("--flashback temporary file: %w", err)
	}
	return nil
}

func (s *spillSink) size() int64 { return s.off + int64(len(s.w)) }

func (s *spillSink) Session(_ context.Context, stmts []string) error {
	s.session = stmts
	return nil
}

func (s *spillSink) Begin(_ context.Context, tx TxnInfo) error {
	s.begin = s.size()
	s.info = tx
	b, err := json.Marshal(tx)
	if err != nil {
		return err
	}
	return s.record(spillBegin, b, RowCheck{})
}

// Write is for statements that are not row changes: a flashback renders none (the runner
// refuses statements and follows no source session settings), so one reaching here is a bug
// that must not pass as a reversed setting.
func (s *spillSink) Write(_ context.Context, stmt []byte) error {
	return fmt.Errorf("%w: a flashback cannot reverse %q", ErrFlashbackStatement, truncate(stmt, 100))
}

func (s *spillSink) WriteRows(_ context.Context, stmt []byte, c RowCheck) error {
	return s.record(spillStmt, stmt, c)
}

func (s *spillSink) Commit(_ context.Context, sum TxnSummary) error {
	b, err := json.Marshal(spillTxn{s.info, sum})
	if err != nil {
		return err
	}
	return s.record(spillCommit, b, RowCheck{})
}

// Rollback forgets the open transaction: the source never committed it, so there is nothing
// to undo.
type spillTxn struct {
	Info TxnInfo
	Sum  TxnSummary
}

func (s *spillSink) Rollback(_ context.Context) error {
	if s.begin >= s.off {
		s.w = s.w[:s.begin-s.off]
		return nil
	}
	s.w = s.w[:0]
	s.off = s.begin
	return s.f.Truncate(s.begin)
}

func (s *spillSink) Close() error { return s.f.Close() }

// replay hands sink the inverse transactions, newest first, each with the statements of the
// transaction it undoes in reverse order, and returns how many it wrote.
func (s *spillSink) replay(ctx context.Context, sink Sink) (n int64, err error) {
	if err := s.flush(); err != nil {
		return 0, err
	}
	if err := sink.Session(ctx, s.session); err != nil {
		return 0, err
	}
	rows, _ := sink.(RowSink)
	rd := reverseReader{f: s.f, end: s.off, block: s.block}
	open := false
	var cur TxnSummary
	for {
		kind, payload, c, err := rd.prev()
		if err == io.EOF {
			if open {
				return n, errors.New("--flashback temporary file: a transaction without its start")
			}
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("--flashback temporary file: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
		switch kind {
		case spillCommit:
			var t spillTxn
			if err := json.Unmarshal(payload, &t); err != nil {
				return n, fmt.Errorf("--flashback temporary file: %w", err)
			}
			info, sum := t.Info, t.Sum
			// The inverse of the transaction: its deletes are inserts and its inserts deletes.
			sum.Inserts, sum.Deletes = sum.Deletes, sum.Inserts
			cur = sum
			if info.End.IsZero() {
				info.End = sum.End
			}
			info.Undo = true
			if err := sink.Begin(ctx, info); err != nil {
				return n, err
			}
			open = true
		case spillStmt:
			if !open {
				return n, errors.New("--flashback temporary file: a statement outside a transaction")
			}
			if rows != nil {
				err = rows.WriteRows(ctx, payload, c)
			} else {
				err = sink.Write(ctx, payload)
			}
			if err != nil {
				return n, err
			}
		case spillBegin:
			if !open {
				return n, errors.New("--flashback temporary file: a transaction without its end")
			}
			open = false
			if err := sink.Commit(ctx, cur); err != nil {
				return n, err
			}
			n++
		default:
			return n, fmt.Errorf("--flashback temporary file: record kind %q", kind)
		}
	}
}

// reverseReader reads spill records from the end of a file to its start, holding at most one
// block (or one record, if larger) in memory.
type reverseReader struct {
	f          *os.File
	block      int64
	end        int64 // records before end are still to read
	buf        []byte
	start, lim int64 // buf holds the file's bytes [start, lim)
}

// at returns the file's bytes [a, b), valid until the next call.
func (r *reverseReader) at(a, b int64) ([]byte, error) {
	if a >= r.start && b <= r.lim && r.buf != nil {
		return r.buf[a-r.start : b-r.start], nil
	}
	lo := b - r.block
	if a < lo {
		lo = a
	}
	if lo < 0 {
		lo = 0
	}
	if cap(r.buf) < int(b-lo) {
		r.buf = make([]byte, b-lo)
	}
	r.buf = r.buf[:b-lo]
	if _, err := r.f.ReadAt(r.buf, lo); err != nil {
		r.buf = nil
		return nil, err
	}
	r.start, r.lim = lo, b
	return r.buf[a-lo : b-lo], nil
}

func (r *reverseReader) peek() (kind byte, payload []byte, c RowCheck, start int64, err error) {
	if r.end == 0 {
		return 0, nil, c, 0, io.EOF
	}
	if r.end < spillTrailer {
		return 0, nil, c, 0, io.ErrUnexpectedEOF
	}
	t, err := r.at(r.end-spillTrailer, r.end)
	if err != nil {
		return 0, nil, c, 0, err
	}
	n := int64(binary.LittleEndian.Uint32(t))
	c.Rows = int64(binary.LittleEndian.Uint64(t[4:]))
	c.Where = int(binary.LittleEndian.Uint32(t[12:]))
	kind = t[16]
	start = r.end - spillTrailer - n
	if start < 0 {
		return 0, nil, c, 0, io.ErrUnexpectedEOF
	}
	payload, err = r.at(start, r.end-spillTrailer)
	return kind, payload, c, start, err
}

func (r *reverseReader) prev() (kind byte, payload []byte, c RowCheck, err error) {
	kind, payload, c, start, err := r.peek()
	if err == nil {
		r.end = start
	}
	return kind, payload, c, err
}

// flashbackRow renders the inverse of one row change: an insert is undone by deleting the row
// it inserted, a delete by inserting the row back, an update by setting the row back to its
// before image. The rendered WHERE compares every column of the image the row must still have
// (RenderOptions.BeforeImage), so the inverse finds only a row in exactly the state the change
// left it.
func (r *runner) flashbackRow(ctx context.Context, ev *binlog.Event, tm *binlog.TableMap, before, after []binlog.Value) error {
	kind := ev.Rows.Kind
	if err := fullImage(tm, kind, "before", before, kind != binlog.Insert); err != nil {
		return err
	}
	if err := fullImage(tm, kind, "after", after, kind != binlog.Delete); err != nil {
		return err
	}
	switch kind {
	case binlog.Insert:
		return r.rend.Row(ctx, binlog.Delete, tm, after, nil)
	case binlog.Delete:
		return r.rend.Row(ctx, binlog.Insert, tm, nil, before)
	case binlog.Update:
		return r.rend.Row(ctx, binlog.Update, tm, after, before)
	}
	return fmt.Errorf("unknown row change kind %v", kind)
}

// fullImage refuses an image that leaves out a column (binlog_row_image MINIMAL or NOBLOB):
// the inverse would have to guess the value it puts back, or find a row by less than its
// whole state.
func fullImage(tm *binlog.TableMap, kind binlog.RowsKind, which string, img []binlog.Value, need bool) error {
	if !need {
		return nil
	}
	for i := range img {
		if img[i].Kind != binlog.ValAbsent || tm.Columns[i].Generated {
			continue
		}
		return fmt.Errorf("table %s: the %s image of this %s leaves out column `%s` (the source logs binlog_row_image=MINIMAL or NOBLOB): "+
			"a flashback puts back every column of the before image and finds the row by every column of the after image, and this binlog does not hold them; "+
			"undo this window by restoring a backup and replaying up to it (pitr replay --stop-position), and set binlog_row_image=FULL for binlogs to come",
			tm, which, kindName(kind), tm.Columns[i].Name)
	}
	if len(img) < len(tm.Columns) {
		return fmt.Errorf("table %s: the %s image of this %s holds %d of the table's %d columns: a flashback needs them all (binlog_row_image=FULL)",
			tm, which, kindName(kind), len(img), len(tm.Columns))
	}
	return nil
}

func kindName(k binlog.RowsKind) string {
	switch k {
	case binlog.Insert:
		return "INSERT"
	case binlog.Update:
		return "UPDATE"
	case binlog.Delete:
		return "DELETE"
	}
	return "row change"
}

// runFlashback is Run for Config.Flashback: the forward pass spills the inverse statements,
// and only when it has read the whole window without error does sink see anything.
func runFlashback(ctx context.Context, src binlog.Source, sink Sink, cfg Config) (Stats, error) {
	spill, err := newSpillSink(cfg.TempDir)
	if err != nil {
		return Stats{}, err
	}
	defer spill.Close()
	// Every inverse statement finds its row by the whole image it must still have, one row a
	// statement, so that the spill reverses rows one by one.
	cfg.Render.BeforeImage = true
	cfg.Render.Batch = 1
	r := &runner{src: src, sink: spill, cfg: cfg, log: cfg.Log, rend: NewRenderer(spill, cfg.Render)}
	r.catalog = newCatalog("the DDL in the binlog").Then(cfg.Schema)
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.ahead, _ = src.(lookahead)
	r.sess = newSession(spill, cfg.Render.SessionStatements(), cfg.SourceTimeZone)
	r.rend.sess = r.sess
	if err := spill.Session(ctx, cfg.Render.SessionStatements()); err != nil {
		return r.stats, err
	}
	defer r.loads.close()
	err = r.run(ctx)
	if err != nil && r.state == txnBegun {
		if rbErr := spill.Rollback(ctx); rbErr != nil {
			err = errors.Join(err, rbErr)
		}
	}
	if err == nil {
		err = cfg.Filter.Unmatched()
	}
	if err == nil && r.stats.Transactions == 0 {
		err = errors.New("--flashback: the window holds no transaction that changed a row of the selected tables, so there is nothing to undo; check the window and the filters")
	}
	if err != nil {
		return r.stats, err
	}
	n, err := spill.replay(ctx, sink)
	if err == nil && n != r.stats.Transactions {
		err = fmt.Errorf("--flashback wrote %d inverse transactions for %d kept ones", n, r.stats.Transactions)
	}
	return r.stats, err
}

// flashbackStop is the error for a statement in a kept transaction of a flashback window.
func (r *runner) flashbackStop(ev *binlog.Event, why string) error {
	txn := "the transaction at " + r.info.Start.String()
	if r.info.GTID != "" {
		txn += " (GTID " + r.info.GTID + ")"
	}
	return fmt.Errorf("%w: %s; statement in %s: %s; end the window before it (--stop-position %s) or start it after it, or leave its table out with -t/-d",
		ErrFlashbackStatement, why, txn, truncate(bytes.TrimSpace(ev.Query.SQL), 200), r.info.Start)
}

// flashbackTable refuses tables whose row changes have no exact inverse pitr writes: a
// system-versioned table's inverse would add history rows of its own, and a sequence's state is
// not rows a DELETE or INSERT can put back.
func flashbackTable(tm *binlog.TableMap) error {
	if _, ve := periodColumns(tm); ve >= 0 {
		return fmt.Errorf("table %s is system-versioned: undoing its changes would write history rows of their own, and --flashback does not undo such tables; leave it out (--exclude-table)", tm)
	}
	if isSequence(tm) {
		return fmt.Errorf("table %s is a sequence: --flashback does not undo sequence changes; leave it out (--exclude-table)", tm)
	}
	return nil
}
