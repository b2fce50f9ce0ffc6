package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// Window bounds a replay. Transactions are kept or dropped whole: by commit time for the time
// bounds and by end position for the stop position.
type Window struct {
	StartTime    time.Time       // keep transactions committed at or after it
	StopTime     time.Time       // stop at the first transaction committed at or after it
	StopPos      binlog.Position // stop at the first transaction that ends after it
	IncludeGTIDs *binlog.GTIDSet // keep only transactions in it (nil: all)
	ExcludeGTIDs *binlog.GTIDSet // drop transactions in it, e.g. those a backup already holds
	SkipGTIDs    *binlog.GTIDSet // drop exactly these transactions and carry on
	StopGTID     *binlog.GTIDSet // stop before the first of these transactions
	// StopBeforeDrop stops before the first statement that takes a kept table away: DROP
	// TABLE, TRUNCATE, DROP DATABASE, or a rename.
	StopBeforeDrop bool
	// ResumeAfter skips every transaction that starts before it: a checkpoint, the end of the
	// last transaction a target committed. Transactions never straddle such a position.
	ResumeAfter binlog.Position
	// Start is where the source was opened, for describing the window (the source seeks);
	// StartFrom says who chose it ("--start-position", "the backup PATH"; "" for none).
	Start     binlog.Position
	StartFrom string
}

// Config configures Run.
type Config struct {
	Filter *Filter
	// Schema names the columns of tables whose table maps carry no names, checked against
	// each table map; nil when the binlog's own metadata must do.
	Schema *Catalog
	// VerifySchema checks table maps that carry their own column names against Schema too (a
	// schema the user named), and takes generated columns from it.
	VerifySchema bool
	Window       Window
	Render       RenderOptions
	Log          *slog.Logger
	// SkipStatements leaves out row changes the source logged as statements (binlog_format
	// STATEMENT or MIXED) that pitr cannot replay exactly, instead of stopping at the first.
	SkipStatements bool
	// SchemaLoadErr says why a schema that was looked for (a backup's CREATE TABLE statements)
	// could not be read; a table without column names is then an error that says so.
	SchemaLoadErr error
	// SourceTimeZone is the source server's system time zone, for statements logged under
	// time_zone SYSTEM; "" stops at the first such statement.
	SourceTimeZone string
	// Flashback writes the inverse of every kept transaction instead, newest first (see
	// flashback.go); TempDir is where it spills them ("" for the system's).
	Flashback bool
	TempDir   string
	// ConflictSkip leaves out the undo of rows changed again after the window, instead of
	// refusing the whole flashback.
	ConflictSkip bool
	// AllowTriggers lets a CREATE TRIGGER of the window be replayed (see ErrTriggerInWindow).
	AllowTriggers bool
	// FlashbackOneTransaction hands the sink the whole undo as one transaction (--target:
	// the target is undone all or nothing).
	FlashbackOneTransaction bool
	// FlashbackChangedRows says the sink checks each row statement by the rows it changed
	// (ROW_COUNT() in a client, SQLWriter.CheckRows) rather than the rows it found (apply): an
	// inverse UPDATE that sets back the same bytes then gets no check (see spillUncounted).
	FlashbackChangedRows bool
}

// Stats counts what Run did.
type Stats struct {
	Transactions              int64 // source transactions written to the sink
	Inserts, Updates, Deletes int64
	Statements                int64 // statement-based events in kept transactions that were not replayed
	DDL                       int64 // DDL statements written
	Logged                    int64 // row-changing statements replayed as the source logged them
	XAPrepared                int64 // XA transactions prepared but not committed in the binlogs read: left out
	LeftOut                   int64 // statements outside transactions (views, routines, accounts...) a filter left out
	LastEnd                   binlog.Position
	StoppedAt                 string          // why the replay stopped early, if it did
	ReadTo                    binlog.Position // end of the last event read: where the binlogs ended, without a stop
	Conflicts                 []Conflict      // flashback: rows changed again after the window
	SkippedRows               int64           // flashback: inverse statements left out for them (--on-conflict skip)
}

// lookahead is implemented by sources that can find a transaction's end before reading it.
type lookahead interface {
	PeekTxnEnd(ctx context.Context) (binlog.TxnEnd, error)
}

type txnState int

const (
	txnNone    txnState = iota
	txnOpen             // started, not decided to skip, no row written yet
	txnBegun            // sink.Begin called
	txnSkipped          // outside the window: rows are ignored until it ends
)

