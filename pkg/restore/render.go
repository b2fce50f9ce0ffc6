package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// ErrNoColumnNames means a row event's table map carries no column names, so no column list can
// be written without guessing.
var ErrNoColumnNames = errors.New("the binlog has no column names for this table (binlog_row_metadata is not FULL): " +
	"give its CREATE TABLE with --schema DUMP (a mysqldump/mariadb-dump file or mydumper folder; --from-backup with a logical backup does this), " +
	"read it from a server with --schema-from mysql://user@host:port, or set binlog_row_metadata=FULL on the source for binlogs to come")

// ErrRowTooLarge means one row alone does not fit in max_allowed_packet.
var ErrRowTooLarge = errors.New("row does not fit in --max-allowed-packet")

// RenderOptions shapes the statements.
type RenderOptions struct {
	Rewrite   *Rewrite // table names to write instead of the source's; nil keeps them
	Batch     int      // rows per INSERT, UPDATE or DELETE; 1 or less means one row per statement
	MaxPacket int      // no statement may be longer (bytes)
	// NoForeignKeyChecks keeps foreign_key_checks=0 for the whole session, whatever the source
	// session had: a table rebuilt alone (--with-backup-data) references tables that are not there.
	NoForeignKeyChecks bool
	// BeforeImage finds each updated or deleted row by every column its before image holds,
	// not only by its primary key, so that an apply that checks found rows also stops where the
	// target's row differs from the source's in any column. Updates and deletes are then one
	// row per statement.
	BeforeImage bool
}

// SessionStatements are the settings under which rendered literals mean exactly the stored
// bytes: utf8mb4 text, TIMESTAMP values in UTC, backslash escapes on, zero and invalid dates and
// zero AUTO_INCREMENT values stored as given. The session is strict: a value the target would
// change to store it (a narrower column, a string its charset cannot hold, an out-of-range
// number) is an error that stops the replay, never a warning.
func SessionStatements() []string { return RenderOptions{}.SessionStatements() }

// SessionStatements are the settings a replay rendered with o runs under.
func (o RenderOptions) SessionStatements() []string {
	fk := "SET foreign_key_checks=1"
	if o.NoForeignKeyChecks {
		fk = "SET foreign_key_checks=0"
	}
	return []string{
		"SET NAMES utf8mb4",
		"SET time_zone='+00:00'",
		"SET sql_mode='STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES'",
		fk,
		"SET unique_checks=1",
	}
}

// Rows event flags that carry the source session's settings.
const (
	flagNoForeignKeyChecks = 0x2
	flagRelaxedUniqueCheck = 0x4
)

// Renderer writes row changes as SQL statements to a Sink, folding consecutive inserts into
// one table into multi-row INSERTs, and consecutive updates and deletes by an integer key into
// multi-row UPDATEs and DELETEs (see keyedBatch).
type Renderer struct {
	opts  RenderOptions
	sink  Sink
	rows  RowSink // sink, when it checks row counts
	where int     // where the last appendUpdate or appendDelete put its WHERE

	stmt        []byte
	pending     *binlog.TableMap // table of the INSERT in stmt, nil if none
	pendPresent []byte
	pendRows    int
	row         []byte
	kb          keyedBatch // pending multi-row UPDATE or DELETE; never at the same time as pending
	cols        []int      // scratch: the columns an UPDATE sets
	armCols     []int      // the row rendered in row for kb: its SET columns
	armOff      []int      // and where each one's literal begins in row
	sess        *session   // the target session's settings; nil: Flags tracks its own
	fkOff       bool
	uniqueOff   bool
	mode        litMode        // litCompact while a row too large in hex is rendered again
	historyOn   bool           // SET system_versioning_insert_history=1 written
	history     map[string]int // history rows the replayed UPDATEs of versioned tables made (historyKey)
	hkey        []byte
}

// NewRenderer returns a renderer writing to sink.
func NewRenderer(sink Sink, opts RenderOptions) *Renderer {
	if opts.Batch < 1 {
		opts.Batch = 1
	}
	if opts.MaxPacket <= 0 {
		opts.MaxPacket = 64 << 20
	}
	rs, _ := sink.(RowSink)
	return &Renderer{opts: opts, sink: sink, rows: rs, fkOff: opts.NoForeignKeyChecks}
}

