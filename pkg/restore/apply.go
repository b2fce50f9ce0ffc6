package restore

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/pitr-tool/pitr/pkg/binlog"
	"github.com/pitr-tool/pitr/pkg/mysqlconn"
)

// Execer runs SQL on a target.
type Execer interface {
	// Exec runs q, one statement or several joined by ";\n", and returns the rows each
	// statement changed, in order (found rows, for an UPDATE: the connection must set
	// CLIENT_FOUND_ROWS). After a statement error, rows holds the counts of the statements
	// that ran before the failing one, so that the failing one is rows[len(rows)]; rows is nil
	// when that is not known, and always for an Execer that runs nothing (a dry run). A
	// negative count is one the Execer does not know.
	Exec(ctx context.Context, q string) (rows []int64, err error)
}

// ConnExecer runs statements on one connection, over the text protocol. The connection must
// allow multi-statements for batches and set CLIENT_FOUND_ROWS for the row checks.
type ConnExecer struct {
	Conn *sql.Conn
	// Timeout bounds each query (0: none): a target whose disk is full waits for space without
	// an error, and pitr would wait with it.
	Timeout time.Duration
	// Diagnose says what the server is doing on the session, after a timeout (may be nil).
	Diagnose func(ctx context.Context) string
}

// ErrStatementTimeout is a query the target did not finish within ConnExecer.Timeout. It is not
// retried: a full disk or a held lock would make every retry wait as long.
var ErrStatementTimeout = errors.New("the target did not finish the statement in time")

// Exec implements Execer. database/sql hides the driver's per-statement results, so the query
// goes to the driver connection itself.
func (c ConnExecer) Exec(ctx context.Context, q string) ([]int64, error) {
	if c.Timeout <= 0 {
		return c.exec(ctx, q)
	}
	qctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	rows, err := c.exec(qctx, q)
	if err != nil && ctx.Err() == nil && errors.Is(qctx.Err(), context.DeadlineExceeded) {
		why := "the server did not say what it waits on"
		if c.Diagnose != nil {
			dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
			if s := c.Diagnose(dctx); s != "" {
				why = "the server says the session is " + s
			}
			dcancel()
		}
		return rows, fmt.Errorf("%w: no answer within %s (--statement-timeout; a full disk, a held lock or a long ALTER): %s", ErrStatementTimeout, c.Timeout, why)
	}
	return rows, err
}

func (c ConnExecer) exec(ctx context.Context, q string) ([]int64, error) {
	var rows []int64
	err := c.Conn.Raw(func(dc any) error {
		ex, ok := dc.(driver.ExecerContext)
		if !ok {
			return fmt.Errorf("the driver connection %T cannot execute", dc)
		}
		res, err := ex.ExecContext(ctx, q, nil)
		if err != nil {
			rows = ranBefore(dc)
			return err
		}
		if r, ok := res.(mysql.Result); ok {
			rows = r.AllRowsAffected()
		}
		return nil
	})
	return rows, err
}

// ranBefore returns the rows changed by the statements of a failed multi-statement query that
// ran before the failing one, or nil. go-sql-driver/mysql (v1.10) keeps one count per
// statement it has read a reply for, the failing one included, in its connection's result,
// but returns no result with the error; that field is read here, and a driver whose connection
// looks different yields nil (the failing statement is then not named). cmd/pitr's
// TestApplyVerify ("statement error") checks on a real server that a batch's failing statement
// is named.
func ranBefore(dc any) []int64 {
	v := reflect.ValueOf(dc)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	r := v.Elem().FieldByName("result")
	if !r.IsValid() || r.Kind() != reflect.Struct {
		return nil
	}
	ar := r.FieldByName("affectedRows")
	if !ar.IsValid() || ar.Kind() != reflect.Slice || ar.Type().Elem().Kind() != reflect.Int64 || ar.Len() == 0 {
		return nil
	}
	rows := make([]int64, ar.Len()-1)
	for i := range rows {
		rows[i] = ar.Index(i).Int()
	}
	return rows
}

