package restore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/pitr-tool/pitr/pkg/binlog"
	"github.com/pitr-tool/pitr/pkg/mysqlconn"
)

// ApplyConfig configures Apply.
type ApplyConfig struct {
	Config
	// Connect opens a new session on the target. Apply closes it.
	Connect func(ctx context.Context) (*sql.Conn, error)
	// Open opens the source. from is the target's checkpoint (zero without one): Open may start
	// there, when that is later than its configured start, or anywhere before it; Apply skips
	// every transaction that starts before from.
	Open       func(ctx context.Context, from binlog.Position) (binlog.Source, error)
	NoBinlog   bool
	Checkpoint *Checkpoint // nil: no checkpoint table, and so no reconnecting either
	// Retries is how many times in a row Apply reconnects after losing the connection without
	// committing anything in between; Backoff is the first wait (default 250 ms), doubled each
	// time up to 30 s.
	Retries  int
	Backoff  time.Duration
	Progress *Progress // may be nil
	MaxBatch int       // see ApplierOptions
	// DryRun, when set, receives the statements instead of the target (which is still read for
	// its checkpoint): exactly the bytes an apply would send, each followed by ";\n".
	DryRun io.Writer
	// StatementTimeout bounds each query sent to the target (0: none).
	StatementTimeout time.Duration
	// Threads is how many connections apply source transactions at once (see
	// ParallelApplier); 1 or less: one connection, the Applier. A dry run, a flashback and
	// --allow-triggers always use one.
	Threads int
}

// sessionState returns what the server says session id is doing (its processlist state, for how
// long, its command), from a session of its own; "" if it cannot tell.
func sessionState(ctx context.Context, connect func(context.Context) (*sql.Conn, error), id int64) string {
	c, err := connect(ctx)
	if err != nil {
		return ""
	}
	defer c.Close()
	var state, command sql.NullString
	var secs sql.NullInt64
	if err := c.QueryRowContext(ctx, "SELECT STATE, COMMAND, TIME FROM information_schema.PROCESSLIST WHERE ID = ?", id).Scan(&state, &command, &secs); err != nil {
		return ""
	}
	return fmt.Sprintf("%q for %d s (session %d, %s)", state.String, secs.Int64, id, command.String)
}

// ApplyResult is what Apply did.
type ApplyResult struct {
	Stats                       // summed over reconnects
	ResumedFrom CheckpointState // the checkpoint found at the start; zero if none
	Last        CheckpointState // the target's checkpoint at the end
	Committed   int64           // transactions committed by this call
	Reconnects  int
}

// Apply replays the source into the target, resuming after the target's checkpoint, and
// reconnects after a lost connection (re-reading the checkpoint, so nothing is applied twice).
// Errors are *ApplyError.
func Apply(ctx context.Context, cfg ApplyConfig) (ApplyResult, error) {
	var res ApplyResult
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
		cfg.Log = log
	}
	if cfg.Progress == nil {
		cfg.Progress = new(Progress)
	}
	wait := cfg.Backoff
	if wait <= 0 {
		wait = 250 * time.Millisecond
	}
	first := wait
	failures := 0
	var unknown []jobTxn // commits sent when a connection was lost
	for attempt := 0; ; attempt++ {
		before := res.Committed
		err := applyOnce(ctx, cfg, &res, attempt == 0, &unknown)
		if err == nil {
			return res, nil
		}
		if res.Committed > before {
			failures, wait = 0, first
		}
		retry := attempt > 0 || !errors.Is(err, errConnect) // a first connect that fails is a setup error
		// A statement that timed out broke its connection, but a retry would wait as long.
		lost := mysqlconn.IsConnLost(err) && !errors.Is(err, ErrStatementTimeout)
		if !retry || cfg.Checkpoint == nil || cfg.DryRun != nil || ctx.Err() != nil ||
			!lost && !Retryable(err) || failures >= cfg.Retries {
			return res, &ApplyError{Committed: res.Committed, LastCommitted: res.Last, Err: err}
		}
		failures++
		res.Reconnects++
		what := "connection to the target lost; reconnecting"
		if !lost {
			what = "the target gave up a transaction (deadlock or lock wait); resuming from the checkpoint"
		}
		log.Warn(what, slog.Int("attempt", failures),
			slog.Int("of", cfg.Retries), slog.Duration("wait", wait), slog.String("error", err.Error()))
		if err := sleepCtx(ctx, wait); err != nil {
			return res, &ApplyError{Committed: res.Committed, LastCommitted: res.Last, Err: err}
		}
		wait = min(2*wait, 30*time.Second)
	}
}

