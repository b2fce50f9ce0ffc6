package restore

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// System-versioned tables (MariaDB WITH SYSTEM VERSIONING). The source logs each change with
// the period columns the server set: an INSERT as the new row; an UPDATE as the current row's
// update (row_start moved to the statement's time) plus a write of the history row it left
// (row_end at that time); a DELETE as an update of row_end alone. No statement may set
// row_start or row_end, but a session may set the time the server versions with, to the
// microsecond, and system_versioning_insert_history (MariaDB 10.11) lets INSERT write both. So:
//
//   - an UPDATE runs at the source's time (SET @@timestamp), and the server makes the same
//     history row the source did; the logged history row is then left out;
//   - a DELETE runs at its row_end time, and the server ends the row as the source did;
//   - every other write (new rows, history rows a source inserted itself) is an INSERT with both
//     period columns.
//
// Tables versioned by transaction id (row_start BIGINT UNSIGNED) cannot be given the source's
// ids: they stop the replay.

// periodColumns returns the row start and end columns, -1 if the table is not versioned.
func periodColumns(tm *binlog.TableMap) (start, end int) {
	start, end = -1, -1
	for i := range tm.Columns {
		if tm.Columns[i].RowStart {
			start = i
		}
		if tm.Columns[i].RowEnd {
			end = i
		}
	}
	if start < 0 || end < 0 {
		return -1, -1
	}
	return start, end
}

// isCurrent reports whether a row_end value is the end of time, that of a current row: the
// largest TIMESTAMP (MariaDB up to 11.4, and on 32-bit builds) or the 11.5+ 64-bit one.
func isCurrent(v *binlog.Value) bool {
	t := string(v.Text)
	return v.Kind == binlog.ValTemporal && (t == "2038-01-19 03:14:07.999999" || t == "2106-02-07 06:28:15.999999")
}

func (r *Renderer) versioned(ctx context.Context, kind binlog.RowsKind, tm *binlog.TableMap, vs, ve int, before, after []binlog.Value) error {
	switch tm.Columns[ve].Type {
	case mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2:
	default:
		return fmt.Errorf("table %s is system-versioned by transaction id (row_start and row_end are BIGINT UNSIGNED): "+
			"no session can give a row the source's transaction ids, so pitr cannot replay it exactly; leave the table out (--exclude-table)", tm)
	}
	if !r.historyOn {
		if err := r.Flush(ctx); err != nil {
			return err
		}
		if err := r.sink.Write(ctx, []byte("SET system_versioning_insert_history=1")); err != nil {
			return err
		}
		r.historyOn = true
	}
	switch kind {
	case binlog.Insert:
		if !isCurrent(&after[ve]) && after[ve].Kind == binlog.ValTemporal {
			key := r.historyKey(tm, after, ve, after[ve].Text)
			if n := r.history[key]; n > 0 {
				// The history row the replayed UPDATE has made on the target, just as the
				// source's made it.
				if n == 1 {
					delete(r.history, key)
				} else {
					r.history[key] = n - 1
				}
				return nil
			}
		}
		return r.insert(ctx, tm, after)
	case binlog.Delete:
		return fmt.Errorf("table %s: a row deleted from a system-versioned table's history (DELETE HISTORY): "+
			"no statement deletes one history row, so pitr cannot replay it exactly", tm)
	}
	if before[ve].Kind == binlog.ValAbsent || after[ve].Kind == binlog.ValAbsent {
		return fmt.Errorf("table %s: an update of a system-versioned table whose row images leave out its row end column `%s`", tm, tm.Columns[ve].Name)
	}
	if !isCurrent(&before[ve]) {
		return fmt.Errorf("table %s: an update of a history row (row end %s): no statement changes one, so pitr cannot replay it exactly", tm, before[ve].Text)
	}
	if err := r.Flush(ctx); err != nil {
		return err
	}
	var at []byte
	hkey := ""
	where := 0
	if isCurrent(&after[ve]) {
		// UPDATE: the new row starts, and the history row ends, at the statement's time.
		if after[vs].Kind != binlog.ValTemporal {
			return fmt.Errorf("table %s: an update of a system-versioned row whose after image has no row start", tm)
		}
		at = after[vs].Text
		r.cols = setColumns(r.cols[:0], tm, before, after)
		n := 0
		for _, i := range r.cols {
			if i != vs && i != ve {
				r.cols[n] = i
				n++
			}
		}
		r.cols = r.cols[:n]
		if n == 0 {
			return fmt.Errorf("table %s: an update of a system-versioned row that changes only its period columns", tm)
		}
		s := append(r.stmt[:0], "UPDATE "...)
		s = r.appendTable(s, tm)
		s = append(s, " SET "...)
		for j, i := range r.cols {
			if j > 0 {
				s = append(s, ", "...)
			}
			s = appendIdent(s, tm.Columns[i].Name)
			s = append(s, '=')
			s = appendLiteral(s, &tm.Columns[i], &after[i], r.mode)
		}
		var err error
		where = len(s)
		if s, err = appendWhere(s, tm, before, r.mode, r.opts.BeforeImage); err != nil {
			return err
		}
		r.stmt = s
		hkey = r.historyKey(tm, before, ve, at)
	} else {
		// DELETE: the row ends at the statement's time; nothing else may change.
		for i := range after {
			if i != ve && after[i].Kind != binlog.ValAbsent && before[i].Kind != binlog.ValAbsent &&
				(after[i].Kind != before[i].Kind || after[i].Uint != before[i].Uint || !bytes.Equal(after[i].Text, before[i].Text)) {
				return fmt.Errorf("table %s: a system-versioned row ended (row end %s) with column `%s` changed too", tm, after[ve].Text, tm.Columns[i].Name)
			}
		}
		at = after[ve].Text
		s := append(r.stmt[:0], "DELETE FROM "...)
		s = r.appendTable(s, tm)
		var err error
		where = len(s)
		if s, err = appendWhere(s, tm, before, r.mode, r.opts.BeforeImage); err != nil {
			return err
		}
		r.stmt = s
	}
	if len(r.stmt) > r.limit() {
		return rowTooLarge(tm, len(r.stmt), r.opts.MaxPacket)
	}
	ts := append([]byte("SET @@timestamp=UNIX_TIMESTAMP('"), at...)
	ts = append(ts, "')"...)
	if err := r.sink.Write(ctx, ts); err != nil {
		return err
	}
	if err := r.writeRows(ctx, r.stmt, 1, where); err != nil {
		return err
	}
	if err := r.sink.Write(ctx, []byte("SET @@timestamp=DEFAULT")); err != nil {
		return err
	}
	if hkey != "" {
		if r.history == nil {
			r.history = map[string]int{}
		}
		r.history[hkey]++
	}
	return nil
}

