package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// Finding is one event an engineer hunts for in an incident.
type Finding struct {
	What     string          `json:"what"` // "DROP TABLE", "TRUNCATE TABLE", "DROP DATABASE", "RENAME TABLE", "ALTER TABLE", "MASS DELETE", "MASS UPDATE", "FIRST WRITE", "LAST WRITE"
	Table    string          `json:"table"`
	Start    binlog.Position `json:"-"`
	End      binlog.Position `json:"-"`
	Time     time.Time       `json:"time"` // commit time, UTC
	GTID     string          `json:"gtid,omitempty"`
	ServerID uint32          `json:"server_id"`
	Rows     int64           `json:"rows,omitempty"`      // rows of Table the transaction changed this way
	SQL      string          `json:"statement,omitempty"` // the DDL statement, shortened
}

// FindOptions configures Find.
type FindOptions struct {
	Filter *Filter
	Rows   int64 // a transaction that deletes or updates more rows of one table is reported
	// Window bounds what is looked at, as for Run: transactions outside it are not reported,
	// and a stop ends the search (StopBeforeDrop and ResumeAfter are not used).
	Window Window
	Log    *slog.Logger // warnings: DDL the parser cannot read
	// Stopped, when set, receives why the search stopped before the end of the binlogs.
	Stopped *string
}

// Find reads src to its end and returns, in log order, the DDL that touches kept tables, the
// transactions that delete or update more than opts.Rows rows of one kept table, and the first
// and last transaction writing each kept table. It needs no column names: rows are counted, not
// rendered.
func Find(ctx context.Context, src binlog.Source, opts FindOptions) ([]Finding, error) {
	f := &finder{opts: opts, ddl: newDDLParser(), first: map[string]*Finding{}, last: map[string]*Finding{}}
	if f.opts.Log == nil {
		f.opts.Log = slog.New(slog.DiscardHandler)
	}
	f.ahead, _ = src.(lookahead)
	for {
		ev, err := src.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return f.sorted(), err
		}
		if err := f.event(ctx, ev); err == errFindStop {
			if opts.Stopped != nil {
				*opts.Stopped = f.stopped
			}
			break
		} else if err != nil {
			var pe *binlog.PosError
			if errors.As(err, &pe) {
				return f.sorted(), err
			}
			return f.sorted(), &binlog.PosError{Pos: ev.Pos, Err: err}
		}
	}
	return f.sorted(), opts.Filter.Unmatched()
}

var errFindStop = errors.New("stop")

type finder struct {
	opts  FindOptions
	ddl   *ddlParser
	ahead lookahead

	open      bool
	skip      bool // the open transaction is outside the window
	stopped   string
	seenBegin bool
	tx        TxnInfo
	counts    map[string]*[3]int64 // table → inserts, updates, deletes in this transaction
	stmts     map[string]string    // table → the statement (Annotate_rows, Rows_query) that logged its rows
	annotate  []byte

	found       []Finding
	first, last map[string]*Finding
}

func (f *finder) begin(ctx context.Context, ev *binlog.Event) error {
	f.open = true
	// Commit time as Run decides it: the ending event's time, or MySQL 8's commit timestamp.
	f.tx = TxnInfo{Start: ev.Pos, ServerID: ev.Header.ServerID, Time: ev.Time()}
	if f.ahead != nil {
		end, err := f.ahead.PeekTxnEnd(ctx)
		if err != nil {
			return err
		}
		f.tx.End = end.End
		if !end.Truncated {
			f.tx.Time = time.Unix(int64(end.Timestamp), 0).UTC()
		}
	}
	if ev.Kind == binlog.KindGTID && !ev.GTID.Anonymous {
		f.tx.GTID = ev.GTID.String()
		if !ev.GTID.CommitTime.IsZero() {
			f.tx.Time = ev.GTID.CommitTime
		}
	}
	f.counts = map[string]*[3]int64{}
	f.stmts = map[string]string{}
	f.annotate = f.annotate[:0]
	return f.window(ev)
}

