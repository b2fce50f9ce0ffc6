package restore

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// A flashback (Config.Flashback) renders the inverse of each kept row change, and must hand the
// sink the inverse transactions newest first, each one's statements newest first. One
// transaction can be millions of rows, so nothing is reversed in memory: the forward pass
// appends each record to a temporary file with its length after it, and the file is then read
// from its end to its start, one bounded block at a time.
//
// Records, each `payload | key1 | key2 | len1 uint32 | len2 uint32 | len uint32 | rows int64 | where uint32 | kind byte`
// (key1 and key2: the exact row keys of a statement's two images, see appendRowKey, written
// only for --on-conflict skip, which needs them to leave statements out):
//
//	'B' a kept transaction begins; payload: its TxnInfo as JSON
//	'S' one rendered inverse row statement with its RowCheck
//	'C' the transaction committed; payload: its TxnInfo and TxnSummary as JSON (read first
//	    when going backwards, so it carries what the comment naming the transaction needs)
const (
	spillBegin  = 'B'
	spillStmt   = 'S'
	spillCommit = 'C'
	// spillUncounted is a statement whose ROW_COUNT() cannot tell whether it found its row:
	// the inverse of an UPDATE whose images are the same bytes changes no row either way, so a
	// check by changed rows (Config.FlashbackChangedRows) would stop a correct undo. Apply
	// counts found rows and checks it as any other.
	spillUncounted = 's'

	spillTrailer = 4 + 4 + 4 + 8 + 4 + 1
	spillBlock   = 1 << 20 // bytes read back at a time
)

// ErrFlashbackStatement is why a flashback stops at DDL or at a change logged as a statement:
// only row images say what to put back.
var ErrFlashbackStatement = errors.New("--flashback undoes row changes only, from their row images")