// Run reads src to its end (or to the window's stop) and writes every kept row change of every
// kept transaction to sink. It returns with the sink's transaction closed: committed, or rolled
// back when the source ends or fails inside it.
func Run(ctx context.Context, src binlog.Source, sink Sink, cfg Config) (Stats, error) {
	if cfg.Flashback {
		return runFlashback(ctx, src, sink, cfg)
	}
	r := &runner{src: src, sink: sink, cfg: cfg, log: cfg.Log, rend: NewRenderer(sink, cfg.Render)}
	// Tables created or altered inside the window are tracked here, ahead of cfg.Schema.
	r.catalog = newCatalog("the DDL in the binlog").Then(cfg.Schema)
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.ahead, _ = src.(lookahead)
	r.sess = newSession(sink, cfg.Render.SessionStatements(), cfg.SourceTimeZone)
	r.sess.noFK = cfg.Render.NoForeignKeyChecks
	r.rend.sess = r.sess
	if err := sink.Session(ctx, cfg.Render.SessionStatements()); err != nil {
		return r.stats, err
	}
	defer r.loads.close()
	err := r.run(ctx)
	if r.xa != nil {
		// The error came inside an XA transaction's first part: the target saw nothing of it.
		r.setSink(r.realSink)
		r.state = txnNone
	}
	r.xaLeft()
	if err != nil && r.state == txnBegun {
		if rbErr := sink.Rollback(ctx); rbErr != nil {
			err = errors.Join(err, rbErr)
		}
	}
	if err == nil {
		// A pattern that matched no table in the window is a typo that would otherwise pass
		// as an empty replay (and a --stop-before-drop that never fires).
		err = cfg.Filter.Unmatched()
	}
	return r.stats, err
}

type runner struct {
	src   binlog.Source
	sink  Sink
	cfg   Config
	log   *slog.Logger
	rend  *Renderer
	ahead lookahead
	stats Stats

	state     txnState
	info      TxnInfo
	sum       TxnSummary
	seenBegin bool
	ddl       *ddlParser
	catalog   *Catalog

	sess  *session
	loads loadFiles

	annotate []byte // the statement an Annotate_rows or Rows_query event gave the rows after it
	thread   uint32 // the source connection of the open transaction, from its BEGIN; 0 if unknown

	xa       *spool            // the XA transaction being read, before its XA PREPARE
	realSink Sink              // the sink while xa takes its place
	xaID     []byte            // the XID its XA END named
	prepared map[string]*spool // prepared XA transactions by XID, until XA COMMIT or ROLLBACK
	pre      [][]byte          // SETs of Intvar, Rand and User_var events, for the next statement
	curDB    string            // the target session's default database, "" until pitr sets one

	stopEv *binlog.Event   // the event the window stopped at, if it did
	fb     *flashbackState // a flashback's conflict check; nil for a replay
}

func (r *runner) run(ctx context.Context) error {
	for {
		ev, err := r.src.Next(ctx)
		if err == io.EOF {
			if r.state != txnNone && r.state != txnSkipped {
				return fmt.Errorf("%s: the binlogs end inside the transaction that starts there", r.info.Start)
			}
			return nil
		}
		if err != nil {
			return err
		}
		r.stats.ReadTo = binlog.Position{File: ev.Pos.File, Offset: ev.End}
		stop, err := r.event(ctx, ev)
		if err != nil {
			var pe *binlog.PosError
			var se *StatementError
			if errors.As(err, &pe) || errors.As(err, &se) {
				return err
			}
			return &binlog.PosError{Pos: ev.Pos, Err: err}
		}
		if stop {
			r.stopEv = ev
			return nil
		}
	}
}

