package restore

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/pitr-tool/pitr/pkg/binlog"
	"github.com/pitr-tool/pitr/pkg/mysqlconn"
)

// Execer runs one SQL statement (without a terminator) on a target.
type Execer interface {
	Exec(ctx context.Context, stmt string) error
}

// ConnExecer runs statements on one connection, over the text protocol.
type ConnExecer struct{ Conn *sql.Conn }

// Exec implements Execer.
func (c ConnExecer) Exec(ctx context.Context, stmt string) error {
	_, err := c.Conn.ExecContext(ctx, stmt)
	return err
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

// Exec implements Execer.
func (p *PrintExecer) Exec(_ context.Context, stmt string) error {
	if p.err == nil {
		p.w.WriteString(stmt)
		_, p.err = p.w.WriteString(";\n")
	}
	return p.err
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
	last         atomic.Pointer[binlog.Position]
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
	// MaxBatch is the most bytes sent in one round trip: consecutive statements of a
	// transaction go as one multi-statement query (the connection must allow them), joined by
	// ";\n" so that the text is exactly what a dry run prints. 0 sends each statement alone.
	MaxBatch int
	// Pipeline sends batches from a second goroutine, so that the next batch is rendered while
	// the target runs this one. A failure is then returned by a later call, or by Close, naming
	// the transaction it belongs to. Ignored for an Execer that prints notes (a dry run).
	Pipeline bool
}

// Applier is a Sink that runs each kept source transaction as one target transaction: BEGIN,
// its statements, the checkpoint upsert, COMMIT. With a PrintExecer it prints the same
// statements instead (--dry-run).
//
// Statements are sent in batches of up to MaxBatch bytes. With a checkpoint table, consecutive
// small transactions share a batch (each still BEGIN ... COMMIT): after a failure the checkpoint
// says which of them the target committed. A batch that does not start its transaction starts
// with SAVEPOINT pitr_batch, so that after an error it can be undone. Either way the statements
// not known to have run are then run one by one, to name the one the server refuses.
type Applier struct {
	x    Execer
	opts ApplierOptions
	info TxnInfo
	buf  []byte

	batch []byte          // statements joined by ";\n"
	offs  []int           // where each statement of batch starts
	txns  []jobTxn        // the transactions batch holds statements of
	group bool            // consecutive transactions may share a batch
	ctx   context.Context // the last Commit's: Close sends what is gathered unless it is done

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
	ctx     context.Context
	q       string
	offs    []int
	txns    []jobTxn
	barrier chan struct{}
}

// jobTxn is a transaction with statements in a batch.
type jobTxn struct {
	info   TxnInfo
	first  int         // index of its first statement in the batch (BEGIN, or SAVEPOINT)
	commit *TxnSummary // set when the batch holds its COMMIT
}

// groupBatch is how many bytes of whole small transactions are gathered before they are sent:
// one round trip then carries dozens of them.
const groupBatch = 64 << 10

var _ Sink = (*Applier)(nil)

// NewApplier sends statements to x.
func NewApplier(x Execer, opts ApplierOptions) *Applier {
	if opts.Progress == nil {
		opts.Progress = new(Progress)
	}
	_, printing := x.(noter)
	if printing {
		opts.Pipeline = false // notes are printed in line with the statements
	}
	_, reads := x.(checkpointReader)
	a := &Applier{x: x, opts: opts, group: opts.Checkpoint != nil && opts.MaxBatch > 0 && reads && !printing}
	if opts.Pipeline {
		// One batch running, one waiting: enough to keep the target busy while the next is
		// rendered.
		a.jobs = make(chan job, 1)
		a.done = make(chan struct{})
		go a.runJobs()
	}
	return a
}

// checkpointReader is implemented by Execers that can read the checkpoint row back, which
// batches of several transactions need after a failure.
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

// Committed returns how many transactions were committed, their row changes by kind, and the
// last one's end and GTID. Unlike Run's Stats it leaves out a transaction whose COMMIT failed.
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
		if err := a.x.Exec(ctx, s); err != nil {
			return fmt.Errorf("session setup: %s: %w", s, err)
		}
	}
	return nil
}

const savepoint = "SAVEPOINT pitr_batch"