// writeRows writes a row statement that changes n rows, with the offset of its WHERE.
func (r *Renderer) writeRows(ctx context.Context, stmt []byte, n, where int) error {
	if r.rows != nil {
		return r.rows.WriteRows(ctx, stmt, RowCheck{Rows: int64(n), Where: where})
	}
	return r.sink.Write(ctx, stmt)
}

// limit leaves room for the protocol header and the client's own framing.
func (r *Renderer) limit() int { return r.opts.MaxPacket - 64 }

// Flags applies the session settings a rows event was written under.
func (r *Renderer) Flags(ctx context.Context, flags uint16) error {
	fk := flags&flagNoForeignKeyChecks != 0 || r.opts.NoForeignKeyChecks
	uq := flags&flagRelaxedUniqueCheck != 0
	if r.sess != nil {
		if r.sess.cur["foreign_key_checks"] == onOff(!fk) && r.sess.cur["unique_checks"] == onOff(!uq) {
			return nil
		}
		if err := r.Flush(ctx); err != nil {
			return err
		}
		return r.sess.set(ctx, "foreign_key_checks", onOff(!fk), "unique_checks", onOff(!uq))
	}
	if fk == r.fkOff && uq == r.uniqueOff {
		return nil
	}
	if err := r.Flush(ctx); err != nil {
		return err
	}
	if fk != r.fkOff {
		r.fkOff = fk
		s := "SET foreign_key_checks=1"
		if fk {
			s = "SET foreign_key_checks=0"
		}
		if err := r.sink.Write(ctx, []byte(s)); err != nil {
			return err
		}
	}
	if uq != r.uniqueOff {
		r.uniqueOff = uq
		s := "SET unique_checks=1"
		if uq {
			s = "SET unique_checks=0"
		}
		if err := r.sink.Write(ctx, []byte(s)); err != nil {
			return err
		}
	}
	return nil
}

// Row renders one row change. before is nil for inserts, after is nil for deletes.
func (r *Renderer) Row(ctx context.Context, kind binlog.RowsKind, tm *binlog.TableMap, before, after []binlog.Value) error {
	err := r.change(ctx, kind, tm, before, after)
	if errors.Is(err, ErrRowTooLarge) && hasBinary(before, after) {
		// Hex doubles a binary value; escaped binary strings are about as long as the data.
		// Nothing of a row that did not fit has been written.
		r.mode = litCompact
		err = r.change(ctx, kind, tm, before, after)
		r.mode = 0
	}
	return err
}

func hasBinary(images ...[]binlog.Value) bool {
	for _, vals := range images {
		for i := range vals {
			switch vals[i].Kind {
			case binlog.ValBinary, binlog.ValString, binlog.ValGeometry, binlog.ValVector:
				return true
			}
		}
	}
	return false
}

func whereMode(where bool, m litMode) litMode {
	if where {
		return m | litWhere
	}
	return m
}

func (r *Renderer) change(ctx context.Context, kind binlog.RowsKind, tm *binlog.TableMap, before, after []binlog.Value) error {
	if !tm.HasNames {
		return fmt.Errorf("table %s: %w", tm, ErrNoColumnNames)
	}
	if vs, ve := periodColumns(tm); ve >= 0 {
		return r.versioned(ctx, kind, tm, vs, ve, before, after)
	}
	if kind == binlog.Insert && hasAbsent(after) && isSequence(tm) {
		return r.sequenceInsert(ctx, tm, after)
	}
	switch kind {
	case binlog.Insert:
		return r.insert(ctx, tm, after)
	case binlog.Update, binlog.Delete:
		if r.pending != nil {
			if err := r.Flush(ctx); err != nil {
				return err
			}
		}
		if ok, err := r.keyed(ctx, kind, tm, before, after); ok || err != nil {
			return err
		}
		if err := r.Flush(ctx); err != nil {
			return err
		}
		var err error
		if kind == binlog.Update {
			r.stmt, err = r.appendUpdate(r.stmt[:0], tm, before, after)
		} else {
			r.stmt, err = r.appendDelete(r.stmt[:0], tm, before)
		}
		if err != nil {
			return err
		}
		return r.emit(ctx, 1, r.where)
	}
	return fmt.Errorf("unknown row change kind %v", kind)
}