// PrintExecer prints each statement followed by ";\n": what --dry-run shows of an apply, byte
// for byte the statements the target would be sent. Its Note lines are "-- " comments.
type PrintExecer struct {
	w   *bufio.Writer
	err error
}

// NewPrintExecer writes to w; call Flush at the end.
func NewPrintExecer(w io.Writer) *PrintExecer {
	return &PrintExecer{w: bufio.NewWriterSize(w, 256<<10)}
}

// Exec implements Execer. It checks nothing, so it returns no counts.
func (p *PrintExecer) Exec(_ context.Context, stmt string) ([]int64, error) {
	if p.err == nil {
		if strings.IndexByte(stmt, ';') < 0 {
			p.w.WriteString(stmt)
			_, p.err = p.w.WriteString(";\n")
		} else {
			_, p.err = p.w.Write(appendStatement(nil, []byte(stmt)))
		}
	}
	return nil, p.err
}

// Note prints s as a comment line, through CommentText.
func (p *PrintExecer) Note(s string) {
	if p.err == nil {
		p.w.WriteString("-- ")
		p.w.WriteString(CommentText(s))
		_, p.err = p.w.WriteString("\n")
	}
}

// Flush writes what is buffered and returns the first error.
func (p *PrintExecer) Flush() error {
	if err := p.w.Flush(); p.err == nil {
		p.err = err
	}
	return p.err
}

// noter is implemented by Execers that show comments (PrintExecer).
type noter interface{ Note(s string) }

// Progress is what an apply has committed so far, safe to read from another goroutine.
type Progress struct {
	Transactions atomic.Int64
	Rows         atomic.Int64
	Statements   atomic.Int64 // row statements sent, including those of open transactions
	// RowsSent and BytesSent count row changes and statement bytes sent, including those of
	// open transactions: a transaction of millions of rows moves them while Position and
	// Transactions wait for its commit.
	RowsSent  atomic.Int64
	BytesSent atomic.Int64
	last      atomic.Pointer[binlog.Position]
}

// Position is the end of the last committed source transaction, zero before the first.
func (p *Progress) Position() binlog.Position {
	if q := p.last.Load(); q != nil {
		return *q
	}
	return binlog.Position{}
}

// SetPosition records where the applied source stands (a resumed run starts at its checkpoint).
func (p *Progress) SetPosition(pos binlog.Position) { p.last.Store(&pos) }

// ApplierOptions configure an Applier.
type ApplierOptions struct {
	NoBinlog   bool        // SET SESSION sql_log_bin=0 first
	Checkpoint *Checkpoint // nil: no checkpoint table
	Progress   *Progress   // may be nil
	// MaxBatch is the most bytes sent in one round trip: consecutive statements go as one
	// multi-statement query (the connection must allow them), joined by ";\n" so that the text
	// is exactly what a dry run prints. 0 sends each statement alone, and each source
	// transaction as a target transaction of its own.
	MaxBatch int
	// Pipeline sends batches from a second goroutine, so that the next batch is rendered while
	// the target runs this one. A failure is then returned by a later call, or by Close, naming
	// the transaction it belongs to. Ignored for an Execer that prints notes (a dry run).
	Pipeline bool
}