func (r *runner) event(ctx context.Context, ev *binlog.Event) (stop bool, err error) {
	switch ev.Kind {
	case binlog.KindGTID:
		if r.state != txnNone {
			return false, fmt.Errorf("GTID %s starts a transaction while the one at %s has not ended", ev.GTID, r.info.Start)
		}
		// A MariaDB GTID event is the BEGIN of a transaction unless it is standalone (DDL).
		r.seenBegin = ev.GTID.MariaDB && !ev.GTID.Standalone
		stop, err := r.open(ctx, ev)
		if err == nil && !stop && ev.GTID.PreparedXA && r.state != txnSkipped {
			err = r.xaStart()
		}
		return stop, err
	case binlog.KindXAPrepare:
		if r.state == txnSkipped || r.state == txnNone {
			r.state, r.seenBegin, r.xaID = txnNone, false, nil
			return false, nil
		}
		if !ev.OnePhase {
			return false, r.xaPrepare(ctx)
		}
		return false, r.xaOnePhase(ctx, ev)
	case binlog.KindQuery, binlog.KindExecLoad:
		switch ev.Query.Keyword() {
		case "BEGIN":
			if r.state == txnNone {
				r.seenBegin = true
				stop, err := r.open(ctx, ev)
				if err == nil && !stop && r.state != txnSkipped && xaStartStmt(ev.Query.SQL) && r.xa == nil {
					err = r.xaStart()
				}
				return stop, err
			}
			r.seenBegin = true
			if r.state != txnSkipped && xaStartStmt(ev.Query.SQL) && r.xa == nil {
				return false, r.xaStart()
			}
			return false, nil
		case "COMMIT":
			if id := xaID(ev.Query.SQL, "XA COMMIT"); id != nil {
				return false, r.xaFinish(ctx, ev, id, true)
			}
			if r.xa != nil {
				return false, r.xaOnePhase(ctx, ev)
			}
			return false, r.close(ctx, ev, true)
		case "ROLLBACK":
			if id := xaID(ev.Query.SQL, "XA ROLLBACK"); id != nil {
				return false, r.xaFinish(ctx, ev, id, false)
			}
			if r.xa != nil {
				r.xa.Close()
				r.xa = nil
				r.setSink(r.realSink)
				r.state = txnOpen // nothing reached the real sink
			}
			return false, r.close(ctx, ev, false)
		case "SAVEPOINT":
			return false, nil
		}
		if id := xaID(ev.Query.SQL, "XA END"); id != nil {
			r.xaID = append([]byte(nil), id...)
			return false, nil
		}
		// A statement: DDL (its own transaction) or statement-based DML inside one.
		if r.state == txnNone {
			if stop, err := r.open(ctx, ev); err != nil || stop {
				return stop, err
			}
		}
		// Parsed once, for the stop and for the schema. Statements that failed on the source
		// changed nothing pitr tracks.
		var ch *ddlChange
		var perr error
		if ev.Query.Code == 0 {
			if r.ddl == nil {
				r.ddl = newDDLParser()
			}
			ch, perr = r.ddl.change(ev.Query.Schema, ev.Query.SQL)
			if ch != nil {
				for _, t := range ch.touches {
					if t.Table != "*" {
						r.cfg.Filter.Saw(t.DB, t.Table)
					}
				}
			}
		}
		if r.state != txnSkipped && r.cfg.Window.StopBeforeDrop && ev.Query.Code == 0 {
			if perr != nil {
				return false, perr
			}
			stop := r.stopBeforeDrop(ch)
			if stop {
				if r.state == txnBegun {
					// A DDL statement commits implicitly, so this cannot happen on a real server.
					return true, fmt.Errorf("%s inside an open transaction", r.stats.StoppedAt)
				}
				r.state = txnNone
				return true, nil
			}
		}
		// Statements are looked at even in skipped transactions: the schema changes anyway.
		if err := r.statement(ctx, ev, ch, perr); err != nil {
			return false, err
		}
		if !r.seenBegin {
			return false, r.close(ctx, ev, true)
		}
		return false, nil
	case binlog.KindXID:
		if r.state == txnNone {
			return false, nil
		}
		return false, r.close(ctx, ev, true)
	case binlog.KindTableMap:
		// A reader may drop the rows events of tables the filter leaves out, not their maps.
		r.cfg.Filter.sawTable(ev.TableMap)
		return false, nil
	case binlog.KindRows:
		r.cfg.Filter.sawTable(ev.Rows.Table)
		if r.state == txnNone {
			// Rows without BEGIN only come from servers that predate it; treat them as one.
			r.seenBegin = true
			if stop, err := r.open(ctx, ev); err != nil || stop {
				return stop, err
			}
		}
		if r.state == txnSkipped {
			if r.fb != nil && r.fb.after {
				return false, r.laterRows(ctx, ev)
			}
			return false, nil
		}
		return false, r.rows(ctx, ev)
	case binlog.KindIntvar, binlog.KindRand, binlog.KindUserVar:
		if r.state == txnSkipped {
			return false, nil
		}
		set, err := preStatement(ev)
		if err != nil {
			return false, err
		}
		r.pre = append(r.pre, set)
		return false, nil
	case binlog.KindAnnotate:
		if r.state != txnSkipped {
			r.annotate = append(r.annotate[:0], ev.Annotate...)
		}
		return false, nil
	case binlog.KindLoadBlock:
		if r.state == txnSkipped {
			return false, nil
		}
		return false, r.loads.block(ev)
	case binlog.KindDeleteFile:
		r.loads.drop(ev.Load.FileID)
		return false, nil
	case binlog.KindUnknown:
		if r.state == txnSkipped {
			return false, nil
		}
		return false, fmt.Errorf("%s event: pitr has no replay for this event type, and leaving it out would make the replay incomplete; stop before it with --stop-position %s", ev.Header.Type, ev.Pos)
	case binlog.KindIncident:
		if r.state == txnSkipped {
			return false, nil
		}
		return false, errors.New("incident event: the source server lost events here, so a replay past it would be incomplete; stop before it with --stop-position")
	}
	return false, nil
}