// send queues stmt, sending the queue first if stmt would make it too long. commit is set for
// the transaction's COMMIT.
func (a *Applier) send(ctx context.Context, stmt []byte, commit *TxnSummary) error {
	if a.opts.MaxBatch > 0 && len(a.offs) > 0 && len(a.batch)+2+len(stmt) > a.opts.MaxBatch {
		if err := a.flush(ctx); err != nil {
			return err
		}
		// The transaction goes on in a batch of its own.
		a.txns = append(a.txns, jobTxn{info: a.info})
		a.queue([]byte(savepoint))
	}
	if len(a.txns) == 0 {
		a.txns = append(a.txns, jobTxn{info: a.info}) // each statement alone (MaxBatch 0)
	}
	a.queue(stmt)
	if commit != nil {
		a.txns[len(a.txns)-1].commit = commit
		// A transaction continued from an earlier batch ends its own; small ones gather.
		if !a.group || bytes.HasPrefix(a.batch, []byte(savepoint)) || len(a.batch) >= groupBatch {
			return a.flush(ctx)
		}
		return nil
	}
	if a.opts.MaxBatch <= 0 {
		return a.flush(ctx)
	}
	return nil
}

func (a *Applier) queue(stmt []byte) {
	if len(a.offs) > 0 {
		a.batch = append(a.batch, ";\n"...)
	}
	a.offs = append(a.offs, len(a.batch))
	a.batch = append(a.batch, stmt...)
}

