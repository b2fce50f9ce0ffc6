package restore

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// maxUpdateBatch caps the rows of one multi-row UPDATE. Each row's CASE scans the WHEN arms in
// order, so the server's work grows with the square of the rows: on MariaDB 10.11 a 100k-row
// update costs 19 µs a row in batches of 10 to 25, 26 at 50, 30 at 100, against 36 as single
// statements (internal/benchgen data, measured with the Applier's multi-statement batches).
const maxUpdateBatch = 20

// keyedBatch folds consecutive UPDATEs or DELETEs of one table into one statement. Rows qualify
// when the table's primary key is one integer column that the update leaves alone, and each
// row's key is greater than the one before: the statement then names its rows with
// `WHERE key IN (...) ORDER BY key`, so the server changes them one by one in the order the
// source did. Order matters to InnoDB, which checks unique and foreign keys row by row, and to
// triggers.
//
// A DELETE batch is `DELETE FROM t WHERE k IN (k1,k2) ORDER BY k`. An UPDATE batch gives each
// column one CASE over the key: `SET c=CASE k WHEN k1 THEN v1 WHEN k2 THEN v2 END`. A CASE has
// one result type for all its arms, so a column joins only with literals of one form (all
// quoted, all hex, or all numbers; NULL goes with any), for which that type holds each value
// exactly: integers and same-scale decimals widen without loss, strings keep their bytes.
// Floats are written in E notation, exact double literals, so that their arms never become a
// DECIMAL that could be too narrow. BIT literals (b'...') are binary strings, like hex.
type keyedBatch struct {
	kind binlog.RowsKind // Update or Delete; 0 when empty
	tm   *binlog.TableMap
	key  int    // column index of the key
	last []byte // the last row's key, as decimal text
	rows int

	ids    []byte   // "k1,k2,..."
	single []byte   // the first row as the single-row statement, written when the batch holds one row
	swhere int      // where single's WHERE starts
	cols   []int    // update: the SET columns, in order
	forms  []byte   // update: per SET column, the literal form its arms share (0 = NULL so far)
	arms   [][]byte // update: per SET column, " WHEN k THEN v" for each row
	len    int      // the length of the batch statement as flushKeyed writes it
}

// literalForm classifies a rendered literal by its first byte: quoted string, hex string (or
// escaped binary string), hex string in the column's charset, bit string, NULL (which fits any),
// or a number.
func literalForm(lit []byte) byte {
	if bytes.HasPrefix(lit, []byte("_binary'")) {
		return 'X' // a binary string, as hex is
	}
	switch c := lit[0]; c {
	case '_':
		return c // hex introduced by the column's own charset
	case '\'', 'X', 'N', 'b':
		return c
	}
	return '0'
}

// keyOf returns the row's key column when the table has a one-column integer primary key.
func keyOf(tm *binlog.TableMap, before []binlog.Value) (int, bool) {
	if len(tm.PrimaryKey) != 1 {
		return 0, false
	}
	k := tm.PrimaryKey[0]
	return k, k < len(before) && before[k].Kind == binlog.ValInt
}

// cmpInt compares two canonical decimal integers (no leading zeros, no "-0").
func cmpInt(a, b []byte) int {
	na, nb := len(a) > 0 && a[0] == '-', len(b) > 0 && b[0] == '-'
	if na != nb {
		if na {
			return -1
		}
		return 1
	}
	c := 0
	switch {
	case len(a) != len(b):
		c = 1
		if len(a) < len(b) {
			c = -1
		}
	default:
		c = bytes.Compare(a, b)
	}
	if na {
		return -c
	}
	return c
}

// keyed tries to add a row to the keyed batch, flushing first when the row cannot join the
// pending one. It returns false when the row does not qualify at all; the caller then writes
// it as a single statement.
func (r *Renderer) keyed(ctx context.Context, kind binlog.RowsKind, tm *binlog.TableMap, before, after []binlog.Value) (bool, error) {
	if r.opts.Batch < 2 || r.opts.BeforeImage {
		return false, nil
	}
	k, ok := keyOf(tm, before)
	if !ok {
		return false, nil
	}
	key := before[k].Text
	limit := r.opts.Batch
	// The row's SET literals, rendered once: r.row holds them, r.armOff[j] where the j-th begins.
	r.row, r.armCols, r.armOff = r.row[:0], r.armCols[:0], r.armOff[:0]
	if kind == binlog.Update {
		if k < len(after) && after[k].Kind != binlog.ValAbsent && (after[k].Kind != binlog.ValInt || !bytes.Equal(after[k].Text, key)) {
			return false, nil // the key changes
		}
		r.cols = setColumns(r.cols[:0], tm, before, after)
		for _, i := range r.cols {
			if i == k {
				continue
			}
			r.armCols = append(r.armCols, i)
			r.armOff = append(r.armOff, len(r.row))
			r.row = appendArmLiteral(r.row, &tm.Columns[i], &after[i], r.mode)
		}
		if len(r.armCols) == 0 {
			return false, nil
		}
		r.armOff = append(r.armOff, len(r.row))
		limit = min(limit, maxUpdateBatch)
	}
	b := &r.kb
	if b.kind != 0 && (b.kind != kind || b.tm != tm || b.rows >= limit || cmpInt(b.last, key) >= 0 || !r.joins(key)) {
		if err := r.Flush(ctx); err != nil {
			return false, err
		}
	}
	if b.kind == 0 {
		if err := r.startKeyed(kind, tm, k, before, after); err != nil {
			return false, err
		}
	}
	r.addKeyed(key)
	return true, nil
}