// open starts a transaction at ev and decides, from its end, whether the window keeps it.
func (r *runner) open(ctx context.Context, ev *binlog.Event) (stop bool, err error) {
	r.info = TxnInfo{Start: ev.Pos, ServerID: ev.Header.ServerID}
	r.sum = TxnSummary{}
	r.annotate, r.thread = r.annotate[:0], 0
	if ev.Kind == binlog.KindQuery {
		r.thread = ev.Query.Ctx.Thread
	}
	r.sess.begin()
	r.curDB = ""
	if ev.Kind == binlog.KindGTID {
		r.info.GTID = ev.GTID.String()
		if ev.GTID.Anonymous {
			r.info.GTID = ""
		}
	}
	r.state = txnOpen
	commit := ev.Time()
	if r.ahead != nil {
		end, err := r.ahead.PeekTxnEnd(ctx)
		if err != nil {
			return false, err
		}
		r.info.End = end.End
		if !end.Truncated {
			commit = time.Unix(int64(end.Timestamp), 0).UTC()
		}
	}
	if ev.Kind == binlog.KindGTID && !ev.GTID.CommitTime.IsZero() {
		commit = ev.GTID.CommitTime
	}
	r.info.Time = commit
	if r.fb != nil && r.fb.after {
		// Past a flashback's window: read only to find later changes of its rows.
		r.state = txnSkipped
		return false, nil
	}
	w := r.cfg.Window
	if !w.StopPos.IsZero() && !r.info.End.IsZero() && w.StopPos.Before(r.info.End) {
		r.stats.StoppedAt = fmt.Sprintf("stop position %s: the transaction at %s ends at %s", w.StopPos, ev.Pos, r.info.End)
		r.state = txnNone
		return true, nil
	}
	if !w.StopPos.IsZero() && !ev.Pos.Before(w.StopPos) {
		r.stats.StoppedAt = fmt.Sprintf("stop position %s reached at %s", w.StopPos, ev.Pos)
		r.state = txnNone
		return true, nil
	}
	if !w.StopTime.IsZero() && !commit.Before(w.StopTime) {
		r.stats.StoppedAt = fmt.Sprintf("stop time %s: the transaction at %s committed %s", w.StopTime.UTC().Format(time.RFC3339), ev.Pos, commit.Format(time.RFC3339))
		r.state = txnNone
		return true, nil
	}
	if !w.StartTime.IsZero() && commit.Before(w.StartTime) {
		r.state = txnSkipped
	}
	if !w.ResumeAfter.IsZero() && ev.Pos.Before(w.ResumeAfter) {
		r.state = txnSkipped
	}
	if ev.Kind == binlog.KindGTID && !ev.GTID.Anonymous {
		g := ev.GTID
		if w.StopGTID.Has(g) {
			r.stats.StoppedAt = fmt.Sprintf("stop GTID %s: stopped before the transaction at %s committed %s", g, ev.Pos, commit.Format(time.RFC3339))
			r.state = txnNone
			return true, nil
		}
		if w.ExcludeGTIDs.Contains(g) || w.SkipGTIDs.Has(g) {
			r.state = txnSkipped
		}
	}
	if w.IncludeGTIDs != nil && (ev.Kind != binlog.KindGTID || ev.GTID.Anonymous || !w.IncludeGTIDs.Contains(ev.GTID)) {
		r.state = txnSkipped
	}
	return false, nil
}

// stopBeforeDrop reports whether the statement ch takes a kept table away.
func (r *runner) stopBeforeDrop(ch *ddlChange) bool {
	rm := removalOf(ch)
	if rm == nil || rm.Keeps {
		return false
	}
	for _, t := range rm.Tables {
		if r.cfg.Filter.keepsAny(t) {
			what := rm.Verb + " " + t.String()
			if r.info.GTID != "" {
				what += " (GTID " + r.info.GTID + ")"
			}
			// The transaction's start, which --stop-position takes as it is.
			r.stats.StoppedAt = fmt.Sprintf("stopped before %s at %s, committed %s: %s", what, r.info.Start,
				r.info.Time.Format("2006-01-02 15:04:05 UTC"), truncate(ch.sql, 200))
			return true
		}
	}
	return false
}