var errConnect = errors.New("connect to the target")

// Retryable reports whether err is a server error that says "try the transaction again":
// a deadlock (1213) or a lock wait timeout (1205). The transaction is rolled back and run again
// from the checkpoint, as after a lost connection; no other statement error is ever retried.
func Retryable(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205)
}

// checkpointLockWait is how long a run waits for the session of a dead one to end.
const checkpointLockWait = 60 * time.Second

type wrapped struct {
	msg  string
	kind error
	err  error
}

func (w *wrapped) Error() string   { return w.msg + ": " + w.err.Error() }
func (w *wrapped) Unwrap() []error { return []error{w.kind, w.err} }

func applyOnce(ctx context.Context, cfg ApplyConfig, res *ApplyResult, first bool, unknown *[]jobTxn) error {
	conn, err := cfg.Connect(ctx)
	if err != nil {
		return &wrapped{msg: errConnect.Error(), kind: errConnect, err: err}
	}
	defer conn.Close()
	var from CheckpointState
	if cfg.Checkpoint != nil {
		if err := cfg.Checkpoint.Lock(ctx, conn, checkpointLockWait); err != nil {
			return err
		}
		// The worker sessions of a parallel run that died may still be committing.
		if err := cfg.Checkpoint.WaitWorkers(ctx, conn, checkpointLockWait); err != nil {
			return err
		}
		st, ok, err := cfg.Checkpoint.Read(ctx, conn)
		if err != nil {
			return err
		}
		// The commits a lost connection left in doubt: those the checkpoint has reached ran.
		for _, t := range *unknown {
			if ok && !st.End.Before(t.commit.End) {
				res.Committed++
				res.Transactions++
				res.Inserts += t.commit.Inserts
				res.Updates += t.commit.Updates
				res.Deletes += t.commit.Deletes
				cfg.Progress.Transactions.Add(1)
				cfg.Progress.Rows.Add(t.commit.Rows())
			}
		}
		*unknown = nil
		if ok {
			from = st
			res.Last = st
			cfg.Progress.SetPosition(st.End)
			if first {
				res.ResumedFrom = st
			}
			msg := "resuming after " + st.End.String()
			if st.GTID != "" {
				msg += " (GTID " + st.GTID + ")"
			}
			cfg.Log.Info(msg, slog.String("checkpoint", cfg.Checkpoint.Name))
		}
	}
	src, err := cfg.Open(ctx, from.End)
	if err != nil {
		return err
	}
	defer src.Close()
	rc := cfg.Config
	if rc.Window.ResumeAfter.Before(from.End) {
		rc.Window.ResumeAfter = from.End
	}
	var x Execer = ConnExecer{Conn: conn}
	if cfg.StatementTimeout > 0 {
		var id int64
		if err := conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
			return err
		}
		x = ConnExecer{Conn: conn, Timeout: cfg.StatementTimeout, Diagnose: func(ctx context.Context) string {
			return sessionState(ctx, cfg.Connect, id)
		}}
	}
	if cfg.DryRun != nil {
		p := NewPrintExecer(cfg.DryRun)
		if !from.End.IsZero() {
			p.Note(fmt.Sprintf("the target's checkpoint: resuming after %s", from.End))
		}
		x = p
	}
	aopts := ApplierOptions{NoBinlog: cfg.NoBinlog, Checkpoint: cfg.Checkpoint, Progress: cfg.Progress, MaxBatch: cfg.MaxBatch,
		Pipeline: true}
	var a applySink
	if cfg.parallel() {
		pa, closeConns, err := newParallel(ctx, cfg, aopts, conn)
		defer closeConns()
		if err != nil {
			return err
		}
		a = pa
	} else {
		a = NewApplier(x, aopts)
	}
	stats, runErr := Run(ctx, src, a, rc)
	closeErr := a.Close()
	n, rows, last := a.Committed()
	*unknown = a.Unknown()
	res.Committed += n
	if n > 0 {
		res.Last = last
	}
	// What the target committed, not what Run handed over (a COMMIT may have failed).
	res.Transactions += n
	res.Inserts += rows.Inserts
	res.Updates += rows.Updates
	res.Deletes += rows.Deletes
	res.Statements += stats.Statements
	res.Logged += stats.Logged
	res.LeftOut += stats.LeftOut
	res.XAPrepared = stats.XAPrepared // those of the last run: they are still prepared at its end
	if !stats.LastEnd.IsZero() {
		res.LastEnd = stats.LastEnd
	}
	res.StoppedAt = stats.StoppedAt
	if runErr != nil {
		return runErr
	}
	return closeErr
}