// Applier is a Sink that runs the kept source transactions on a target, and checks that each
// row statement changed exactly the rows the binlog says (see RowSink). With a PrintExecer it
// prints the same statements instead (--dry-run).
//
// A target transaction is never committed before the server has answered for every statement
// in it, and the answers have been checked: its COMMIT goes first in the round trip after its
// last statement. Any error or wrong count rolls the open target transaction back and stops
// the apply; nothing is ever run again to see whether it fails again.
//
// Statements are sent in batches of up to MaxBatch bytes. Consecutive small source
// transactions share one target transaction, up to groupBatch bytes: one round trip and one
// COMMIT for dozens of them, with one checkpoint row, that of the last. A source transaction
// that does not fit the rest of a batch, or that holds a statement that commits by itself
// (DDL), gets a target transaction of its own; a big one then spans several batches.
type Applier struct {
	x     Execer
	opts  ApplierOptions
	group bool
	buf   []byte

	loadDir, loadID string   // LOAD DATA files and the name part unique to this Applier
	loadNames       []string // reader names registered with the driver

	batch  []byte     // statements joined by ";\n"
	offs   []int      // where each statement of batch starts
	checks []RowCheck // what each statement must change; Rows < 0: not checked
	txns   []jobTxn   // the source transactions batch holds statements of
	commit bool       // batch starts with the COMMIT of the previous target transaction

	open    bool     // a target transaction is open: its BEGIN queued or sent, its COMMIT not
	began   int      // index in batch of the open target transaction's BEGIN; -1: sent before
	whole   bool     // the open target transaction takes no other source transaction (DDL)
	sent    []jobTxn // complete source transactions of the open target transaction, sent
	pending *TxnSummary
	pinfo   TxnInfo // the transaction of pending, whose checkpoint row is not yet queued

	ctx context.Context // the last Commit's: Close sends what is gathered unless it is done

	// With Pipeline, batches go to the goroutine that runs them; failed holds its first error.
	jobs   chan job
	done   chan struct{}
	failed atomic.Pointer[error]

	// Written by whoever runs the batches; read after Close.
	committed int64
	rows      TxnSummary // committed row changes by kind
	last      CheckpointState
	unknown   []jobTxn // commits sent in a batch that lost the connection
}

// job is one batch: statements joined by ";\n", sent as one query.
type job struct {
	ctx        context.Context
	q          string
	offs       []int
	checks     []RowCheck
	txns       []jobTxn
	commit     bool     // q starts with COMMIT
	committing []jobTxn // the source transactions that COMMIT commits
	barrier    chan struct{}
}

// jobTxn is a source transaction with statements in a batch.
type jobTxn struct {
	info   TxnInfo
	first  int         // index of its first statement in the batch
	cont   bool        // it began in an earlier batch
	commit *TxnSummary // set once it is complete
}

// groupBatch is how many bytes of whole small transactions are gathered into one target
// transaction: one round trip and one COMMIT then carry dozens of them.
const groupBatch = 64 << 10

var _ RowSink = (*Applier)(nil)

// NewApplier sends statements to x.
func NewApplier(x Execer, opts ApplierOptions) *Applier {
	if opts.Progress == nil {
		opts.Progress = new(Progress)
	}
	if _, printing := x.(noter); printing {
		opts.Pipeline = false // notes are printed in line with the statements
	}
	a := &Applier{x: x, opts: opts, group: opts.MaxBatch > 0, began: -1}
	if opts.Pipeline {
		// One batch running, one waiting: enough to keep the target busy while the next is
		// rendered.
		a.jobs = make(chan job, 1)
		a.done = make(chan struct{})
		go a.runJobs()
	}
	return a
}

// checkpointReader is implemented by Execers that can read the checkpoint row back.
type checkpointReader interface {
	ReadCheckpoint(ctx context.Context, c *Checkpoint) (CheckpointState, bool, error)
}

// ReadCheckpoint implements checkpointReader.
func (c ConnExecer) ReadCheckpoint(ctx context.Context, ck *Checkpoint) (CheckpointState, bool, error) {
	return ck.Read(ctx, c.Conn)
}

func (a *Applier) runJobs() {
	defer close(a.done)
	for j := range a.jobs {
		if j.barrier != nil {
			close(j.barrier)
			continue
		}
		if a.failed.Load() != nil {
			continue // after a failure nothing more is sent
		}
		a.run(j)
	}
}

// err returns the pipeline's failure, if any.
func (a *Applier) err() error {
	if e := a.failed.Load(); e != nil {
		return *e
	}
	return nil
}