func (r *runner) close(ctx context.Context, ev *binlog.Event, commit bool) error {
	st := r.state
	r.state = txnNone
	r.seenBegin = false
	r.pre = r.pre[:0]
	if st != txnBegun {
		return nil
	}
	r.sum.End = ev.EndPosition()
	r.stats.LastEnd = r.sum.End
	if err := r.rend.Flush(ctx); err != nil {
		return err
	}
	// Each transaction ends with pitr's settings (and the target's clock, for the checkpoint
	// written with the COMMIT), as it began.
	if err := r.sess.pitrs(ctx); err != nil {
		return err
	}
	r.rend.EndTransaction()
	if !commit {
		return r.sink.Rollback(ctx)
	}
	r.stats.Transactions++
	r.stats.Inserts += r.sum.Inserts
	r.stats.Updates += r.sum.Updates
	r.stats.Deletes += r.sum.Deletes
	r.stats.DDL += r.sum.Statements
	r.stats.Logged += r.sum.Logged
	return r.sink.Commit(ctx, r.sum)
}

// statement handles a statement event, parsed as ch (nil: it changes no table) or failing to
// parse with perr.
func (r *runner) statement(ctx context.Context, ev *binlog.Event, ch *ddlChange, perr error) error {
	if ev.Query.Code != 0 {
		return nil
	}
	if r.fb != nil && r.fb.after {
		if err := r.laterStatement(ev, ch, perr); err != nil {
			return err
		}
	}
	if perr != nil {
		r.catalog.unreadableDDL(ev.Query.Schema, ev.Query.SQL, fmt.Errorf("%s: %w", ev.Pos, perr))
		return r.unparsedDDL(ctx, ev, perr)
	}
	if ch != nil {
		if err := r.catalog.apply(ctx, ch); err != nil {
			if r.keepsAnyOf(ch.touches) {
				return err
			}
			// Only a table the run does not keep: its rows are never read.
			r.log.Warn("cannot follow DDL of a table the filter leaves out", slog.String("pos", ev.Pos.String()), slog.String("error", err.Error()))
			for _, t := range ch.touches {
				if t.Table != "*" {
					r.catalog.unreadable(t.DB+"."+t.Table, fmt.Errorf("%s: %w", ev.Pos, err))
				}
			}
		}
		for _, t := range ch.touches {
			if r.cfg.Filter.keepsAny(t) {
				return r.emitDDL(ctx, ev, ch)
			}
		}
		return nil
	}
	if r.state == txnSkipped {
		r.pre = r.pre[:0]
		return nil
	}
	if r.ddl == nil {
		r.ddl = newDDLParser()
	}
	tables := r.ddl.tablesOf(ev.Query.Schema, ev.Query.SQL)
	for _, t := range tables.writes {
		r.cfg.Filter.Saw(t.DB, t.Table) // a table written only by statements is in the window too
	}
	f := r.cfg.Filter
	if f != nil && (len(f.Databases) > 0 || len(f.Tables) > 0 || len(f.Exclude) > 0 || len(f.Only) > 0) || r.cfg.Render.Rewrite != nil {
		if !r.seenBegin {
			// Not a row change: a view, routine, trigger or event of a kept database is replayed
			// as for a whole server; accounts, objects of other databases and anything under a
			// table filter are left out, and the summary says how many.
			if objs, ok := objectsOf(ev.Query.Schema, ev.Query.SQL); ok && r.keepsObjects(objs) {
				return r.emitStatement(ctx, ev, tables)
			}
			r.stats.LeftOut++
			r.pre = r.pre[:0]
			r.log.Debug("statement left out by the filter", slog.String("pos", ev.Pos.String()), slog.String("sql", truncate(ev.Query.SQL, 120)))
			return nil
		}
		why, keep := r.filterStatement(tables)
		if keep {
			return r.emitStatement(ctx, ev, tables)
		}
		if why == "" {
			r.pre = r.pre[:0]
			return nil
		}
		if !r.cfg.SkipStatements {
			return r.statementStop(ev, why)
		}
		r.stats.Statements++
		r.pre = r.pre[:0]
		r.log.Warn("statement left out (--skip-statements): the target misses its changes", slog.String("why", why),
			slog.String("pos", ev.Pos.String()), slog.String("sql", truncate(ev.Query.SQL, 120)))
		return nil
	}
	return r.emitStatement(ctx, ev, tables)
}

// keepsObjects reports whether a database filter keeps every object a statement creates,
// alters or drops. A table filter (or --only, or a rewrite) keeps none: it asked for rows of
// tables, and a view or routine may name tables it leaves out.
func (r *runner) keepsObjects(objs []schemaObject) bool {
	f := r.cfg.Filter
	if f != nil && (len(f.Tables) > 0 || len(f.Only) > 0) || r.cfg.Render.Rewrite != nil {
		return false
	}
	for _, o := range objs {
		if !f.keepsAny(tableRef{DB: o.Ref.DB, Table: "*"}) {
			return false
		}
		switch {
		case o.Kind == "VIEW" && !f.keep(o.Ref.DB, o.Ref.Table):
			return false // excluded by name (--exclude-table db.view)
		case o.Kind == "TRIGGER" && o.Table.Table != "" && !f.keep(o.Table.DB, o.Table.Table):
			return false // on an excluded table
		}
	}
	return true
}