// window decides, as Run does, whether the transaction just begun is in the window: it stops
// the search (errFindStop) or marks the transaction skipped.
func (f *finder) window(ev *binlog.Event) error {
	w := f.opts.Window
	f.skip = false
	switch {
	case !w.StopPos.IsZero() && !f.tx.End.IsZero() && w.StopPos.Before(f.tx.End):
		f.stopped = fmt.Sprintf("stop position %s: the transaction at %s ends at %s", w.StopPos, f.tx.Start, f.tx.End)
	case !w.StopPos.IsZero() && !ev.Pos.Before(w.StopPos):
		f.stopped = fmt.Sprintf("stop position %s reached at %s", w.StopPos, ev.Pos)
	case !w.StopTime.IsZero() && !f.tx.Time.Before(w.StopTime):
		f.stopped = fmt.Sprintf("stop time %s: the transaction at %s committed %s", w.StopTime.UTC().Format(time.RFC3339), ev.Pos, f.tx.Time.Format(time.RFC3339))
	case ev.Kind == binlog.KindGTID && !ev.GTID.Anonymous && w.StopGTID.Has(ev.GTID):
		f.stopped = fmt.Sprintf("stop GTID %s at %s", ev.GTID, ev.Pos)
	}
	if f.stopped != "" {
		f.open = false
		return errFindStop
	}
	if !w.StartTime.IsZero() && f.tx.Time.Before(w.StartTime) {
		f.skip = true
	}
	if ev.Kind == binlog.KindGTID && !ev.GTID.Anonymous && (w.ExcludeGTIDs.Contains(ev.GTID) || w.SkipGTIDs.Has(ev.GTID)) {
		f.skip = true
	}
	if w.IncludeGTIDs != nil && (ev.Kind != binlog.KindGTID || ev.GTID.Anonymous || !w.IncludeGTIDs.Contains(ev.GTID)) {
		f.skip = true
	}
	return nil
}

func (f *finder) end() {
	if !f.open {
		return
	}
	f.open, f.seenBegin = false, false
	if f.skip {
		return
	}
	tables := make([]string, 0, len(f.counts))
	for t := range f.counts {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		c := f.counts[t]
		base := Finding{Table: t, Start: f.tx.Start, End: f.tx.End, Time: f.tx.Time, GTID: f.tx.GTID, ServerID: f.tx.ServerID}
		if c[2] > f.opts.Rows {
			x := base
			x.What, x.Rows, x.SQL = "MASS DELETE", c[2], f.stmts[t]
			f.found = append(f.found, x)
		}
		if c[1] > f.opts.Rows {
			x := base
			x.What, x.Rows, x.SQL = "MASS UPDATE", c[1], f.stmts[t]
			f.found = append(f.found, x)
		}
		x := base
		x.Rows = c[0] + c[1] + c[2]
		if f.first[t] == nil {
			fx := x
			fx.What = "FIRST WRITE"
			f.first[t] = &fx
		}
		lx := x
		lx.What = "LAST WRITE"
		f.last[t] = &lx
	}
}