// historyKey names the history row an UPDATE leaves: the row's key (or, without one, every
// column the image holds but the period's) and the time the row ended. A versioned table's
// rows are unique by key and row end.
func (r *Renderer) historyKey(tm *binlog.TableMap, vals []binlog.Value, ve int, end []byte) string {
	k := append(r.hkey[:0], tm.Schema...)
	k = append(k, '.')
	k = append(k, tm.Table...)
	cols := tm.PrimaryKey
	if len(cols) == 0 {
		cols = nil
		for i := range vals {
			cols = append(cols, i)
		}
	}
	for _, i := range cols {
		if i == ve || tm.Columns[i].RowStart || vals[i].Kind == binlog.ValAbsent {
			continue
		}
		k = append(k, '|')
		k = strconv.AppendInt(k, int64(i), 10)
		k = append(k, '=')
		k = appendLiteral(k, &tm.Columns[i], &vals[i], 0)
	}
	k = append(k, "|end="...)
	k = append(k, end...)
	r.hkey = k
	return string(k)
}

// EndTransaction forgets the history rows expected from the transaction's updates: each comes
// in the same statement as its update.
func (r *Renderer) EndTransaction() {
	clear(r.history)
}

// sequenceColumns are the columns of a MariaDB sequence, in order: every sequence is a one-row
// table of exactly these.
var sequenceColumns = [...]string{"next_not_cached_value", "minimum_value", "maximum_value", "start_value", "increment",
	"cache_size", "cycle_option", "cycle_count"}

func isSequence(tm *binlog.TableMap) bool {
	if len(tm.Columns) != len(sequenceColumns) {
		return false
	}
	for i, c := range tm.Columns {
		want := byte(mysql.MYSQL_TYPE_LONGLONG)
		if i == 6 {
			want = mysql.MYSQL_TYPE_TINY
		}
		if c.Name != sequenceColumns[i] || c.Type != want {
			return false
		}
	}
	return true
}

// sequenceInsert writes a sequence's new state from a MINIMAL row image, which holds only the
// columns that changed (next_not_cached_value, cycle_count): a sequence refuses an INSERT that
// does not give every column, so the others come from its own row, which the change left as it
// was.
func (r *Renderer) sequenceInsert(ctx context.Context, tm *binlog.TableMap, after []binlog.Value) error {
	if err := r.Flush(ctx); err != nil {
		return err
	}
	s := append(r.stmt[:0], "INSERT INTO "...)
	s = r.appendTable(s, tm)
	s = append(s, " ("...)
	for i := range tm.Columns {
		if i > 0 {
			s = append(s, ',')
		}
		s = appendIdent(s, tm.Columns[i].Name)
	}
	s = append(s, ") SELECT "...)
	for i := range tm.Columns {
		if i > 0 {
			s = append(s, ',')
		}
		if after[i].Kind == binlog.ValAbsent {
			s = appendIdent(s, tm.Columns[i].Name)
		} else {
			s = appendLiteral(s, &tm.Columns[i], &after[i], 0)
		}
	}
	s = append(s, " FROM "...)
	s = r.appendTable(s, tm)
	r.stmt = s
	return r.emit(ctx, 1, 0)
}

func hasAbsent(vals []binlog.Value) bool {
	for i := range vals {
		if vals[i].Kind == binlog.ValAbsent {
			return true
		}
	}
	return false
}

// versioned reports whether a catalog holds tm's table as system-versioned (a CREATE TABLE ...
// WITH SYSTEM VERSIONING in the window, or in a schema): a binlog's own column names do not say
// which columns are the period, so such a table is resolved even when its map has names.
func (c *Catalog) versioned(tm *binlog.TableMap) bool {
	for cat := c; cat != nil; cat = cat.next {
		def, ok := cat.tables[tm.Schema+"."+tm.Table]
		if !ok {
			continue
		}
		if def == nil {
			return false
		}
		for i := range def.columns {
			if def.columns[i].rowStart {
				return true
			}
		}
		return false
	}
	return false
}