// filterStatement decides a row-changing statement under a filter: keep it when it writes only
// kept tables and reads no table left out; leave it out (why == "") when it writes no kept table;
// otherwise why says what stops it.
func (r *runner) filterStatement(st *stmtTables) (why string, keep bool) {
	f := r.cfg.Filter
	if st.unknown != "" {
		return "the tables it changes cannot be known: " + st.unknown, false
	}
	var kept, out []string
	for _, t := range st.writes {
		if f.keepsAny(t) {
			kept = append(kept, t.String())
		} else {
			out = append(out, t.String())
		}
	}
	if len(kept) == 0 {
		return "", false
	}
	if len(out) > 0 {
		return fmt.Sprintf("it changes the kept %s and %s, which the filter leaves out", strings.Join(kept, ", "), strings.Join(out, ", ")), false
	}
	for _, t := range st.reads {
		if !f.keepsAny(t) {
			return fmt.Sprintf("it changes %s from %s, which the filter leaves out, so the target would compute other rows", strings.Join(kept, ", "), t), false
		}
	}
	if f != nil && len(f.Only) > 0 {
		return "--only selects row changes by kind, and a statement is not split into them", false
	}
	if r.cfg.Render.Rewrite != nil {
		return "--rewrite-db and --rewrite-table do not rewrite the names inside a logged statement", false
	}
	return "", true
}

// emitStatement replays a statement as the source ran it: under its session settings and
// default database, after the values its Intvar, Rand and User_var events carried.
func (r *runner) emitStatement(ctx context.Context, ev *binlog.Event, tables *stmtTables) error {
	if r.cfg.Flashback {
		return r.flashbackStop(ev, "a change logged as a statement (binlog_format STATEMENT or MIXED) has no row images to undo it from")
	}
	text := bytes.TrimSpace(ev.Query.SQL)
	if ev.Kind == binlog.KindExecLoad {
		var err error
		if text, err = r.loadStatement(ctx, ev, text); err != nil {
			return err
		}
	}
	if !r.cfg.AllowTriggers {
		// The SQL output stops where apply does: the trigger would fire again for the rows
		// replayed after it.
		if name := createdTrigger(text); name != "" {
			return stmtError(r.info, string(text), fmt.Errorf("%w: %s", ErrTriggerInWindow, name))
		}
	}
	stmt, err := verbatim(text)
	if err != nil {
		return err
	}
	if len(tables.nondet) > 0 {
		// As mysqlbinlog does: the statement is what the source logged, and the target may
		// compute other values or rows from it.
		r.log.Warn("statement replayed as logged may give other results on the target", slog.String("because", strings.Join(tables.nondet, ", ")),
			slog.String("pos", ev.Pos.String()), slog.String("sql", truncate(ev.Query.SQL, 120)))
	}
	if err := r.statementSession(ctx, ev, true); err != nil {
		return err
	}
	for _, p := range r.pre {
		if err := r.sink.Write(ctx, p); err != nil {
			return err
		}
	}
	r.pre = r.pre[:0]
	r.sum.Logged++
	return r.sink.Write(ctx, stmt)
}

// statementSession begins the transaction if need be and sets the target session up for the
// statement of ev: its settings, then its default database (use) when it has one.
func (r *runner) statementSession(ctx context.Context, ev *binlog.Event, use bool) error {
	if r.state == txnOpen {
		if err := r.sink.Begin(ctx, r.info); err != nil {
			return err
		}
		r.state = txnBegun
	}
	if err := r.rend.Flush(ctx); err != nil {
		return err
	}
	if err := r.sess.statement(ctx, ev); err != nil {
		return fmt.Errorf("%w; statement: %s", err, truncate(bytes.TrimSpace(ev.Query.SQL), 200))
	}
	if use && ev.Query.Schema != "" {
		db, _ := r.cfg.Render.Rewrite.targetName(ev.Query.Schema, "")
		if db != r.curDB {
			if err := r.sink.Write(ctx, appendIdent([]byte("USE "), db)); err != nil {
				return err
			}
			r.curDB = db
		}
	}
	return nil
}

// note prints the statement that logged the rows about to be written, as a comment above them
// (SQL output only: a Sink without Note sends no comments).
func (r *runner) note(ctx context.Context) error {
	n, ok := r.sink.(interface{ Note(string) })
	if !ok {
		r.annotate = r.annotate[:0]
		return nil
	}
	if err := r.rend.Flush(ctx); err != nil {
		return err
	}
	text := "statement: "
	if r.thread != 0 {
		text = "statement (thread " + strconv.FormatUint(uint64(r.thread), 10) + "): "
	}
	n.Note(text + string(r.annotate))
	r.annotate = r.annotate[:0]
	return nil
}