// wait returns once every batch handed over has run, with the pipeline's failure if any.
func (a *Applier) wait(ctx context.Context) error {
	if a.jobs == nil {
		return a.err()
	}
	b := make(chan struct{})
	select {
	case a.jobs <- job{barrier: b}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-b:
	case <-ctx.Done():
		return ctx.Err()
	}
	return a.err()
}

// Committed returns how many source transactions were committed, their row changes by kind,
// and the last one's end and GTID. Unlike Run's Stats it leaves out transactions whose
// target transaction failed or was never committed.
func (a *Applier) Committed() (int64, TxnSummary, CheckpointState) {
	return a.committed, a.rows, a.last
}

// Unknown returns the transactions whose COMMIT was sent when the connection was lost: the
// target may or may not have run it. The checkpoint read on the next connection tells (Apply
// counts those it has reached).
func (a *Applier) Unknown() []jobTxn { return a.unknown }

// Session implements Sink.
func (a *Applier) Session(ctx context.Context, stmts []string) error {
	if a.opts.NoBinlog {
		stmts = append([]string{"SET SESSION sql_log_bin=0"}, stmts...)
	}
	if a.opts.Checkpoint != nil {
		stmts = append(stmts, a.opts.Checkpoint.CreateStatements()...)
	}
	for _, s := range stmts {
		if _, err := a.x.Exec(ctx, s); err != nil {
			return fmt.Errorf("session setup: %s: %w", s, err)
		}
	}
	return nil
}

var noCheck = RowCheck{Rows: -1}

func (a *Applier) queue(stmt []byte, c RowCheck) {
	if len(a.offs) > 0 {
		a.batch = append(a.batch, ";\n"...)
	}
	a.offs = append(a.offs, len(a.batch))
	a.checks = append(a.checks, c)
	a.batch = append(a.batch, stmt...)
}

// cur is the source transaction being written.
func (a *Applier) cur() *jobTxn { return &a.txns[len(a.txns)-1] }

// alone reports whether the source transaction being written is the only one in the open
// target transaction.
func (a *Applier) alone() bool {
	return a.began < 0 || a.cur().first == a.began+1
}

// startTarget queues the COMMIT of the open target transaction, if any, and a BEGIN. The
// batch is empty: a COMMIT never shares a round trip with statements of its own transaction.
func (a *Applier) startTarget() {
	if a.open {
		a.queue([]byte("COMMIT"), noCheck)
		a.commit = true
	}
	a.began = len(a.offs)
	a.queue([]byte("BEGIN"), noCheck)
	a.open, a.whole = true, false
}

// Begin implements Sink.
func (a *Applier) Begin(ctx context.Context, tx TxnInfo) error {
	if err := a.err(); err != nil {
		return err
	}
	join := a.group && a.open && a.began >= 0 && !a.whole && len(a.batch) < groupBatch
	if !join {
		if err := a.flush(ctx); err != nil {
			return err
		}
		a.startTarget()
	}
	a.txns = append(a.txns, jobTxn{info: tx, first: len(a.offs)})
	return nil
}

// Write implements Sink, for statements with no row count to check.
func (a *Applier) Write(ctx context.Context, stmt []byte) error {
	return a.write(ctx, stmt, noCheck)
}

// WriteRows implements RowSink.
func (a *Applier) WriteRows(ctx context.Context, stmt []byte, c RowCheck) error {
	a.opts.Progress.Statements.Add(1)
	a.opts.Progress.BytesSent.Add(int64(len(stmt)))
	if c.Rows > 0 {
		a.opts.Progress.RowsSent.Add(c.Rows)
	}
	return a.write(ctx, stmt, c)
}

// commitsItself reports whether a statement without a row count ends the transaction it runs
// in (DDL), as far as the Applier can tell: everything but the session settings the renderer
// and the DDL writer send.
func commitsItself(stmt []byte) bool {
	return !bytes.HasPrefix(stmt, []byte("SET ")) && !bytes.HasPrefix(stmt, []byte("USE "))
}