// spillSink is the Sink of a flashback's forward pass: it writes every record to the spill file
// and nothing to the real sink until replay.
type spillSink struct {
	f         *os.File
	w         []byte // records not yet written to f
	off       int64  // bytes written to f
	begin     int64  // where the open transaction's 'B' record starts
	info      TxnInfo
	session   []string
	block     int64     // bytes read back at a time; spillBlock unless a test sets it
	batch     int       // --batch: inverse INSERTs folded into one statement at replay
	limit     int       // the longest statement replay may fold
	changed   bool      // Config.FlashbackChangedRows
	uncounted bool      // the next statement is spillUncounted
	keys      [2][]byte // the row keys of the next statement
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
	s.w = append(s.w, s.keys[0]...)
	s.w = append(s.w, s.keys[1]...)
	s.w = binary.LittleEndian.AppendUint32(s.w, uint32(len(s.keys[0])))
	s.w = binary.LittleEndian.AppendUint32(s.w, uint32(len(s.keys[1])))
	s.keys = [2][]byte{}
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
	kind := byte(spillStmt)
	if s.uncounted {
		kind = spillUncounted
		s.uncounted = false
	}
	return s.record(kind, stmt, c)
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
//
// With skip (the keys of rows changed again after the window, --on-conflict skip), a
// statement that touches such a row is left out, and its other image joins skip: an earlier
// change of the same row, undone later, would otherwise look for a state the row never gets
// back to. skipped counts the statements left out.
//
// With one, the whole undo is one sink transaction: Begin with the newest transaction's info,
// Commit once at the end with the sum of all (--target: all or nothing).
func (s *spillSink) replay(ctx context.Context, sink Sink, skip map[string]bool, one bool) (n, skipped int64, err error) {
	begun := false
	defer func() {
		if err != nil && begun {
			if rbErr := sink.Rollback(ctx); rbErr != nil {
				err = errors.Join(err, rbErr)
			}
		}
	}()
	var total TxnSummary
	if err := s.flush(); err != nil {
		return 0, 0, err
	}
	if err := sink.Session(ctx, s.session); err != nil {
		return 0, 0, err
	}
	rows, _ := sink.(RowSink)
	write := func(stmt []byte, c RowCheck, counted bool) error {
		if !counted && s.changed {
			c.Rows = -1
		}
		if rows != nil {
			return rows.WriteRows(ctx, stmt, c)
		}
		return sink.Write(ctx, stmt)
	}
	fold := insertFold{batch: s.batch, limit: s.limit}
	rd := reverseReader{f: s.f, end: s.off, block: s.block}
	open := false
	var cur TxnSummary
	for {
		kind, payload, c, err := rd.prev()
		if err == io.EOF {
			if open {
				return n, skipped, errors.New("--flashback temporary file: a transaction without its start")
			}
			if one && begun {
				if err := sink.Commit(ctx, total); err != nil {
					return n, skipped, err
				}
				begun = false
			}
			return n, skipped, nil
		}
		if err != nil {
			return n, skipped, fmt.Errorf("--flashback temporary file: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return n, skipped, err
		}
		switch kind {
		case spillCommit:
			var t spillTxn
			if err := json.Unmarshal(payload, &t); err != nil {
				return n, skipped, fmt.Errorf("--flashback temporary file: %w", err)
			}
			info, sum := t.Info, t.Sum
			// The inverse of the transaction: its deletes are inserts and its inserts deletes.
			sum.Inserts, sum.Deletes = sum.Deletes, sum.Inserts
			cur = sum
			if info.End.IsZero() {
				info.End = sum.End
			}
			info.Undo = true
			open = true
			if one && begun {
				continue
			}
			if err := sink.Begin(ctx, info); err != nil {
				return n, skipped, err
			}
			begun = true
		case spillStmt, spillUncounted:
			if !open {
				return n, skipped, errors.New("--flashback temporary file: a statement outside a transaction")
			}
			if k := rd.keys; skip != nil && (len(k[0]) > 0 && skip[string(k[0])] || len(k[1]) > 0 && skip[string(k[1])]) {
				for _, key := range k {
					if len(key) > 0 {
						skip[string(key)] = true
					}
				}
				skipped++
				switch {
				case bytes.HasPrefix(payload, []byte("INSERT")):
					cur.Inserts--
				case bytes.HasPrefix(payload, []byte("UPDATE")):
					cur.Updates--
				case bytes.HasPrefix(payload, []byte("DELETE")):
					cur.Deletes--
				}
				continue
			}
			if err := fold.add(payload, c, kind == spillStmt, write); err != nil {
				return n, skipped, err
			}
		case spillBegin:
			if !open {
				return n, skipped, errors.New("--flashback temporary file: a transaction without its end")
			}
			if err := fold.flush(write); err != nil {
				return n, skipped, err
			}
			open = false
			n++
			if one {
				total.End = cur.End
				total.Inserts += cur.Inserts
				total.Updates += cur.Updates
				total.Deletes += cur.Deletes
				continue
			}
			if err := sink.Commit(ctx, cur); err != nil {
				return n, skipped, err
			}
			begun = false
		default:
			return n, skipped, fmt.Errorf("--flashback temporary file: record kind %q", kind)
		}
	}
}

// insertFold folds consecutive single-row inverse INSERTs into one table, with the same
// columns, into multi-row INSERTs of up to batch rows (--batch), as replay renders them: the
// same literals, one tuple a row. Only INSERTs (the undo of DELETEs) fold: an inverse UPDATE or
// DELETE finds its row by its whole image, one row a statement. The rows fold after
// --on-conflict skip has left out single rows, so it leaves out exactly the row it names, and
// the folded statement's RowCheck counts every row it holds.
type insertFold struct {
	batch, limit int
	stmt         []byte // the pending statement; its first prefix bytes are INSERT INTO … VALUES
	prefix       int
	rows         int64
}

func (f *insertFold) add(stmt []byte, c RowCheck, counted bool, write func([]byte, RowCheck, bool) error) error {
	p := -1
	if f.batch > 1 && c.Rows == 1 && counted {
		p = insertPrefix(stmt)
	}
	if p < 0 {
		if err := f.flush(write); err != nil {
			return err
		}
		return write(stmt, c, counted)
	}
	if f.rows > 0 && (f.rows >= int64(f.batch) || len(f.stmt)+1+len(stmt)-p > f.limit || !bytes.Equal(f.stmt[:f.prefix], stmt[:p])) {
		if err := f.flush(write); err != nil {
			return err
		}
	}
	if f.rows == 0 {
		f.stmt = append(f.stmt[:0], stmt...)
		f.prefix = p
	} else {
		f.stmt = append(f.stmt, ',')
		f.stmt = append(f.stmt, stmt[p:]...)
	}
	f.rows++
	return nil
}

func (f *insertFold) flush(write func([]byte, RowCheck, bool) error) error {
	if f.rows == 0 {
		return nil
	}
	n := f.rows
	f.rows = 0
	return write(f.stmt, RowCheck{Rows: n}, true)
}

// insertPrefix returns the length of "INSERT INTO `db`.`t` (`a`,`b`) VALUES " at the start of
// a single-row INSERT the Renderer wrote, or -1 for any other statement. It reads the quoted
// identifiers rather than searching, since a column name may hold any text.
func insertPrefix(stmt []byte) int {
	i := 0
	lit := func(s string) bool {
		if !bytes.HasPrefix(stmt[i:], []byte(s)) {
			return false
		}
		i += len(s)
		return true
	}
	ident := func() bool {
		if i >= len(stmt) || stmt[i] != '`' {
			return false
		}
		for i++; i < len(stmt); i++ {
			if stmt[i] != '`' {
				continue
			}
			if i+1 < len(stmt) && stmt[i+1] == '`' {
				i++
				continue
			}
			i++
			return true
		}
		return false
	}
	if !lit("INSERT INTO ") || !ident() || !lit(".") || !ident() || !lit(" (") {
		return -1
	}
	for {
		if !ident() {
			return -1
		}
		if lit(",") {
			continue
		}
		if lit(") VALUES (") && stmt[len(stmt)-1] == ')' {
			return i - 1
		}
		return -1
	}
}

// reverseReader reads spill records from the end of a file to its start, holding at most one
// block (or one record, if larger) in memory.
type reverseReader struct {
	f          *os.File
	block      int64
	end        int64 // records before end are still to read
	buf        []byte
	start, lim int64     // buf holds the file's bytes [start, lim)
	keys       [2][]byte // of the record peek read, valid until the next read
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
	l1 := int64(binary.LittleEndian.Uint32(t))
	l2 := int64(binary.LittleEndian.Uint32(t[4:]))
	t = t[8:]
	n := int64(binary.LittleEndian.Uint32(t))
	c.Rows = int64(binary.LittleEndian.Uint64(t[4:]))
	c.Where = int(binary.LittleEndian.Uint32(t[12:]))
	kind = t[16]
	start = r.end - spillTrailer - n - l1 - l2
	if start < 0 {
		return 0, nil, c, 0, io.ErrUnexpectedEOF
	}
	rec, err := r.at(start, r.end-spillTrailer)
	if err != nil {
		return 0, nil, c, 0, err
	}
	r.keys = [2][]byte{rec[n : n+l1], rec[n+l1:]}
	return kind, rec[:n], c, start, nil
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
	why, err := flashbackImages(tm, kind, before, after)
	if err != nil {
		return err
	}
	if why != "" {
		r.fb.exactFromPartial(tm, kind, ev.Pos, why)
	}
	if kind == binlog.Update && sameImages(tm, before, after) {
		r.fb.spill.uncounted = true
	}
	if err := r.fb.note(tm, before, after); err != nil {
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

// flashbackImages decides whether the images of one row change make its inverse exact. Full
// images (binlog_row_image=FULL, a NOBLOB table without BLOB/TEXT columns, a MariaDB keyless
// table under MINIMAL) always do. A partial image (MINIMAL or NOBLOB) does only where nothing
// the inverse needs is missing, and then why is the reason, for the log:
//
//   - INSERT, undone by a DELETE: the after image must find the one row it inserted, which it
//     does when it holds the primary key; the columns it leaves out go with the row.
//   - DELETE, undone by an INSERT: the before image must hold every column, since the INSERT
//     puts them all back. A partial one never does.
//   - UPDATE, undone by an UPDATE: every column the after image holds (those the UPDATE may
//     have set) must be in the before image, whose values the inverse sets back; a column the
//     after image leaves out was not changed and stays as it is. The after image must find the
//     row: all of it, or the primary key.
//
// Otherwise the error names the table, the statement kind and the columns whose values are
// missing; the caller adds the position.
func flashbackImages(tm *binlog.TableMap, kind binlog.RowsKind, before, after []binlog.Value) (why string, err error) {
	if err := partialJSON(tm, kind, "before", before); err != nil {
		return "", err
	}
	if err := partialJSON(tm, kind, "after", after); err != nil {
		return "", err
	}
	const fix = "undo this window by restoring a backup and replaying up to it (pitr replay --stop-position), and set binlog_row_image=FULL for binlogs to come"
	switch kind {
	case binlog.Insert:
		missing := absentColumns(tm, after)
		if len(missing) == 0 {
			return "", nil
		}
		if pk := imageKey(tm, after); pk != "" {
			return fmt.Sprintf("the after image holds the primary key (%s), which finds the one row the INSERT wrote; the columns it leaves out (%s) are deleted with the row", pk, columnList(tm, missing)), nil
		}
		return "", fmt.Errorf("table %s: the after image of this INSERT leaves out %s (the source logs binlog_row_image=MINIMAL or NOBLOB), and %s: "+
			"the DELETE that undoes it could remove another row with the same logged values; %s",
			tm, columnPhrase(tm, missing), noKey(tm, after), fix)
	case binlog.Delete:
		missing := absentColumns(tm, before)
		if len(missing) == 0 {
			return "", nil
		}
		return "", fmt.Errorf("table %s: the before image of this DELETE leaves out %s (the source logs binlog_row_image=MINIMAL or NOBLOB): "+
			"the INSERT that undoes it puts back every column, and this binlog does not hold those values; %s",
			tm, columnPhrase(tm, missing), fix)
	case binlog.Update:
		var lost []int
		for i := range after {
			if after[i].Kind != binlog.ValAbsent && !tm.Columns[i].Generated && (i >= len(before) || before[i].Kind == binlog.ValAbsent) {
				lost = append(lost, i)
			}
		}
		if len(lost) > 0 {
			return "", fmt.Errorf("table %s: the before image of this UPDATE leaves out %s (the source logs binlog_row_image=MINIMAL or NOBLOB), which it set: "+
				"the UPDATE that undoes it would have to set back values this binlog does not hold; %s",
				tm, columnPhrase(tm, lost), fix)
		}
		missingAfter := absentColumns(tm, after)
		missingBefore := absentColumns(tm, before)
		if len(missingAfter) == 0 && len(missingBefore) == 0 {
			return "", nil
		}
		if len(missingAfter) == 0 {
			return fmt.Sprintf("the after image holds every column, which finds the row; the columns the before image leaves out (%s) were not changed and are left as they are", columnList(tm, missingBefore)), nil
		}
		if pk := imageKey(tm, after); pk != "" {
			return fmt.Sprintf("every column it set is in the before image, and the after image holds the primary key (%s), which finds the row; the columns the images leave out (%s) were not changed and are left as they are", pk, columnList(tm, missingAfter)), nil
		}
		return "", fmt.Errorf("table %s: the after image of this UPDATE leaves out %s (the source logs binlog_row_image=MINIMAL or NOBLOB), and %s: "+
			"the UPDATE that undoes it could change another row with the same logged values; %s",
			tm, columnPhrase(tm, missingAfter), noKey(tm, after), fix)
	}
	return "", nil
}

// sameImages says an UPDATE's inverse sets back nothing that differs from the row it finds: every
// column of the before image it sets holds the same bytes in the after image.
func sameImages(tm *binlog.TableMap, before, after []binlog.Value) bool {
	for i := range before {
		b := &before[i]
		if b.Kind == binlog.ValAbsent || tm.Columns[i].Generated {
			continue
		}
		if i >= len(after) {
			return false
		}
		a := &after[i]
		if a.Kind != b.Kind || a.Uint != b.Uint || !bytes.Equal(a.Text, b.Text) {
			return false
		}
	}
	return true
}

// absentColumns lists the columns an image leaves out, generated ones aside (no binlog needs
// them: the server computes them).
func absentColumns(tm *binlog.TableMap, img []binlog.Value) []int {
	var out []int
	for i := range tm.Columns {
		if tm.Columns[i].Generated {
			continue
		}
		if i >= len(img) || img[i].Kind == binlog.ValAbsent {
			out = append(out, i)
		}
	}
	return out
}

// imageKey names the primary key's columns if the table has one and the image holds all of
// them (not NULL), else "".
func imageKey(tm *binlog.TableMap, img []binlog.Value) string {
	if len(tm.PrimaryKey) == 0 {
		return ""
	}
	for _, k := range tm.PrimaryKey {
		if k >= len(img) || img[k].Kind == binlog.ValAbsent || img[k].Kind == binlog.ValNull {
			return ""
		}
	}
	return columnList(tm, tm.PrimaryKey)
}

func noKey(tm *binlog.TableMap, img []binlog.Value) string {
	if len(tm.PrimaryKey) == 0 {
		return "pitr knows no primary key of the table (a binlog with binlog_row_metadata=FULL, or the schema with --schema or --schema-from, names it)"
	}
	return "does not hold the whole primary key (" + columnList(tm, tm.PrimaryKey) + ")"
}

func columnPhrase(tm *binlog.TableMap, cols []int) string {
	if len(cols) == 1 {
		return "column " + columnList(tm, cols)
	}
	return "columns " + columnList(tm, cols)
}

func columnList(tm *binlog.TableMap, cols []int) string {
	var b []byte
	for j, i := range cols {
		if j == 10 {
			b = fmt.Appendf(b, " and %d more", len(cols)-j)
			break
		}
		if j > 0 {
			b = append(b, ", "...)
		}
		b = appendIdent(b, tm.Columns[i].Name)
	}
	return string(b)
}

// partialJSON refuses an image holding JSON diffs (binlog_row_value_options=PARTIAL_JSON): the
// inverse finds the row by the whole after image, which then lacks the document.
func partialJSON(tm *binlog.TableMap, kind binlog.RowsKind, which string, img []binlog.Value) error {
	for i := range img {
		if img[i].Kind == binlog.ValJSONDiff {
			return fmt.Errorf("table %s: the %s image of this %s holds only the changes to JSON column `%s` (the source logs binlog_row_value_options=PARTIAL_JSON), not the document: "+
				"a flashback finds the row by every column of the after image, and this binlog does not hold it; "+
				"undo this window by restoring a backup and replaying up to it (pitr replay --stop-position), and set binlog_row_value_options='' for binlogs to come",
				tm, which, kindName(kind), tm.Columns[i].Name)
		}
	}
	return nil
}

// exactFromPartial notes, once for each table and statement kind, that row changes of it are
// undone from partial row images and why that is exact; runFlashback logs the notes once the
// whole window has been read, so that a refused flashback prints nothing but its error.
func (fb *flashbackState) exactFromPartial(tm *binlog.TableMap, kind binlog.RowsKind, pos binlog.Position, why string) {
	k := tm.Schema + "." + tm.Table + "\x00" + kindName(kind)
	if fb.partial[k] {
		return
	}
	if fb.partial == nil {
		fb.partial = map[string]bool{}
	}
	fb.partial[k] = true
	fb.partialNotes = append(fb.partialNotes, []any{slog.String("table", tm.Schema+"."+tm.Table), slog.String("statement", kindName(kind)),
		slog.String("first_at", pos.String()), slog.String("why", why)})
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
	// statement, so that the spill reverses rows one by one; replay folds inverse INSERTs
	// (--batch).
	spill.batch, spill.limit = cfg.Render.Batch, NewRenderer(nil, cfg.Render).limit()
	spill.changed = cfg.FlashbackChangedRows
	cfg.Render.BeforeImage = true
	cfg.Render.Batch = 1
	r := &runner{src: src, sink: spill, cfg: cfg, log: cfg.Log, rend: NewRenderer(spill, cfg.Render)}
	r.fb = newFlashbackState(spill, cfg)
	defer r.fb.Close()
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
	if err == nil {
		err = r.readLater(ctx)
	}
	if err == nil {
		err = r.fb.check()
	}
	if err != nil {
		return r.stats, err
	}
	r.stats.Conflicts = r.fb.conflicts
	var skip map[string]bool
	if r.fb.nConflict > 0 {
		if !cfg.ConflictSkip {
			return r.stats, conflictError(r.fb.conflicts, r.fb.nConflict)
		}
		skip = r.fb.hit
	}
	for _, attrs := range r.fb.partialNotes {
		r.log.Info("--flashback: undoing row changes from partial row images (binlog_row_image MINIMAL or NOBLOB), exact for this table and statement kind", attrs...)
	}
	n, skipped, err := spill.replay(ctx, sink, skip, cfg.FlashbackOneTransaction)
	r.stats.SkippedRows = skipped
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

// flashbackState is a flashback's conflict check. Memory stays flat however many rows the
// window and the binlogs after it change: each row's exact key goes to sorted runs on disk (win
// for the window's images, later for the images of the transactions after it), and the two are
// joined in key order once both have been read (see flashback_keys.go). What it holds in memory
// grows only with the number of tables, and with --on-conflict skip, of conflicting rows.
type flashbackState struct {
	spill        *spillSink
	skip         bool // --on-conflict skip: the spill needs each statement's row keys
	win          *keyRuns
	later        *keyRuns
	filter       *keyFilter
	after        bool                        // reading past the window
	tables       map[string]*binlog.TableMap // db.table of every table the window changed, with its last map
	keyBuf       [2][]byte
	laterAt      binlog.Position // the later transaction whose info was written last
	laterN       int             // how many later transactions' infos have been written
	infos        *os.File        // TxnInfo of each later transaction that changed a row of a window table
	infoOff      int64
	lastInfo     int64 // offset of the last info written
	lit          []byte
	partial      map[string]bool // table and statement kind undone from partial images, noted once
	partialNotes [][]any         // the log attributes of each

	conflicts []Conflict      // with skip all, else the first few
	nConflict int             // how many rows conflict
	hit       map[string]bool // with skip: the keys of the conflicting rows
}

// conflictsShown is how many conflicting rows a refused flashback names.
const conflictsShown = 20

func newFlashbackState(spill *spillSink, cfg Config) *flashbackState {
	return &flashbackState{spill: spill, skip: cfg.ConflictSkip, win: newKeyRuns(cfg.TempDir), later: newKeyRuns(cfg.TempDir),
		filter: newKeyFilter(keyFilterB), tables: map[string]*binlog.TableMap{}}
}

func (fb *flashbackState) Close() error {
	err := errors.Join(fb.win.Close(), fb.later.Close())
	if fb.infos != nil {
		err = errors.Join(err, fb.infos.Close())
	}
	return err
}

// Conflict is a row the flashback window changed that a later transaction changed again.
type Conflict struct {
	Table string // db.table
	Key   string // the primary key's columns, or the whole row, as SQL literals
	Later TxnInfo
}

func (c Conflict) String() string {
	return fmt.Sprintf("%s row %s changed again by %s", c.Table, c.Key, laterText(c.Later))
}

// laterText names a later transaction: its start, commit time and GTID.
func laterText(info TxnInfo) string {
	s := "the transaction at " + info.Start.String()
	if !info.Time.IsZero() {
		s += " committed " + info.Time.Format("2006-01-02 15:04:05 UTC")
	}
	if info.GTID != "" {
		s += " GTID " + info.GTID
	}
	return s
}

// ErrConflict means rows the flashback window changed were changed again later.
var ErrConflict = errors.New("--flashback: rows the window changed were changed again after it, and undoing them would overwrite those later writes")

// keyColumns is the primary key when the table has one and the image holds it, else all.
func keyColumns(tm *binlog.TableMap, img []binlog.Value) ([]int, bool) {
	if len(tm.PrimaryKey) == 0 {
		return nil, true
	}
	for _, k := range tm.PrimaryKey {
		if k >= len(img) || img[k].Kind == binlog.ValAbsent {
			return nil, true
		}
	}
	return tm.PrimaryKey, false
}

// describeKey renders a row key (appendRowKey) for a conflict report: the primary key's
// columns, or the whole row, as SQL literals.
func (fb *flashbackState) describeKey(key []byte, tm *binlog.TableMap) string {
	cols, vals, err := decodeRowKey(key, tm)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	b := append(fb.lit[:0], '(')
	n := 0
	for j, i := range cols {
		if vals[j].Kind == binlog.ValAbsent {
			continue
		}
		if n > 0 {
			b = append(b, ", "...)
		}
		n++
		b = appendIdent(b, tm.Columns[i].Name)
		b = append(b, '=')
		b = appendLiteral(b, &tm.Columns[i], &vals[j], 0)
	}
	b = append(b, ')')
	fb.lit = b
	return truncate(b, 300)
}

// note records the row keys of one window row change, and hands them to the spill with its
// inverse statement when --on-conflict skip needs them.
func (fb *flashbackState) note(tm *binlog.TableMap, before, after []binlog.Value) error {
	fb.tables[tm.Schema+"."+tm.Table] = tm
	for i, img := range [][]binlog.Value{before, after} {
		fb.keyBuf[i] = fb.keyBuf[i][:0]
		if img == nil {
			continue
		}
		fb.keyBuf[i] = appendRowKey(fb.keyBuf[i], tm, img)
		fb.filter.add(fb.keyBuf[i])
		if err := fb.win.add(fb.keyBuf[i], 0); err != nil {
			return err
		}
	}
	if fb.skip {
		fb.spill.keys = fb.keyBuf
	}
	return nil
}

// laterRows records the rows of a transaction after the window that the window may have changed.
func (r *runner) laterRows(ctx context.Context, ev *binlog.Event) error {
	rows := ev.Rows
	tm := rows.Table
	// Only the tables the window changed: others may lack the column names a key needs.
	if !r.cfg.Filter.KeepTable(tm) || r.fb.tables[tm.Schema+"."+tm.Table] == nil {
		return nil
	}
	tm, err := r.resolve(ctx, tm)
	if err != nil {
		return err
	}
	rows.Table = tm
	if !tm.HasNames {
		return fmt.Errorf("table %s: %w", tm, ErrNoColumnNames)
	}
	fb := r.fb
	for rows.More() {
		before, after, err := rows.Next()
		if err != nil {
			return err
		}
		for _, img := range [][]binlog.Value{before, after} {
			if img == nil {
				continue
			}
			fb.keyBuf[0] = appendRowKey(fb.keyBuf[0][:0], tm, img)
			if !fb.filter.mayHold(fb.keyBuf[0]) {
				continue
			}
			tag, err := fb.laterTag(r.info)
			if err != nil {
				return err
			}
			if err := fb.later.add(fb.keyBuf[0], tag); err != nil {
				return err
			}
		}
	}
	return nil
}

// laterTag writes the info of a later transaction once, and returns its offset in the infos
// file: the later runs tag each key with it, so that a conflict names the transaction, and the
// smallest tag is the first transaction after the window that changed the row.
func (fb *flashbackState) laterTag(info TxnInfo) (uint64, error) {
	if fb.infos != nil && fb.laterN > 0 && fb.laterAt == info.Start {
		return uint64(fb.lastInfo), nil
	}
	if fb.infos == nil {
		f, err := os.CreateTemp(fb.win.dir, "pitr-flashback-later-*")
		if err != nil {
			return 0, fmt.Errorf("--flashback needs a temporary file for the conflict check: %w", err)
		}
		os.Remove(f.Name())
		fb.infos = f
	}
	b, err := json.Marshal(info)
	if err != nil {
		return 0, err
	}
	rec := binary.AppendUvarint(fb.lit[:0], uint64(len(b)))
	rec = append(rec, b...)
	fb.lit = rec
	tag := fb.infoOff
	if _, err := fb.infos.WriteAt(rec, fb.infoOff); err != nil {
		return 0, fmt.Errorf("--flashback conflict check temporary file: %w", err)
	}
	fb.infoOff += int64(len(rec))
	fb.laterAt = info.Start
	fb.laterN++
	fb.lastInfo = tag
	return uint64(tag), nil
}

// laterInfo reads back the info laterTag wrote at tag.
func (fb *flashbackState) laterInfo(tag uint64) (TxnInfo, error) {
	var info TxnInfo
	var head [binary.MaxVarintLen64]byte
	n, err := fb.infos.ReadAt(head[:], int64(tag))
	if err != nil && err != io.EOF {
		return info, err
	}
	l, k := binary.Uvarint(head[:n])
	if k <= 0 {
		return info, errors.New("--flashback conflict check temporary file: a malformed record")
	}
	b := make([]byte, l)
	if _, err := fb.infos.ReadAt(b, int64(tag)+int64(k)); err != nil {
		return info, fmt.Errorf("--flashback conflict check temporary file: %w", err)
	}
	return info, json.Unmarshal(b, &info)
}

// check joins the window's row keys with the later ones: each key in both is a conflict, with
// the first later transaction that changed it. Refusing, it keeps the first few to name.
func (fb *flashbackState) check() error {
	win, err := fb.win.merge()
	if err != nil {
		return err
	}
	later, err := fb.later.merge()
	if err != nil {
		return err
	}
	if fb.skip {
		fb.hit = map[string]bool{}
	}
	// Named in the order of the later transactions; refusing, the first conflictsShown of them.
	var tags []uint64
	err = joinKeys(win, later, func(key []byte, tag uint64) error {
		fb.nConflict++
		slot := len(fb.conflicts)
		if fb.skip {
			fb.hit[string(key)] = true
		} else if slot >= conflictsShown {
			slot = 0
			for i, t := range tags {
				if t > tags[slot] {
					slot = i
				}
			}
			if tag >= tags[slot] {
				return nil
			}
		}
		name, err := keyTable(key)
		if err != nil {
			return err
		}
		tm := fb.tables[name]
		if tm == nil {
			return fmt.Errorf("--flashback conflict check: a row key of table %s, which the window did not change", name)
		}
		info, err := fb.laterInfo(tag)
		if err != nil {
			return err
		}
		c := Conflict{Table: name, Key: fb.describeKey(key, tm), Later: info}
		if slot == len(fb.conflicts) {
			fb.conflicts = append(fb.conflicts, c)
			tags = append(tags, tag)
		} else {
			fb.conflicts[slot], tags[slot] = c, tag
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Sorted by tag, stable: rows of one later transaction stay in key order.
	idx := make([]int, len(tags))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(tags[a], tags[b]) })
	sorted := make([]Conflict, len(idx))
	for i, j := range idx {
		sorted[i] = fb.conflicts[j]
	}
	fb.conflicts = sorted
	return nil
}

// readLater reads the binlogs after the window to their end, for conflicts. The event the
// window stopped at is the first one after it.
func (r *runner) readLater(ctx context.Context) error {
	r.fb.after = true
	if r.stopEv == nil {
		return nil
	}
	r.state = txnNone
	r.seenBegin = false
	ev := r.stopEv
	r.stopEv = nil
	if _, err := r.event(ctx, ev); err != nil {
		return &binlog.PosError{Pos: ev.Pos, Err: err}
	}
	if err := r.run(ctx); err != nil {
		return err
	}
	if r.state != txnNone && r.state != txnSkipped {
		return fmt.Errorf("%s: internal error: a transaction after the flashback window was begun", r.info.Start)
	}
	return nil
}

// conflictError lists the conflicting rows (the first 20, and how many more) in one error.
func conflictError(cs []Conflict, total int) error {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString("; ")
		b.WriteString(c.String())
	}
	if total > len(cs) {
		fmt.Fprintf(&b, "; and %d more", total-len(cs))
	}
	return fmt.Errorf("%w: %d rows%s; nothing was written: end the window before those transactions, or pass --on-conflict skip to undo everything else and leave those rows as they are", ErrConflict, total, b.String())
}

// laterStatement checks a statement after the window: a row change logged as a statement
// (binlog_format STATEMENT or MIXED) of a table the window changed does not say which rows it
// changed, so the conflict check cannot see whether undoing the window would overwrite them.
// It refuses, naming the transaction; with --on-conflict skip it warns and the undo goes on (the
// found-row checks still stop at a row the statement left in another state than the window did).
// DDL is not a conflict: rows a later TRUNCATE, DROP or ALTER took away or changed are not found
// by the inverse UPDATE and DELETE, and a column it dropped fails the inverse statement.
func (r *runner) laterStatement(ev *binlog.Event, ch *ddlChange, perr error) error {
	if ch != nil || !r.seenBegin {
		return nil
	}
	fb := r.fb
	var hit []string
	unknown := perr != nil
	if perr == nil {
		if r.ddl == nil {
			r.ddl = newDDLParser()
		}
		st := r.ddl.tablesOf(ev.Query.Schema, ev.Query.SQL)
		for _, t := range st.writes {
			for name, tm := range fb.tables {
				if strings.EqualFold(t.DB, tm.Schema) && strings.EqualFold(t.Table, tm.Table) {
					hit = append(hit, name)
				}
			}
		}
		unknown = st.unknown != ""
	}
	if unknown {
		// The tables it changes cannot be known: only a statement that names none of the
		// window's tables is let through.
		text := strings.ToLower(string(ev.Query.SQL))
		for name, tm := range fb.tables {
			if strings.Contains(text, strings.ToLower(tm.Table)) {
				hit = append(hit, name)
			}
		}
	}
	if len(hit) == 0 {
		return nil
	}
	slices.Sort(hit)
	hit = slices.Compact(hit)
	tables, later := strings.Join(hit, ", "), laterText(r.info)
	if fb.skip {
		r.log.Warn("--flashback --on-conflict skip: a later transaction changed a table of the window by a statement logged without its rows (binlog_format STATEMENT or MIXED); which rows it changed is not in the binlog, so the undo may overwrite them (the found-row checks stop at a row it left in another state)",
			slog.String("tables", tables), slog.String("transaction", later), slog.String("sql", truncate(ev.Query.SQL, 200)))
		return nil
	}
	return fmt.Errorf("%w: %s changed by a statement logged without its rows (binlog_format STATEMENT or MIXED) in %s: %s; which rows it changed is not in the binlog, so they cannot be checked; nothing was written: check those rows by hand, then pass --on-conflict skip to undo anyway",
		ErrConflict, tables, later, truncate(ev.Query.SQL, 200))
}