// preStatement renders an Intvar, Rand or User_var event as the SET that gives the next
// statement the same value.
func preStatement(ev *binlog.Event) ([]byte, error) {
	switch ev.Kind {
	case binlog.KindIntvar:
		s := "SET LAST_INSERT_ID="
		if ev.Intvar.InsertID {
			s = "SET INSERT_ID="
		}
		return strconv.AppendUint([]byte(s), ev.Intvar.Value, 10), nil
	case binlog.KindRand:
		return fmt.Appendf(nil, "SET @@RAND_SEED1=%d, @@RAND_SEED2=%d", ev.Rand.Seed1, ev.Rand.Seed2), nil
	}
	u := ev.UserVar
	b := appendIdent([]byte("SET @"), string(u.Name))
	b = append(b, " := "...)
	if !u.Null && u.Type == binlog.UserVarString {
		if u.Charset == "" {
			return nil, fmt.Errorf("user variable @%s has collation %d, which pitr cannot name", u.Name, u.Collation)
		}
		// utf8 spelled as before MySQL 8.0.30, which every server reads.
		b = append(b, '_')
		b = append(b, strings.Replace(u.Charset, "utf8mb3", "utf8", 1)...)
		b = append(b, ' ')
		if len(u.Value) == 0 {
			b = append(b, "''"...)
		} else {
			b = appendHex(b, u.Value)
		}
		b = append(b, " COLLATE "...)
		return appendIdent(b, strings.Replace(u.CollationName, "utf8mb3_", "utf8_", 1)), nil
	}
	lit, err := u.Literal()
	if err != nil {
		return nil, err
	}
	return append(b, lit...), nil
}

// statementStop is the error for a statement in a kept transaction that pitr cannot replay
// exactly: it names the statement, its transaction and the ways out. Nothing of the transaction
// reaches the target: Run rolls it back.
func (r *runner) statementStop(ev *binlog.Event, why string) error {
	txn := "the transaction at " + r.info.Start.String()
	if r.info.GTID != "" {
		txn += " (GTID " + r.info.GTID + ")"
	}
	return fmt.Errorf("cannot replay a statement under the filter: %s; statement in %s: %s; widen the filter (-t/-d) to every table it names, pass --skip-statements to leave such statements out (the target then misses their changes), or --stop-position %s to stop before this transaction",
		why, txn, truncate(bytes.TrimSpace(ev.Query.SQL), 200), r.info.Start)
}

// emitDDL writes a DDL statement that changes a kept table, under the database it ran in, so
// that the replay reproduces it (TRUNCATE and ALTER change rows that no rows event records).
func (r *runner) emitDDL(ctx context.Context, ev *binlog.Event, ch *ddlChange) error {
	if r.state == txnSkipped {
		return nil
	}
	if r.cfg.Flashback {
		return r.flashbackStop(ev, "DDL changes a kept table, and a flashback cannot undo DDL (nor the row changes before it against the table it changed)")
	}
	stmt := bytes.TrimSpace(ev.Query.SQL)
	if rw, err := ch.rewritten(r.cfg.Render.Rewrite); err != nil {
		return err
	} else if rw != nil {
		stmt = rw
	}
	stmt, err := verbatim(stmt)
	if err != nil {
		return fmt.Errorf("%s: %w", ev.Pos, err)
	}
	// The database the statement ran in, for its unqualified names; not for CREATE and DROP
	// DATABASE, which MariaDB logs in the database they create.
	_, dbStmt := ch.node.(*ast.CreateDatabaseStmt)
	if _, drop := ch.node.(*ast.DropDatabaseStmt); drop {
		dbStmt = true
	}
	if err := r.statementSession(ctx, ev, !dbStmt); err != nil {
		return err
	}
	if dbStmt {
		// The target's default database may be the one dropped.
		r.curDB = ""
	}
	r.pre = r.pre[:0]
	r.sum.Statements++
	return r.sink.Write(ctx, stmt)
}

func (r *runner) keepsAnyOf(ts []tableRef) bool {
	for _, t := range ts {
		if r.cfg.Filter.keepsAny(t) {
			return true
		}
	}
	return false
}