func (a *Applier) write(ctx context.Context, stmt []byte, c RowCheck) error {
	if err := a.err(); err != nil {
		return err
	}
	if c.Rows < 0 && commitsItself(stmt) {
		// It would commit the statements before it unchecked: it goes in a target
		// transaction of its own, and the next source transaction starts another.
		if !a.alone() {
			if err := a.split(ctx); err != nil {
				return err
			}
		}
		a.whole = true
	}
	if a.opts.MaxBatch > 0 && len(a.offs) > 0 && len(a.batch)+2+len(stmt) > a.opts.MaxBatch {
		if !a.alone() {
			if err := a.split(ctx); err != nil {
				return err
			}
		}
		if len(a.offs) > 0 && len(a.batch)+2+len(stmt) > a.opts.MaxBatch {
			if err := a.sendPart(ctx); err != nil {
				return err
			}
		}
	}
	a.queue(stmt, c)
	if a.opts.MaxBatch <= 0 {
		return a.sendPart(ctx)
	}
	return nil
}

// sendPart sends the queued statements in the middle of a source transaction, alone in its
// target transaction; the next batch continues both.
func (a *Applier) sendPart(ctx context.Context) error {
	info := a.cur().info
	if err := a.send(ctx); err != nil {
		return err
	}
	a.txns = append(a.txns, jobTxn{info: info, cont: true})
	a.began = -1
	return nil
}

// split moves the source transaction being written out of the open target transaction, which
// holds others before it, into a target transaction of its own: the batch up to it is sent,
// and the next one starts with COMMIT, BEGIN and what it has written so far.
func (a *Applier) split(ctx context.Context) error {
	t := *a.cur()
	a.txns = a.txns[:len(a.txns)-1]
	f := t.first
	var tail []byte
	var tailOffs []int
	var tailChecks []RowCheck
	if f < len(a.offs) {
		tail = append(tail, a.batch[a.offs[f]:]...)
		for _, o := range a.offs[f:] {
			tailOffs = append(tailOffs, o-a.offs[f])
		}
		tailChecks = append(tailChecks, a.checks[f:]...)
		a.batch, a.offs, a.checks = a.batch[:a.offs[f]-2], a.offs[:f], a.checks[:f]
	}
	if err := a.flush(ctx); err != nil {
		return err
	}
	a.startTarget()
	t.first = len(a.offs)
	a.txns = append(a.txns, t)
	for i, o := range tailOffs {
		end := len(tail)
		if i+1 < len(tailOffs) {
			end = tailOffs[i+1] - 2
		}
		a.queue(tail[o:end], tailChecks[i])
	}
	return nil
}

// Commit implements Sink. The source transaction's rows commit with the target transaction
// that holds them, once the target has answered for all of them.
func (a *Applier) Commit(ctx context.Context, sum TxnSummary) error {
	a.ctx = ctx
	if err := a.err(); err != nil {
		return err
	}
	t := a.cur()
	t.commit = &sum
	a.pending, a.pinfo = &sum, t.info
	if !a.group || a.began < 0 || a.whole || len(a.batch) >= groupBatch {
		return a.flush(ctx)
	}
	return nil
}

// flush sends the queued statements, which end at a source transaction's boundary: with the
// checkpoint row of the last complete source transaction, if not yet sent.
func (a *Applier) flush(ctx context.Context) error {
	if a.pending != nil {
		if ck := a.opts.Checkpoint; ck != nil {
			a.buf = ck.upsert(a.buf[:0], a.pending.End, a.pinfo.GTID, a.pinfo.Time)
			a.queue(a.buf, noCheck)
		}
		a.pending = nil
	}
	if err := a.send(ctx); err != nil {
		return err
	}
	a.began = -1
	return nil
}