// armLen is how much a row adds to the batch statement: its key in the IN list, and per SET
// column " WHEN key THEN literal".
func (r *Renderer) armLen(key []byte) int {
	n := len(key) + 1
	for j := range r.armCols {
		n += len(" WHEN  THEN ") + len(key) + r.armOff[j+1] - r.armOff[j]
	}
	return n
}

// joins reports whether the rendered row fits the pending batch: the same SET columns, each
// literal in its column's form, and the statement still under the packet limit.
func (r *Renderer) joins(key []byte) bool {
	b := &r.kb
	if b.kind == binlog.Update {
		if len(r.armCols) != len(b.cols) {
			return false
		}
		for j, i := range r.armCols {
			if b.cols[j] != i {
				return false
			}
			f := literalForm(r.row[r.armOff[j]:r.armOff[j+1]])
			if f != 'N' && b.forms[j] != 0 && b.forms[j] != f {
				return false
			}
		}
	}
	return b.len+r.armLen(key) <= r.limit()
}

// appendArmLiteral renders a value for a CASE arm: as for a single statement, except floats,
// which are given as their exact double in E notation.
func appendArmLiteral(dst []byte, c *binlog.Column, v *binlog.Value, mode litMode) []byte {
	if v.Kind == binlog.ValFloat {
		return strconv.AppendFloat(dst, math.Float64frombits(v.Uint), 'e', -1, 64)
	}
	return appendLiteral(dst, c, v, mode)
}

// startKeyed begins a batch with the row rendered in r.row.
func (r *Renderer) startKeyed(kind binlog.RowsKind, tm *binlog.TableMap, k int, before, after []binlog.Value) error {
	b := &r.kb
	// The single-row statement, for a batch that ends up with one row.
	var err error
	if kind == binlog.Update {
		b.single, err = r.appendUpdate(b.single[:0], tm, before, after)
	} else {
		b.single, err = r.appendDelete(b.single[:0], tm, before)
	}
	if err != nil {
		return err
	}
	b.swhere = r.where
	if len(b.single) > r.limit() {
		return rowTooLarge(tm, len(b.single), r.opts.MaxPacket)
	}
	b.kind, b.tm, b.key, b.rows = kind, tm, k, 0
	b.ids = b.ids[:0]
	b.cols = append(b.cols[:0], r.armCols...)
	b.forms = b.forms[:0]
	for len(b.arms) < len(b.cols) {
		b.arms = append(b.arms, nil)
	}
	// The statement's length without rows (see flushKeyed).
	keyName := len(appendIdent(r.stmt[:0], tm.Columns[k].Name))
	b.len = len(r.appendTable(r.stmt[:0], tm)) + len(" WHERE  IN () ORDER BY ") + 2*keyName
	if kind == binlog.Delete {
		b.len += len("DELETE FROM ")
	} else {
		b.len += len("UPDATE  SET ")
		for j, i := range b.cols {
			b.forms = append(b.forms, 0)
			b.arms[j] = b.arms[j][:0]
			b.len += len(appendIdent(r.stmt[:0], tm.Columns[i].Name)) + len("=CASE  END") + keyName
			if j > 0 {
				b.len += len(", ")
			}
		}
	}
	return nil
}

// addKeyed adds the row rendered in r.row to the batch.
func (r *Renderer) addKeyed(key []byte) {
	b := &r.kb
	b.len += r.armLen(key)
	if b.rows > 0 {
		b.ids = append(b.ids, ',')
	} else {
		b.len-- // no comma before the first key
	}
	b.ids = append(b.ids, key...)
	for j := range b.cols {
		lit := r.row[r.armOff[j]:r.armOff[j+1]]
		a := append(b.arms[j], " WHEN "...)
		a = append(a, key...)
		a = append(a, " THEN "...)
		b.arms[j] = append(a, lit...)
		if f := literalForm(lit); f != 'N' {
			b.forms[j] = f
		}
	}
	b.last = append(b.last[:0], key...)
	b.rows++
}

// flushKeyed writes the pending keyed batch.
func (r *Renderer) flushKeyed(ctx context.Context) error {
	b := &r.kb
	if b.kind == 0 {
		return nil
	}
	kind := b.kind
	b.kind = 0
	if b.rows == 1 {
		return r.writeRows(ctx, b.single, 1, b.swhere)
	}
	s := r.stmt[:0]
	if kind == binlog.Delete {
		s = append(s, "DELETE FROM "...)
		s = r.appendTable(s, b.tm)
	} else {
		s = append(s, "UPDATE "...)
		s = r.appendTable(s, b.tm)
		s = append(s, " SET "...)
		for j, i := range b.cols {
			if j > 0 {
				s = append(s, ", "...)
			}
			s = appendIdent(s, b.tm.Columns[i].Name)
			s = append(s, "=CASE "...)
			s = appendIdent(s, b.tm.Columns[b.key].Name)
			s = append(s, b.arms[j]...)
			s = append(s, " END"...)
		}
	}
	where := len(s)
	s = append(s, " WHERE "...)
	s = appendIdent(s, b.tm.Columns[b.key].Name)
	s = append(s, " IN ("...)
	s = append(s, b.ids...)
	s = append(s, ") ORDER BY "...)
	s = appendIdent(s, b.tm.Columns[b.key].Name)
	r.stmt = s
	if len(s) != b.len {
		return fmt.Errorf("internal error: %s: batch statement of %d bytes, %d expected", b.tm, len(s), b.len)
	}
	return r.emit(ctx, b.rows, where)
}