// setColumns appends to dst the columns an UPDATE sets: those the after image holds that are
// not generated and whose value changed, or whose change the before image cannot tell. A column
// the row change left alone already holds its value in a target that matches the before image,
// so setting it again would only cost the server work; MINIMAL row images are replayed the same
// way. TIMESTAMP and DATETIME columns are always set: one with ON UPDATE CURRENT_TIMESTAMP would
// otherwise take the target's clock. A row that did not change sets every column it holds.
func setColumns(dst []int, tm *binlog.TableMap, before, after []binlog.Value) []int {
	n := len(dst)
	for i := range after {
		a := &after[i]
		if a.Kind == binlog.ValAbsent || tm.Columns[i].Generated {
			continue
		}
		changed := true
		if i < len(before) {
			switch tm.Columns[i].Type {
			case mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2:
			default:
				b := &before[i]
				changed = b.Kind != a.Kind || b.Uint != a.Uint || !bytes.Equal(b.Text, a.Text)
			}
		}
		if changed {
			dst = append(dst, i)
		}
	}
	if len(dst) > n {
		return dst
	}
	for i := range after {
		if after[i].Kind != binlog.ValAbsent && !tm.Columns[i].Generated {
			dst = append(dst, i)
		}
	}
	return dst
}

// appendUpdate writes the single-row UPDATE.
func (r *Renderer) appendUpdate(b []byte, tm *binlog.TableMap, before, after []binlog.Value) ([]byte, error) {
	b = append(b, "UPDATE "...)
	b = r.appendTable(b, tm)
	b = append(b, " SET "...)
	r.cols = setColumns(r.cols[:0], tm, before, after)
	n := 0
	for _, i := range r.cols {
		if n > 0 {
			b = append(b, ", "...)
		}
		n++
		c := &tm.Columns[i]
		b = appendIdent(b, c.Name)
		b = append(b, '=')
		b = appendLiteral(b, c, &after[i], r.mode)
	}
	if n == 0 {
		return b, fmt.Errorf("table %s: update row with an empty after image", tm)
	}
	r.where = len(b)
	return appendWhere(b, tm, before, r.mode, r.opts.BeforeImage)
}

// appendDelete writes the single-row DELETE.
func (r *Renderer) appendDelete(b []byte, tm *binlog.TableMap, before []binlog.Value) ([]byte, error) {
	b = append(b, "DELETE FROM "...)
	b = r.appendTable(b, tm)
	r.where = len(b)
	return appendWhere(b, tm, before, r.mode, r.opts.BeforeImage)
}

// emit writes r.stmt, which changes n rows.
func (r *Renderer) emit(ctx context.Context, n, where int) error {
	if len(r.stmt) > r.limit() {
		return fmt.Errorf("%w: a %d-byte statement for one row, limit %d", ErrRowTooLarge, len(r.stmt), r.opts.MaxPacket)
	}
	return r.writeRows(ctx, r.stmt, n, where)
}

func rowTooLarge(tm *binlog.TableMap, n, limit int) error {
	return fmt.Errorf("%w: table %s, a %d-byte statement for one row, limit %d", ErrRowTooLarge, tm, n, limit)
}