// send hands the queued statements over as one query.
func (a *Applier) send(ctx context.Context) error {
	if len(a.offs) == 0 {
		return nil
	}
	j := job{ctx: ctx, q: string(a.batch), offs: append([]int(nil), a.offs...),
		checks: append([]RowCheck(nil), a.checks...), txns: append([]jobTxn(nil), a.txns...), commit: a.commit}
	if a.commit {
		j.committing, a.sent = a.sent, nil
	}
	for _, t := range a.txns {
		if t.commit != nil {
			a.sent = append(a.sent, t)
		}
	}
	a.batch, a.offs, a.checks, a.txns, a.commit = a.batch[:0], a.offs[:0], a.checks[:0], a.txns[:0], false
	if err := a.err(); err != nil {
		return err
	}
	if a.jobs == nil {
		return a.run(j)
	}
	select {
	case a.jobs <- j:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run sends one batch and checks the answers. A failure rolls the open target transaction back
// and is kept: nothing is sent after it.
func (a *Applier) run(j job) error {
	err := a.exec(j)
	if err == nil {
		return nil
	}
	if !mysqlconn.IsConnLost(err) && j.ctx.Err() == nil {
		a.x.Exec(j.ctx, "ROLLBACK")
	}
	// The error (a *StatementError) names the transaction it belongs to, which with Pipeline
	// is not the one being rendered when the failure is seen.
	a.failed.Store(&err)
	return err
}

// confirm counts committed transactions.
func (a *Applier) confirm(ts ...jobTxn) {
	for _, t := range ts {
		if sum := t.commit; sum != nil {
			a.committed++
			a.rows.Inserts += sum.Inserts
			a.rows.Updates += sum.Updates
			a.rows.Deletes += sum.Deletes
			a.last = CheckpointState{End: sum.End, GTID: t.info.GTID}
			p := a.opts.Progress
			p.SetPosition(sum.End)
			p.Transactions.Add(1)
			p.Rows.Add(sum.Rows())
		}
	}
}

// statements splits a job's query.
func (j *job) statements() []string {
	stmts := make([]string, len(j.offs))
	for i, o := range j.offs {
		end := len(j.q)
		if i+1 < len(j.offs) {
			end = j.offs[i+1] - 2
		}
		stmts[i] = j.q[o:end]
	}
	return stmts
}

// txnOf is the source transaction statement i belongs to: the COMMIT's for a leading COMMIT,
// else the last one starting at or before i.
func (j *job) txnOf(i int) TxnInfo {
	if j.commit && i == 0 && len(j.committing) > 0 {
		return j.committing[len(j.committing)-1].info
	}
	t := 0
	for t+1 < len(j.txns) && j.txns[t+1].first <= i {
		t++
	}
	if len(j.txns) == 0 {
		if len(j.committing) > 0 {
			return j.committing[len(j.committing)-1].info
		}
		return TxnInfo{}
	}
	return j.txns[t].info
}

// exec sends one batch, checks each statement's count, and counts the commits the target ran.
func (a *Applier) exec(j job) error {
	ctx := j.ctx
	var counts []int64
	var err error
	if n, ok := a.x.(noter); ok || a.opts.MaxBatch <= 0 {
		// One statement at a time. A dry run prints each source transaction's comment above
		// its first statement, or above the BEGIN right before it.
		stmts := j.statements()
		t := 0
		for i, s := range stmts {
			for n != nil && t < len(j.txns) && (j.txns[t].first <= i || j.txns[t].first == i+1 && s == "BEGIN") {
				if !j.txns[t].cont {
					n.Note(txnNote(nil, j.txns[t].info))
				}
				t++
			}
			c, e := a.x.Exec(ctx, s)
			if e != nil {
				err = e
				counts = append(make([]int64, 0, len(counts)), counts...) // the failing one is known
				break
			}
			if len(c) == 1 {
				counts = append(counts, c[0])
			} else {
				counts = append(counts, -1)
			}
		}
		if ok {
			counts = nil // nothing ran
		}
	} else {
		counts, err = a.x.Exec(ctx, j.q)
	}
	if err != nil && (mysqlconn.IsConnLost(err) || ctx.Err() != nil) {
		// Whether the COMMIT ran, only the checkpoint can tell, on the next connection.
		a.unknown = append(a.unknown, j.committing...)
		return stmtError(j.txnOf(0), j.statements()[0], err)
	}
	stmts := len(j.offs)
	ran := stmts // statements that ran without error
	if err != nil {
		ran = -1
		if counts != nil {
			ran = len(counts)
		}
	} else if counts != nil && len(counts) != stmts {
		err = fmt.Errorf("the target answered %d statements of %d", len(counts), stmts)
		ran = -1
	}
	// The first statement that failed or changed other rows than the binlog's.
	for i := range min(len(counts), max(ran, 0)) {
		if c := j.checks[i]; c.Rows >= 0 && counts[i] >= 0 && counts[i] != c.Rows {
			s := j.statements()[i]
			if j.commit && i > 0 {
				a.confirm(j.committing...)
			}
			return stmtError(j.txnOf(i), s, &RowCountError{Stmt: s, Check: c, Got: counts[i]})
		}
	}
	switch {
	case err == nil:
		if j.commit {
			a.confirm(j.committing...)
		}
		return nil
	case ran < 0:
		// Which statement failed is not known: nor whether a leading COMMIT ran.
		a.unknown = append(a.unknown, j.committing...)
		stmts := j.statements()
		return stmtError(j.txnOf(len(stmts)-1), fmt.Sprintf("one of %d statements, from %s to %s", len(stmts), stmts[0], stmts[len(stmts)-1]), err)
	default:
		if j.commit && ran > 0 {
			a.confirm(j.committing...)
		}
		return stmtError(j.txnOf(ran), j.statements()[ran], err)
	}
}

// txnNote is the comment a dry run prints above a source transaction.
func txnNote(b []byte, tx TxnInfo) string {
	return string(appendTxnGTID(appendTxnSpan(b, tx), tx))
}

// Rollback implements Sink: the open source transaction is dropped, with the target
// transaction if it was alone in it; the whole ones before it are sent.
func (a *Applier) Rollback(ctx context.Context) error {
	if n := len(a.txns); n > 0 && a.txns[n-1].commit == nil {
		alone := a.alone()
		cut := a.txns[n-1].first
		if alone && a.began >= 0 {
			cut = a.began // its BEGIN too
		}
		a.txns = a.txns[:n-1]
		if cut == 0 {
			a.batch, a.offs, a.checks = a.batch[:0], a.offs[:0], a.checks[:0]
		} else if cut < len(a.offs) {
			a.batch, a.offs, a.checks = a.batch[:a.offs[cut]-2], a.offs[:cut], a.checks[:cut]
		}
		if alone {
			if a.began < 0 {
				a.queue([]byte("ROLLBACK"), noCheck)
			}
			a.open, a.began = false, -1
		}
	}
	err := a.flush(ctx)
	if err == nil {
		err = a.wait(ctx)
	}
	if err != nil && a.err() != nil {
		// A failed batch has been rolled back already; its failure is reported by the call
		// that sees it, or by Close.
		return nil
	}
	return err
}

// Close implements Sink: it sends the transactions still gathered and the last COMMIT, waits
// for the batches handed over, and returns the first failure, if any.
func (a *Applier) Close() error {
	defer a.closeLoads()
	var ferr error
	if a.ctx != nil && a.ctx.Err() == nil && a.err() == nil {
		ferr = a.flush(a.ctx)
		if ferr == nil && a.open {
			a.queue([]byte("COMMIT"), noCheck)
			a.commit, a.open = true, false
			ferr = a.send(a.ctx)
		}
	}
	if a.jobs != nil {
		close(a.jobs)
		<-a.done
		a.jobs = nil
	}
	if err := a.err(); err != nil {
		return err
	}
	if ferr != nil {
		return ferr
	}
	if p, ok := a.x.(*PrintExecer); ok {
		return p.Flush()
	}
	return nil
}

// maxShownStatement is how much of a failing statement an error quotes.
const maxShownStatement = 200

// RowCountError is a row statement that changed other rows than the binlog says: the target
// differs from the source.
type RowCountError struct {
	Stmt  string
	Check RowCheck
	Got   int64
}

func (e *RowCountError) Error() string {
	verb, past := "UPDATE", "updated"
	switch {
	case strings.HasPrefix(e.Stmt, "DELETE"):
		verb, past = "DELETE", "deleted"
	case strings.HasPrefix(e.Stmt, "INSERT"):
		verb, past = "INSERT", "inserted"
	}
	found := "found"
	if verb == "INSERT" {
		found = "inserted"
	}
	msg := fmt.Sprintf("table %s: the %s %s %d rows where the source %s %d: the target differs from the source "+
		"(was it restored from the backup these binlogs continue, and left unchanged since?)",
		stmtTable(e.Stmt), verb, found, e.Got, past, e.Check.Rows)
	if w := e.Check.Where; w > 0 && w < len(e.Stmt) {
		where := strings.TrimPrefix(e.Stmt[w:], " WHERE ")
		where = strings.TrimSuffix(where, " LIMIT 1")
		if i := strings.LastIndex(where, " ORDER BY "); i > 0 {
			where = where[:i]
		}
		if len(where) > maxShownStatement {
			where = where[:maxShownStatement] + "..."
		}
		msg += "; rows " + where
	}
	return msg
}

// stmtTable is the `db`.`table` a rendered INSERT, UPDATE or DELETE writes.
func stmtTable(stmt string) string {
	for _, p := range []string{"INSERT INTO ", "UPDATE ", "DELETE FROM "} {
		if rest, ok := strings.CutPrefix(stmt, p); ok {
			// Two quoted identifiers and the dot: a backquote inside one is doubled.
			i, parts := 0, 0
			for i < len(rest) && parts < 2 {
				if rest[i] != '`' {
					break
				}
				i++
				for i < len(rest) {
					if rest[i] == '`' {
						if i+1 < len(rest) && rest[i+1] == '`' {
							i += 2
							continue
						}
						i++
						break
					}
					i++
				}
				parts++
				if parts == 1 && i < len(rest) && rest[i] == '.' {
					i++
				}
			}
			return rest[:i]
		}
	}
	return "?"
}

func stmtError(info TxnInfo, stmt string, err error) error {
	return &StatementError{Txn: info, Stmt: stmt, Err: err}
}

// StatementError is a statement the target refused (or could not be sent). Its message starts
// with the position of its transaction, so Run does not wrap it in another.
type StatementError struct {
	Txn  TxnInfo // the source transaction it belongs to
	Stmt string  // the whole statement
	Err  error   // the server's error
}

func (e *StatementError) Error() string {
	s := RedactString(e.Stmt)
	if len(s) > maxShownStatement {
		s = s[:maxShownStatement] + fmt.Sprintf("... (%d bytes)", len(e.Stmt))
	}
	where := e.Txn.Start.String() + ": transaction"
	if e.Txn.GTID != "" {
		where += " (GTID " + e.Txn.GTID + ")"
	}
	return fmt.Sprintf("%s: %s; statement: %s", where, redactError(fmt.Sprint(e.Err), []byte(e.Stmt)), s)
}

func (e *StatementError) Unwrap() error { return e.Err }

// ApplyError is an apply that stopped: the error, and how far the target got. Running the same
// apply again resumes after LastCommitted (when the checkpoint table is used).
type ApplyError struct {
	Committed     int64           // transactions committed by this run
	LastCommitted CheckpointState // the target's checkpoint; zero if nothing was ever committed
	Err           error
}

func (e *ApplyError) Error() string { return e.Err.Error() }
func (e *ApplyError) Unwrap() error { return e.Err }

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