// unparsedDDL handles a statement that looks like DDL but that the parser cannot read. With no
// table filter every table is kept, so it is written as it is; with a filter it is an error if
// it names a kept table or database, and a warning otherwise.
func (r *runner) unparsedDDL(ctx context.Context, ev *binlog.Event, perr error) error {
	f := r.cfg.Filter
	if f == nil || len(f.Databases) == 0 && len(f.Tables) == 0 {
		if r.state == txnSkipped {
			return nil
		}
		r.log.Warn("DDL the parser cannot read is written as it is; the schema pitr tracks does not follow it", slog.String("pos", ev.Pos.String()), slog.String("sql", truncate(ev.Query.SQL, 200)))
		return r.emitDDL(ctx, ev, &ddlChange{})
	}
	if err := unparsedDDLError(f, ev.Query.SQL, perr); err != nil {
		return err
	}
	r.log.Warn("skipping DDL the parser cannot read; it names no kept table", slog.String("pos", ev.Pos.String()), slog.String("sql", truncate(ev.Query.SQL, 200)))
	return nil
}

// unparsedDDLError is perr when the statement the parser could not read names a table or
// database the filter keeps (so it may change or remove one), and nil otherwise.
func unparsedDDLError(f *Filter, sql []byte, perr error) error {
	if f == nil || len(f.Databases) == 0 && len(f.Tables) == 0 {
		return nil
	}
	text := strings.ToLower(string(sql))
	for _, p := range append(append([]string(nil), f.Databases...), f.Tables...) {
		for _, part := range strings.Split(p, ".") {
			if part != "" && !strings.ContainsAny(part, "*?[") && strings.Contains(text, strings.ToLower(part)) {
				return perr
			}
		}
	}
	return nil
}

// truncate returns statement text for a log line or a message: passwords redacted (RedactSQL),
// at most n bytes.
func truncate(b []byte, n int) string {
	b = RedactSQL(b)
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// resolve gives tm the catalogue's column names and types where the binlog's own are not
// enough: a binlog's names do unless the user gave a schema to check them with, or the table is
// system-versioned, which only DDL says.
func (r *runner) resolve(ctx context.Context, tm *binlog.TableMap) (*binlog.TableMap, error) {
	if !tm.HasNames || r.cfg.VerifySchema || r.catalog.versioned(tm) {
		return r.catalog.resolve(ctx, tm)
	}
	return tm, nil
}

func (r *runner) rows(ctx context.Context, ev *binlog.Event) error {
	rows := ev.Rows
	tm := rows.Table
	if !r.cfg.Filter.KeepTable(tm) || !r.cfg.Filter.KeepKind(rows.Kind) {
		return nil
	}
	tm, err := r.resolve(ctx, tm)
	if err != nil {
		return err
	}
	// Decoded with the resolved map: signedness may come from the schema (MySQL 5.7 logs none).
	rows.Table = tm
	if !tm.HasNames {
		// Checked before Begin, so that nothing of the transaction is written.
		if r.cfg.SchemaLoadErr != nil {
			return fmt.Errorf("table %s: %w (%v)", tm, ErrNoColumnNames, r.cfg.SchemaLoadErr)
		}
		if r.cfg.Schema != nil {
			return fmt.Errorf("table %s: %w (looked in: %s)", tm, ErrNoColumnNames, r.cfg.Schema.Describe())
		}
		return fmt.Errorf("table %s: %w", tm, ErrNoColumnNames)
	}
	if r.cfg.Flashback {
		if err := flashbackTable(tm); err != nil {
			return err
		}
	}
	if r.state == txnOpen {
		if err := r.sink.Begin(ctx, r.info); err != nil {
			return err
		}
		r.state = txnBegun
	}
	if err := r.sess.pitrs(ctx); err != nil {
		return err
	}
	if len(r.annotate) > 0 {
		if err := r.note(ctx); err != nil {
			return err
		}
	}
	// A flashback runs under pitr's session settings throughout (foreign and unique checks on):
	// the source session's relaxed checks applied to the rows it wrote, not to their inverse.
	if !r.cfg.Flashback {
		if err := r.rend.Flags(ctx, rows.Flags); err != nil {
			return err
		}
	}
	keyer, _ := r.sink.(rowKeyer)
	var kdb, ktable string
	if keyer != nil {
		kdb, ktable = r.cfg.Render.Rewrite.target(tm)
	}
	for rows.More() {
		before, after, err := rows.Next()
		if err != nil {
			return err
		}
		if keyer != nil && !r.cfg.Flashback {
			keyer.RowKeys(kdb, ktable, tm, before, after)
		}
		if r.cfg.Flashback {
			err = r.flashbackRow(ctx, ev, tm, before, after)
		} else {
			err = r.rend.Row(ctx, rows.Kind, tm, before, after)
		}
		if err != nil {
			return err
		}
		switch rows.Kind {
		case binlog.Insert:
			r.sum.Inserts++
		case binlog.Update:
			r.sum.Updates++
		case binlog.Delete:
			r.sum.Deletes++
		}
	}
	return nil
}