func (r *Renderer) insert(ctx context.Context, tm *binlog.TableMap, after []binlog.Value) error {
	if err := r.flushKeyed(ctx); err != nil {
		return err
	}
	// The row's VALUES tuple first, so we know whether it still fits the pending statement.
	b := append(r.row[:0], '(')
	for i := range after {
		if after[i].Kind == binlog.ValAbsent || tm.Columns[i].Generated {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = appendLiteral(b, &tm.Columns[i], &after[i], r.mode)
	}
	b = append(b, ')')
	r.row = b
	if r.pending != nil {
		same := r.pending == tm && presentEqual(r.pendPresent, after)
		if !same || r.pendRows >= r.opts.Batch || len(r.stmt)+1+len(r.row) > r.limit() {
			if err := r.Flush(ctx); err != nil {
				return err
			}
		}
	}
	if r.pending == nil {
		s := r.stmt[:0]
		s = append(s, "INSERT INTO "...)
		s = r.appendTable(s, tm)
		s = append(s, " ("...)
		n := 0
		r.pendPresent = r.pendPresent[:0]
		for i := range after {
			absent := after[i].Kind == binlog.ValAbsent || tm.Columns[i].Generated
			if absent {
				r.pendPresent = append(r.pendPresent, 0)
				continue
			}
			r.pendPresent = append(r.pendPresent, 1)
			if n > 0 {
				s = append(s, ',')
			}
			n++
			s = appendIdent(s, tm.Columns[i].Name)
		}
		s = append(s, ") VALUES "...)
		r.stmt = s
		r.pending = tm
		r.pendRows = 0
		if len(r.stmt)+len(r.row) > r.limit() {
			r.pending = nil
			return fmt.Errorf("%w: table %s, a %d-byte statement for one row, limit %d", ErrRowTooLarge, tm, len(r.stmt)+len(r.row), r.opts.MaxPacket)
		}
	} else {
		r.stmt = append(r.stmt, ',')
	}
	r.stmt = append(r.stmt, r.row...)
	r.pendRows++
	if r.opts.Batch == 1 {
		return r.Flush(ctx)
	}
	return nil
}

func presentEqual(p []byte, vals []binlog.Value) bool {
	if len(p) != len(vals) {
		return false
	}
	for i := range vals {
		if (vals[i].Kind == binlog.ValAbsent) != (p[i] == 0) {
			return false
		}
	}
	return true
}

// Flush writes the pending multi-row statement, if any.
func (r *Renderer) Flush(ctx context.Context) error {
	if r.pending == nil {
		return r.flushKeyed(ctx)
	}
	r.pending = nil
	return r.writeRows(ctx, r.stmt, r.pendRows, 0)
}

func (r *Renderer) appendTable(b []byte, tm *binlog.TableMap) []byte {
	db, table := r.opts.Rewrite.target(tm)
	b = appendIdent(b, db)
	b = append(b, '.')
	return appendIdent(b, table)
}

// appendWhere identifies the before-image row: by its primary key when the binlog names one and
// the image holds it (unless all is set), otherwise by every column the image holds, compared
// NULL-safely.
func appendWhere(b []byte, tm *binlog.TableMap, before []binlog.Value, compact litMode, all bool) ([]byte, error) {
	b = append(b, " WHERE "...)
	usePK := len(tm.PrimaryKey) > 0 && !all
	for _, k := range tm.PrimaryKey {
		if k >= len(before) || before[k].Kind == binlog.ValAbsent || before[k].Kind == binlog.ValNull {
			usePK = false
		}
	}
	for i := range before {
		if err := whereKnown(tm, i, &before[i]); err != nil {
			return b, err
		}
	}
	n := 0
	if usePK {
		for _, k := range tm.PrimaryKey {
			if n > 0 {
				b = append(b, " AND "...)
			}
			n++
			c := &tm.Columns[k]
			b = appendIdent(b, c.Name)
			b = append(b, '=')
			// Equality on the key's own collation keeps the index usable; only FLOAT needs the
			// comparison form.
			b = appendLiteral(b, c, &before[k], whereMode(before[k].Kind == binlog.ValFloat, compact))
		}
	} else {
		for i := range before {
			if before[i].Kind == binlog.ValAbsent {
				continue
			}
			if n > 0 {
				b = append(b, " AND "...)
			}
			n++
			c := &tm.Columns[i]
			b = appendIdent(b, c.Name)
			b = append(b, "<=>"...)
			b = appendLiteral(b, c, &before[i], litWhere|compact)
		}
	}
	if n == 0 {
		return b, fmt.Errorf("table %s: before image holds no column to find the row by", tm)
	}
	return append(b, " LIMIT 1"...), nil
}

// whereKnown refuses to compare a CHAR/BINARY value whose column's charset nobody gave
// (binlog_row_metadata=NO_LOG and a schema without it): the row image drops the trailing 0x00
// bytes of a BINARY value, and spaces of a CHAR one, and only the charset says which the
// stored value has, so a WHERE could miss the row.
func whereKnown(tm *binlog.TableMap, i int, v *binlog.Value) error {
	c := &tm.Columns[i]
	if v.Kind == binlog.ValJSONDiff {
		// Only an after image holds diffs; a flashback would look for the row by one.
		return fmt.Errorf("table %s column `%s`: the row image holds only the changes to the JSON document (binlog_row_value_options=PARTIAL_JSON), not the document, so it cannot find the row", tm, c.Name)
	}
	if c.Collation != 0 || (v.Kind != binlog.ValString && v.Kind != binlog.ValBinary) || len(v.Text) >= c.FixedLen() {
		return nil
	}
	return fmt.Errorf("table %s column `%s` is CHAR(%d) or BINARY(%d) of a charset neither the binlog (binlog_row_metadata=NO_LOG) nor the schema gives: "+
		"pitr cannot tell which pad bytes the row image left out of %d of its bytes, so it cannot find the row exactly; give --schema with the table's charset",
		tm, c.Name, c.FixedLen(), c.FixedLen(), len(v.Text))
}