func (f *finder) event(ctx context.Context, ev *binlog.Event) error {
	switch ev.Kind {
	case binlog.KindGTID:
		f.end()
		f.seenBegin = ev.GTID.MariaDB && !ev.GTID.Standalone
		return f.begin(ctx, ev)
	case binlog.KindXID:
		f.end()
	case binlog.KindQuery:
		switch ev.Query.Keyword() {
		case "BEGIN":
			if !f.open {
				if err := f.begin(ctx, ev); err != nil {
					return err
				}
			}
			f.seenBegin = true
			return nil
		case "COMMIT", "ROLLBACK":
			f.end()
			return nil
		case "SAVEPOINT":
			return nil
		}
		if !f.open {
			if err := f.begin(ctx, ev); err != nil {
				return err
			}
		}
		var ch *ddlChange
		var err error
		if ev.Query.Code == 0 {
			ch, err = f.ddl.change(ev.Query.Schema, ev.Query.SQL)
			if ch != nil {
				for _, t := range ch.touches {
					if t.Table != "*" {
						f.opts.Filter.Saw(t.DB, t.Table)
					}
				}
			}
			rm := removalOf(ch)
			if err != nil {
				// The rule replay follows: DDL the parser cannot read is an error when it
				// names a kept table or database; otherwise it is reported and passed.
				if f.skip {
					err = nil
				} else if err = unparsedDDLError(f.opts.Filter, ev.Query.SQL, err); err == nil {
					if fl := f.opts.Filter; fl == nil || len(fl.Databases) == 0 && len(fl.Tables) == 0 {
						// Every table is kept, so it may concern one: listed, as replay writes it.
						f.opts.Log.Warn("DDL the parser cannot read; listed as UNPARSED DDL", slog.String("pos", ev.Pos.String()), slog.String("sql", truncate(ev.Query.SQL, 200)))
						f.found = append(f.found, Finding{What: "UNPARSED DDL", Start: f.tx.Start, End: ev.EndPosition(),
							Time: f.tx.Time, GTID: f.tx.GTID, ServerID: f.tx.ServerID, SQL: truncate(bytes.TrimSpace(ev.Query.SQL), 200)})
					} else {
						f.opts.Log.Warn("skipping DDL the parser cannot read; it names no kept table", slog.String("pos", ev.Pos.String()), slog.String("sql", truncate(ev.Query.SQL, 200)))
					}
				}
				if err != nil {
					return err
				}
			}
			if rm != nil && !f.skip {
				for _, t := range rm.Tables {
					if f.opts.Filter.keepsAny(t) {
						f.found = append(f.found, Finding{What: rm.Verb, Table: t.String(), Start: f.tx.Start, End: ev.EndPosition(),
							Time: f.tx.Time, GTID: f.tx.GTID, ServerID: f.tx.ServerID, SQL: truncate(bytes.TrimSpace(ev.Query.SQL), 200)})
					}
				}
			}
		}
		if ch == nil && err == nil && f.seenBegin && !f.skip {
			f.statement(ev)
		}
		if !f.seenBegin {
			f.end()
		}
	case binlog.KindAnnotate:
		f.annotate = append(f.annotate[:0], ev.Annotate...)
	case binlog.KindRows:
		if !f.open {
			f.seenBegin = true
			if err := f.begin(ctx, ev); err != nil {
				return err
			}
		}
		rows := ev.Rows
		f.opts.Filter.sawTable(rows.Table)
		if f.skip || !f.opts.Filter.KeepTable(rows.Table) {
			return nil
		}
		name := "`" + rows.Table.Schema + "`.`" + rows.Table.Table + "`"
		c := f.counts[name]
		if c == nil {
			c = new([3]int64)
			f.counts[name] = c
		}
		for rows.More() {
			if _, _, err := rows.Next(); err != nil {
				return err
			}
			c[rows.Kind-1]++
		}
		if len(f.annotate) > 0 && rows.Kind != binlog.Insert {
			f.stmts[name] = DisplayText(truncate(bytes.TrimSpace(f.annotate), 200))
		}
	}
	return nil
}

// statement looks at a row change the source logged as a statement (binlog_format MIXED or
// STATEMENT): it writes its tables, and an UPDATE or DELETE is listed, since how many rows it
// changed is not in the binlog.
func (f *finder) statement(ev *binlog.Event) {
	if ev.Query.Code != 0 {
		return
	}
	st := f.ddl.tablesOf(ev.Query.Schema, ev.Query.SQL)
	sql := bytes.TrimSpace(stripLeadingComments(ev.Query.SQL))
	verb := ""
	for _, v := range []string{"DELETE", "UPDATE"} {
		if len(sql) >= len(v) && strings.EqualFold(string(sql[:len(v)]), v) {
			verb = v
		}
	}
	for _, t := range st.writes {
		f.opts.Filter.Saw(t.DB, t.Table)
		if !f.opts.Filter.keepsAny(t) {
			continue
		}
		name := "`" + t.DB + "`.`" + t.Table + "`"
		if f.counts[name] == nil {
			f.counts[name] = new([3]int64)
		}
		if verb != "" {
			f.found = append(f.found, Finding{What: "STATEMENT " + verb, Table: name, Start: f.tx.Start, End: f.tx.End,
				Time: f.tx.Time, GTID: f.tx.GTID, ServerID: f.tx.ServerID, SQL: truncate(sql, 200)})
		}
	}
}

func (f *finder) sorted() []Finding {
	out := append([]Finding(nil), f.found...)
	for _, m := range []map[string]*Finding{f.first, f.last} {
		for _, x := range m {
			out = append(out, *x)
		}
	}
	order := map[string]int{"FIRST WRITE": 0, "MASS DELETE": 1, "MASS UPDATE": 1, "LAST WRITE": 3}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Start != b.Start {
			return a.Start.Before(b.Start)
		}
		oa, ob := order[a.What], order[b.What]
		if _, ok := order[a.What]; !ok {
			oa = 2
		}
		if _, ok := order[b.What]; !ok {
			ob = 2
		}
		if oa != ob {
			return oa < ob
		}
		return a.Table < b.Table
	})
	return out
}