// applySink is what applyOnce needs of the Applier and the ParallelApplier.
type applySink interface {
	RowSink
	Committed() (int64, TxnSummary, CheckpointState)
	Unknown() []jobTxn
}

func (cfg *ApplyConfig) parallel() bool {
	return cfg.Threads > 1 && cfg.DryRun == nil && !cfg.Flashback && !cfg.FlashbackOneTransaction &&
		!cfg.AllowTriggers && cfg.MaxBatch > 0
}

// newParallel opens the worker connections (each holding its checkpoint worker lock); mon, the
// session holding the checkpoint's lock, reads the target's keys and lock waits.
func newParallel(ctx context.Context, cfg ApplyConfig, aopts ApplierOptions, mon *sql.Conn) (*ParallelApplier, func(), error) {
	conns := make([]*sql.Conn, cfg.Threads)
	closeAll := func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}
	// The connections are opened at once: each costs a few round trips.
	workers := make([]ParallelWorker, cfg.Threads)
	errs := make([]error, cfg.Threads)
	var wg sync.WaitGroup
	for k := range cfg.Threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := cfg.Connect(ctx)
			if err != nil {
				errs[k] = err
				return
			}
			conns[k] = c
			var id int64
			if err := c.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
				errs[k] = err
				return
			}
			if cfg.Checkpoint != nil {
				if err := cfg.Checkpoint.WorkerLock(ctx, c, k, checkpointLockWait); err != nil {
					errs[k] = err
					return
				}
			}
			x := ConnExecer{Conn: c}
			if cfg.StatementTimeout > 0 {
				x = ConnExecer{Conn: c, Timeout: cfg.StatementTimeout, Diagnose: func(ctx context.Context) string {
					return sessionState(ctx, cfg.Connect, id)
				}}
			}
			workers[k] = ParallelWorker{X: x, ID: id}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, closeAll, err
		}
	}
	var monMu sync.Mutex // the monitor and the key reads share mon
	pa, err := NewParallelApplier(ctx, workers, ParallelOptions{ApplierOptions: aopts,
		Keys: func(ctx context.Context) (*KeyCatalog, error) {
			monMu.Lock()
			defer monMu.Unlock()
			return TargetKeys(ctx, mon)
		},
		LockWaits: func(ctx context.Context) (map[int64][]int64, error) {
			monMu.Lock()
			defer monMu.Unlock()
			return TargetLockWaits(ctx, mon)
		},
		Ping: func(ctx context.Context) error {
			monMu.Lock()
			defer monMu.Unlock()
			return mon.PingContext(ctx)
		}})
	return pa, closeAll, err
}