// flush sends the queued statements as one query.
func (a *Applier) flush(ctx context.Context) error {
	if len(a.offs) == 0 {
		return nil
	}
	j := job{ctx: ctx, q: string(a.batch), offs: append([]int(nil), a.offs...), txns: append([]jobTxn(nil), a.txns...)}
	a.batch, a.offs, a.txns = a.batch[:0], a.offs[:0], a.txns[:0]
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

// run sends one batch and counts the commits it holds. A failure ends the open transaction (it
// can never commit) and is kept: nothing is sent after it.
func (a *Applier) run(j job) error {
	err := a.exec(j)
	if err == nil {
		return nil
	}
	if !mysqlconn.IsConnLost(err) {
		a.x.Exec(j.ctx, "ROLLBACK")
	}
	// The error (a *StatementError) names the transaction it belongs to, which with Pipeline
	// is not the one being rendered when the failure is seen.
	a.failed.Store(&err)
	return err
}

// confirm counts committed transactions (those whose commit is set).
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

// exec sends one batch and counts the commits the target ran.
func (a *Applier) exec(j job) error {
	ctx, q, offs := j.ctx, j.q, j.offs
	err := a.x.Exec(ctx, q)
	if err == nil {
		a.confirm(j.txns...)
		return nil
	}
	last := len(j.txns) - 1
	stmts := make([]string, len(offs))
	for i, o := range offs {
		end := len(q)
		if i+1 < len(offs) {
			end = offs[i+1] - 2
		}
		stmts[i] = q[o:end]
	}
	if mysqlconn.IsConnLost(err) || ctx.Err() != nil {
		// Which of the commits ran, only the checkpoint can tell, on the next connection.
		for _, t := range j.txns {
			if t.commit != nil {
				a.unknown = append(a.unknown, t)
			}
		}
		return stmtError(j.txns[last].info, stmts[0], err)
	}
	// The server ran the statements before the failing one and stopped there. Undo what is
	// not committed, and run the rest one at a time: the failing one fails again, alone, with
	// its own message.
	done, from := 0, 0 // transactions committed; first statement to run again
	switch {
	case len(j.txns) > 1:
		// Which transactions committed, the checkpoint says.
		if uerr := a.x.Exec(ctx, "ROLLBACK"); uerr != nil {
			return stmtError(j.txns[last].info, stmts[len(stmts)-1], err)
		}
		st, ok, rerr := a.x.(checkpointReader).ReadCheckpoint(ctx, a.opts.Checkpoint)
		if rerr != nil {
			return stmtError(j.txns[last].info, stmts[len(stmts)-1], errors.Join(err, rerr))
		}
		for done < len(j.txns) && ok && j.txns[done].commit != nil && !st.End.Before(j.txns[done].commit.End) {
			done++
		}
		a.confirm(j.txns[:done]...)
		if done == len(j.txns) {
			return nil // the failure came after the last COMMIT: nothing to run again
		}
		from = j.txns[done].first
	case stmts[0] == savepoint:
		if uerr := a.x.Exec(ctx, "ROLLBACK TO SAVEPOINT "+savepoint[len("SAVEPOINT "):]); uerr != nil {
			return stmtError(j.txns[0].info, stmts[len(stmts)-1], err) // a deadlock ended the transaction, say
		}
		from = 1
	case stmts[0] == "BEGIN":
		if uerr := a.x.Exec(ctx, "ROLLBACK"); uerr != nil {
			return stmtError(j.txns[0].info, stmts[len(stmts)-1], err)
		}
	default:
		return stmtError(j.txns[0].info, q, err)
	}
	t := done
	for i := from; i < len(stmts); i++ {
		for t+1 < len(j.txns) && j.txns[t+1].first <= i {
			t++
		}
		if rerr := a.x.Exec(ctx, stmts[i]); rerr != nil {
			return stmtError(j.txns[t].info, stmts[i], rerr)
		}
		if stmts[i] == "COMMIT" {
			a.confirm(j.txns[t])
		}
	}
	return nil // it went through this time (a lock wait timeout, say)
}

// Begin implements Sink.
func (a *Applier) Begin(ctx context.Context, tx TxnInfo) error {
	if err := a.err(); err != nil {
		return err
	}
	a.info = tx
	if n, ok := a.x.(noter); ok {
		n.Note(string(appendTxnGTID(appendTxnSpan(a.buf[:0], tx), tx)))
	}
	if a.opts.MaxBatch > 0 && len(a.offs) > 0 && len(a.batch)+len(";\nBEGIN") > a.opts.MaxBatch {
		if err := a.flush(ctx); err != nil { // the transaction starts a batch, not a SAVEPOINT
			return err
		}
	}
	a.txns = append(a.txns, jobTxn{info: tx, first: len(a.offs)})
	return a.send(ctx, []byte("BEGIN"), nil)
}

// Write implements Sink.
func (a *Applier) Write(ctx context.Context, stmt []byte) error {
	a.opts.Progress.Statements.Add(1)
	return a.send(ctx, stmt, nil)
}

// Commit implements Sink: the checkpoint row, then COMMIT. Commits are counted once the target
// has run them.
func (a *Applier) Commit(ctx context.Context, sum TxnSummary) error {
	a.ctx = ctx
	if ck := a.opts.Checkpoint; ck != nil {
		a.buf = ck.upsert(a.buf[:0], sum.End, a.info.GTID, a.info.Time)
		if err := a.send(ctx, a.buf, nil); err != nil {
			return err
		}
	}
	return a.send(ctx, []byte("COMMIT"), &sum)
}

// Rollback implements Sink: the open transaction is dropped, after the whole ones gathered
// before it are sent.
func (a *Applier) Rollback(ctx context.Context) error {
	if n := len(a.txns); n > 0 && a.txns[n-1].commit == nil {
		cut := a.txns[n-1].first
		a.txns = a.txns[:n-1]
		if cut == 0 {
			a.batch, a.offs = a.batch[:0], a.offs[:0]
		} else {
			a.batch, a.offs = a.batch[:a.offs[cut]-2], a.offs[:cut]
		}
	}
	err := a.flush(ctx)
	if err == nil {
		err = a.wait(ctx)
	}
	if err != nil {
		if a.err() != nil {
			// A failed batch has been rolled back already; its failure is reported by the
			// call that sees it, or by Close.
			return nil
		}
		return err
	}
	return a.x.Exec(ctx, "ROLLBACK")
}

// Close implements Sink: it sends the transactions still gathered, waits for the batches handed
// over, and returns the first failure, if any.
func (a *Applier) Close() error {
	var ferr error
	if a.ctx != nil && a.ctx.Err() == nil {
		ferr = a.flush(a.ctx)
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
	s := e.Stmt
	if len(s) > maxShownStatement {
		s = s[:maxShownStatement] + fmt.Sprintf("... (%d bytes)", len(e.Stmt))
	}
	where := e.Txn.Start.String() + ": transaction"
	if e.Txn.GTID != "" {
		where += " (GTID " + e.Txn.GTID + ")"
	}
	return fmt.Sprintf("%s: %v; statement: %s", where, e.Err, s)
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
