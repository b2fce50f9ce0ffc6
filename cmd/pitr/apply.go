package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/spf13/pflag"

	"github.com/pitr-tool/pitr/pkg/binlog"
	"github.com/pitr-tool/pitr/pkg/mysqlconn"
	"github.com/pitr-tool/pitr/pkg/restore"
)

// applyOptions are replay's flags for writing into a target server.
type applyOptions struct {
	target          mysqlconn.Options
	defaultsFile    string
	noDefaults      bool
	dryRun          bool
	yes             bool
	progress        bool
	noBinlog        bool
	noCheckpoint    bool
	checkpointTable string
	checkpointName  string
	retries         int
	stmtTimeout     time.Duration
	beforeImage     bool
	allowTriggers   bool
	threads         int
	flags           *pflag.FlagSet // to tell a default --batch from a given one
}

// applyBatch is --batch for a target unless given: multi-row INSERTs cost the server far less
// parsing than single rows (see README, Apply to a server).
const applyBatch = 100

func (o *applyOptions) AddFlags(fs *pflag.FlagSet) {
	o.flags = fs
	addConnFlags(fs, "target", &o.target)
	addDefaultsFlags(fs, &o.defaultsFile, &o.noDefaults)
	fs.BoolVar(&o.dryRun, "dry-run", false, "with a target: print exactly the statements it would run, and run none (the target is read for its checkpoint)")
	fs.BoolVarP(&o.yes, "yes", "y", false, "apply without asking (scripts and CI)")
	fs.BoolVar(&o.progress, "progress", false, "show apply progress on stderr even when it is not a terminal")
	fs.BoolVar(&o.noBinlog, "no-binlog", false, "SET SESSION sql_log_bin=0: the target's own binlog does not record the replay")
	fs.BoolVar(&o.noCheckpoint, "no-checkpoint", false, "do not keep a checkpoint table on the target (a rerun then starts again from the beginning)")
	fs.StringVar(&o.checkpointTable, "checkpoint-table", "pitr.checkpoint", "the target's checkpoint `DB.TABLE` (created if missing)")
	fs.StringVar(&o.checkpointName, "checkpoint-name", "", "the checkpoint row's `NAME` (default: the binlog base name, plus a hash of the table filters)")
	fs.DurationVar(&o.stmtTimeout, "statement-timeout", time.Hour, "stop when the target does not finish a statement within `D` "+
		"(a full disk, a held lock), saying what the server waits on; raise it for long ALTERs, 0 for none")
	fs.IntVar(&o.retries, "retries", 10, "reconnect at most `N` times in a row after losing the target connection (or after a deadlock or lock wait timeout)")
	fs.BoolVar(&o.beforeImage, "verify-before-image", false, "each updated or deleted row must match its whole before image on the target, not only its key (one row per UPDATE and DELETE: slower)")
	fs.IntVar(&o.threads, "threads", 0, "apply on `N` connections at once, source transactions whose rows do not conflict in parallel, "+
		"committed in source order (0: the target's CPU count, at most 8; 1: one connection)")
	fs.BoolVar(&o.allowTriggers, "allow-triggers", false, "replay even though the target has triggers on tables the replay writes, or the window creates one (they fire again for rows the binlog already holds)")
}

func (o applyOptions) enabled() bool { return connGiven(o.target) }

// checkpointName is stable across reruns of the same replay, and differs when the table or kind
// filters differ (a replay of other tables must not resume after this one's checkpoint).
func (o replayOptions) checkpointName(files []string) string {
	if o.apply.checkpointName != "" {
		return o.apply.checkpointName
	}
	base := filepath.Base(files[0])
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	var f []string
	for _, d := range o.databases {
		f = append(f, "-d "+d)
	}
	for _, t := range o.tables {
		f = append(f, "-t "+t)
	}
	for _, t := range o.excludeTables {
		f = append(f, "--exclude-table "+t)
	}
	if len(o.only) > 0 {
		f = append(f, "--only "+strings.Join(o.only, ","))
	}
	if len(f) == 0 {
		return base
	}
	sum := sha256.Sum256([]byte(strings.Join(f, "\x00")))
	return base + " " + hex.EncodeToString(sum[:6])
}

// runApply replays into the target given by the --target flags (or prints what it would run,
// with --dry-run).
func runApply(ctx context.Context, o replayOptions, g *globalOptions, args []string, stdout io.Writer) error {
	log := g.logger()
	start, cfg, err := o.config(log)
	if err != nil {
		return err
	}
	a := o.apply
	if a.flags != nil && !a.flags.Changed("batch") {
		cfg.Render.Batch = applyBatch
	}
	cfg.Render.BeforeImage = a.beforeImage
	var ck *restore.Checkpoint
	if !a.noCheckpoint {
		db, tbl, ok := strings.Cut(a.checkpointTable, ".")
		if !ok || db == "" || tbl == "" || strings.Contains(tbl, ".") {
			return usagef(fmt.Errorf("--checkpoint-table %q: want DB.TABLE", a.checkpointTable))
		}
		ck = &restore.Checkpoint{DB: db, Table: tbl}
	}
	if o.flashback {
		// The undo is one target transaction, all or nothing: a checkpoint would mark a
		// position in a window applied backwards, and a rerun after a failure starts over.
		ck = nil
		cfg.FlashbackOneTransaction = true
	}
	if a.threads < 0 || a.threads > maxThreads {
		return usagef(fmt.Errorf("--threads %d: must be 0 (the target's CPU count) to %d", a.threads, maxThreads))
	}
	if a.retries < 0 {
		return usagef(fmt.Errorf("--retries %d: must be at least 0", a.retries))
	}
	target, err := resolveConn(a.target, a.defaultsFile, a.noDefaults, log)
	if err != nil {
		return usagef(fmt.Errorf("target: %w", err))
	}
	dcfg, err := target.DriverConfig()
	if err != nil {
		return usagef(fmt.Errorf("target: %w", err))
	}
	dcfg.MultiStatements = true // the Applier sends a transaction's statements in batches
	dcfg.ClientFoundRows = true // an UPDATE counts the rows it found, changed or not: the row check
	connector, err := mysql.NewConnector(dcfg)
	if err != nil {
		return fmt.Errorf("target %s: %w", target.Address(), err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	db.SetMaxIdleConns(0) // every Connect is a fresh session

	// The first open checks the files, completes a bare --stop-position and names the source.
	src, origin, err := openSource(ctx, o, start, &cfg, args)
	if err != nil {
		return err
	}
	var files []string
	if lister, ok := src.(interface{ Files() []string }); ok {
		files = lister.Files()
	} else if slices.ContainsFunc(args, binlog.IsStream) {
		files = args
	} else {
		src.Close()
		return usagef(errors.New("--target needs binlog files or a pipe, not a --source server"))
	}
	// A pipe or stdin is read once: the source already open is the apply's, and a retry, which
	// would read it again from the start, cannot be. A compressed archive is read again from
	// its start (it cannot seek), skipping to the checkpoint.
	once := slices.ContainsFunc(args, readOnce)
	if !once {
		src.Close()
	}
	if ck != nil {
		ck.Name = o.checkpointName(files)
	}
	if start.File == "" {
		start.File = binlog.FileName(files[0])
	}
	open := func(ctx context.Context, from binlog.Position) (binlog.Source, error) {
		if once {
			if src == nil {
				return nil, fmt.Errorf("%s cannot be read again (a pipe or stdin): run the same command again with the same input "+
					"to resume after the target's checkpoint", strings.Join(args, " "))
			}
			s := src
			src = nil
			return s, nil
		}
		at := start
		if !from.IsZero() && at.Before(from) && hasFile(files, from.File) && !slices.ContainsFunc(files, binlog.IsStream) {
			at = from // seek straight to the checkpoint
		}
		c := cfg
		s, _, err := openSource(ctx, o, at, &c, files)
		return s, err
	}
	defer func() {
		if once && src != nil {
			src.Close()
		}
	}()

	// One look at the target before writing: it answers, its max_allowed_packet, its checkpoint.
	probe, err := db.Conn(ctx)
	if err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == 1045 { // ER_ACCESS_DENIED_ERROR
			return fmt.Errorf("target %s refused the login: %s (%s)", target.Address(), me.Message, loginHint("target", target))
		}
		return fmt.Errorf("connect to target %s: %w", target.Address(), err)
	}
	var serverMax int64
	var version string
	err = probe.QueryRowContext(ctx, "SELECT @@max_allowed_packet, VERSION()").Scan(&serverMax, &version)
	var cipher string // whether the connection is encrypted, as the server sees it
	if err == nil {
		// MariaDB keeps session status in information_schema, MySQL 8 in performance_schema.
		for _, q := range []string{"SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher'",
			"SELECT VARIABLE_VALUE FROM performance_schema.session_status WHERE VARIABLE_NAME = 'Ssl_cipher'"} {
			if probe.QueryRowContext(ctx, q).Scan(&cipher) == nil {
				break
			}
		}
	}
	threads := a.threads
	if err == nil && threads == 0 {
		threads = defaultThreads(ctx, probe)
	}
	var resume restore.CheckpointState
	var resumed bool
	if err == nil && ck != nil {
		resume, resumed, err = ck.Read(ctx, probe)
	}
	var triggers []restore.Trigger
	if err == nil {
		triggers, err = restore.TargetTriggers(ctx, probe)
	}
	probe.Close()
	if err != nil {
		return fmt.Errorf("target %s: %w", target.Address(), err)
	}
	if resumed && once && !hasFile(files, resume.End.File) {
		// Read once, the input cannot be searched for the checkpoint's transaction.
		return fmt.Errorf("the target's checkpoint %s (name %q) is not in %s: give the input it was written from, or another --checkpoint-name",
			resume.End, ck.Name, strings.Join(args, " "))
	}
	if resumed && !hasFile(files, resume.End.File) {
		log.Warn("the checkpoint names a file that is not among the binlogs given; is --checkpoint-name right?",
			slog.String("checkpoint", resume.End.String()), slog.String("name", ck.Name))
	}
	// Statements must fit the target's max_allowed_packet; the renderer splits them.
	if int64(cfg.Render.MaxPacket) > serverMax {
		cfg.Render.MaxPacket = int(serverMax)
	}

	sizes := fileSizes(files)
	sum := summary{origin: origin, window: cfg.Window, files: files, o: o, target: target.Address() + " (" + version + "; " + target.TLSState(cipher) + ")", ck: ck, resume: resume, resumed: resumed}
	count := !a.yes && !a.dryRun && !once
	checkTriggers := len(triggers) > 0 && !a.allowTriggers
	if checkTriggers && once {
		// Which tables the replay writes takes a pass over the input, which a pipe allows once.
		names := make([]string, len(triggers))
		for i, t := range triggers {
			names[i] = t.Name + " ON " + t.Table
		}
		return fmt.Errorf("target %s: %w: %s; reading a pipe, pitr cannot tell beforehand which tables the replay writes: "+
			"drop the triggers for the apply, give the binlogs as files, or accept the risk with --allow-triggers",
			target.Address(), restore.ErrTriggers, strings.Join(names, ", "))
	}
	if count || checkTriggers {
		// Count what will be applied, and see which tables it writes: a pass over the binlogs
		// without writing. Nothing is written while a trigger on one of them is in place.
		s, err := open(ctx, resume.End)
		if err != nil {
			return err
		}
		c := cfg
		if resumed {
			c.Window.ResumeAfter = resume.End
		}
		c.Log = slog.New(slog.DiscardHandler)
		tables := &restore.TableSink{}
		st, err := restore.Run(ctx, s, tables, c)
		s.Close()
		if err != nil {
			return err
		}
		if checkTriggers {
			if err := restore.CheckTriggers(triggers, tables.Tables); err != nil {
				return fmt.Errorf("target %s: %w", target.Address(), err)
			}
		}
		sum.counted, sum.stats = count, st
	}
	if len(triggers) > 0 && a.allowTriggers {
		names := make([]string, len(triggers))
		for i, t := range triggers {
			names[i] = t.Name + " ON " + t.Table
		}
		log.Warn("the target has triggers (--allow-triggers): those on tables the replay writes fire again for rows the binlog already holds",
			slog.String("triggers", strings.Join(names, ", ")))
	}
	if !a.dryRun {
		ask := !a.yes && isTerminal(os.Stdin)
		if !g.quiet || ask {
			// -q: errors only, unless the summary is what a question asks about.
			sum.print(os.Stderr)
		}
		if ask {
			if !confirm(os.Stderr, os.Stdin) {
				return errors.New("not confirmed; nothing was written")
			}
		}
	}

	progress := new(restore.Progress)
	acfg := restore.ApplyConfig{
		Config: cfg,
		Connect: func(ctx context.Context) (*sql.Conn, error) {
			return db.Conn(ctx)
		},
		Open:             open,
		NoBinlog:         a.noBinlog,
		Checkpoint:       ck,
		Retries:          a.retries,
		StatementTimeout: a.stmtTimeout,
		Progress:         progress,
		// Big enough that round trips cost little, small enough to stay well under the
		// target's max_allowed_packet (a lone statement may still use all of it).
		MaxBatch: min(1<<20, cfg.Render.MaxPacket/2),
		Threads:  threads,
	}
	if a.dryRun {
		acfg.DryRun = stdout
	}
	began := time.Now()
	stopProgress := func() {}
	if !a.dryRun && !g.quiet && (a.progress || isTerminal(os.Stderr)) {
		every := 5 * time.Second // a new line each time: a log, not a terminal
		if isTerminal(os.Stderr) {
			every = time.Second // rewritten in place
		}
		stopProgress = showProgress(os.Stderr, every, isTerminal(os.Stderr), progress, sizes, resume.End, began)
	}
	res, err := restore.Apply(ctx, acfg)
	stopProgress()
	if err != nil {
		// The checkpoint the target holds, read again: after a retry or a timeout what pitr
		// last saw committed may not be it.
		reread := func() (restore.CheckpointState, bool) {
			if ck == nil {
				return restore.CheckpointState{}, false
			}
			rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := db.Conn(rctx)
			if err != nil {
				return restore.CheckpointState{}, false
			}
			defer c.Close()
			st, ok, err := ck.Read(rctx, c)
			return st, ok && err == nil
		}
		return applyFailed(err, target.Address(), reread)
	}
	if a.dryRun {
		return nil
	}
	elapsed := time.Since(began)
	attrs := []any{slog.Int64("transactions", res.Transactions), slog.Int64("inserted", res.Inserts),
		slog.Int64("updated", res.Updates), slog.Int64("deleted", res.Deletes),
		slog.Duration("elapsed", elapsed.Round(time.Millisecond))}
	if s := elapsed.Seconds(); s > 0 {
		attrs = append(attrs, slog.Int64("rows_per_s", int64(float64(res.Inserts+res.Updates+res.Deletes)/s)))
	}
	if !res.Last.End.IsZero() {
		attrs = append(attrs, slog.String("checkpoint", res.Last.End.String()))
	}
	if res.Last.GTID != "" {
		attrs = append(attrs, slog.String("gtid", res.Last.GTID))
	}
	if res.Reconnects > 0 {
		attrs = append(attrs, slog.Int("reconnects", res.Reconnects))
	}
	if res.StoppedAt != "" {
		attrs = append(attrs, slog.String("stopped", res.StoppedAt))
	}
	attrs = appendStatementAttrs(attrs, res.Logged, res.XAPrepared, res.LeftOut, res.Statements)
	log.Info("apply done", attrs...)
	return nil
}

// applyFailed adds the resume position to an apply error.
func applyFailed(err error, target string, reread func() (restore.CheckpointState, bool)) error {
	var ae *restore.ApplyError
	if !errors.As(err, &ae) {
		return err
	}
	confirmed := reread == nil
	if reread != nil {
		if st, ok := reread(); ok {
			ae.LastCommitted, confirmed = st, true
		}
	}
	msg := fmt.Sprintf("apply to %s stopped: %v", target, ae.Err)
	if ae.Committed > 0 {
		msg += fmt.Sprintf("; %d transactions were committed", ae.Committed)
	}
	if !ae.LastCommitted.End.IsZero() {
		msg += "; the target's checkpoint is " + ae.LastCommitted.End.String()
		if ae.LastCommitted.GTID != "" {
			msg += " (GTID " + ae.LastCommitted.GTID + ")"
		}
		if !confirmed {
			msg += " as pitr last saw it (the target did not answer to confirm)"
		}
		msg += ": run the same command again to resume after it"
	}
	return &applyError{msg: msg, committed: ae.Committed, err: err}
}

// applyError is an apply that stopped; exit code 3 once it has committed something.
type applyError struct {
	msg       string
	committed int64
	err       error
}

func (e *applyError) Error() string { return e.msg }
func (e *applyError) Unwrap() error { return e.err }

// readOnce reports whether path is stdin or a pipe: a compressed archive on disk can be
// read again from its start.
func readOnce(path string) bool {
	if path == "-" {
		return true
	}
	st, err := os.Stat(path)
	return err == nil && !st.Mode().IsRegular()
}

func hasFile(files []string, base string) bool {
	for _, f := range files {
		if binlog.FileName(f) == base {
			return true
		}
	}
	return false
}

type summary struct {
	origin  string
	files   []string
	o       replayOptions
	target  string
	window  restore.Window
	ck      *restore.Checkpoint
	resume  restore.CheckpointState
	resumed bool
	counted bool
	stats   restore.Stats
}

// print writes the summary shown before an apply. File names, the window's positions and GTIDs
// come from binlogs and servers: each goes through DisplayText, so that none can drive the
// terminal or make a line of its own.
func (s summary) print(w io.Writer) {
	b := &strings.Builder{}
	fmt.Fprintf(b, "pitr replay into %s\n", restore.DisplayText(s.target))
	src := s.origin
	if len(s.files) > 3 {
		src = fmt.Sprintf("binlogs: %d files, %s .. %s", len(s.files), filepath.Base(s.files[0]), filepath.Base(s.files[len(s.files)-1]))
	}
	fmt.Fprintf(b, "  source:      %s\n", restore.DisplayText(src))
	// The window as resolved (a --from-backup start included), not as typed.
	loc, _ := loadLocation(s.o.timezone)
	for i, l := range windowLines(s.window, loc) {
		label := ""
		if i == 0 {
			label = "range:"
		}
		fmt.Fprintf(b, "  %-12s %s\n", label, restore.DisplayText(l))
	}
	tables := "all"
	var parts []string
	parts = append(parts, s.o.databases...)
	parts = append(parts, s.o.tables...)
	if len(parts) > 0 {
		tables = strings.Join(parts, ", ")
	}
	if len(s.o.excludeTables) > 0 {
		tables += " except " + strings.Join(s.o.excludeTables, ", ")
	}
	if len(s.o.only) > 0 {
		tables += " (only " + strings.Join(s.o.only, ",") + ")"
	}
	fmt.Fprintf(b, "  tables:      %s\n", restore.DisplayText(tables))
	switch {
	case s.o.flashback:
		fmt.Fprintf(b, "  checkpoint:  none (--flashback: one target transaction, all or nothing; a rerun starts over)\n")
	case s.ck == nil:
		fmt.Fprintf(b, "  checkpoint:  none (--no-checkpoint)\n")
	case s.resumed:
		g := ""
		if s.resume.GTID != "" {
			g = " (GTID " + s.resume.GTID + ")"
		}
		fmt.Fprintf(b, "  checkpoint:  %s.%s %q: resuming after %s\n", s.ck.DB, s.ck.Table, s.ck.Name, restore.DisplayText(s.resume.End.String()+g))
	default:
		fmt.Fprintf(b, "  checkpoint:  %s.%s %q: none yet, starting at the beginning\n", s.ck.DB, s.ck.Table, s.ck.Name)
	}
	switch {
	case s.counted && s.o.flashback:
		// The counting pass reads the window forward: the undo inserts what it deleted.
		fmt.Fprintf(b, "  to undo:     %d transactions, %d rows (%d inserted, %d updated, %d deleted)\n",
			s.stats.Transactions, s.stats.Inserts+s.stats.Updates+s.stats.Deletes, s.stats.Deletes, s.stats.Updates, s.stats.Inserts)
	case s.counted:
		fmt.Fprintf(b, "  to apply:    %d transactions, %d rows (%d inserted, %d updated, %d deleted)\n",
			s.stats.Transactions, s.stats.Inserts+s.stats.Updates+s.stats.Deletes, s.stats.Inserts, s.stats.Updates, s.stats.Deletes)
	}
	io.WriteString(w, b.String())
}

// confirm asks y/N on the terminal.
func confirm(w io.Writer, r io.Reader) bool {
	fmt.Fprint(w, "Apply? [y/N] ")
	line, _ := bufio.NewReader(r).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// fileSizes maps each file's base name to the bytes of the files before it, and the total.
type sizes struct {
	before map[string]int64
	total  int64
}

func fileSizes(files []string) sizes {
	s := sizes{before: make(map[string]int64)}
	if slices.ContainsFunc(files, binlog.IsStream) {
		return s // a pipe has no size, and an archive's is not the binlog's
	}
	for _, f := range files {
		s.before[filepath.Base(f)] = s.total
		if st, err := os.Stat(f); err == nil {
			s.total += st.Size()
		}
	}
	return s
}

func (s sizes) done(p binlog.Position) int64 {
	if p.IsZero() {
		return 0
	}
	return s.before[p.File] + p.Offset
}

// showProgress prints a progress line every interval (rewritten in place on a terminal, a new
// line otherwise) until the returned func is called.
func showProgress(w io.Writer, every time.Duration, tty bool, p *restore.Progress, sz sizes, from binlog.Position, began time.Time) func() {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	startDone := sz.done(from)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				if tty {
					fmt.Fprint(w, "\r\033[K")
				}
				return
			case <-t.C:
			}
			line := progressLine(p, sz, startDone, time.Since(began))
			if tty {
				fmt.Fprint(w, "\r\033[K"+line)
			} else {
				fmt.Fprintln(w, "progress: "+line)
			}
		}
	}()
	return func() { close(stop); wg.Wait() }
}

// progressLine is one progress report. Rows and statement bytes count what was sent, inside
// open transactions too, so that a transaction of millions of rows shows it moving; the binlog
// bytes done and the ETA count committed transactions only. The ETA is left out until it means
// something: 5 s and 1% of the work in, with the committed position moving.
func progressLine(p *restore.Progress, sz sizes, startDone int64, el time.Duration) string {
	done := sz.done(p.Position())
	secs := max(el.Seconds(), 0.001)
	if sz.total == 0 {
		// Input of unknown size: no share done, no ETA.
		return fmt.Sprintf("%s read, %.0f txn/s, %.0f rows/s (%d rows, %s of statements sent), elapsed %s",
			mb(done), float64(p.Transactions.Load())/secs, float64(p.RowsSent.Load())/secs, p.RowsSent.Load(),
			mb(p.BytesSent.Load()), el.Round(time.Second))
	}
	line := fmt.Sprintf("%s of %s (%.1f%%), %.0f txn/s, %.0f rows/s (%d rows, %s of statements sent), elapsed %s",
		mb(done), mb(sz.total), 100*float64(done)/float64(max(sz.total, 1)),
		float64(p.Transactions.Load())/secs, float64(p.RowsSent.Load())/secs, p.RowsSent.Load(), mb(p.BytesSent.Load()),
		el.Round(time.Second))
	todo := sz.total - startDone
	if rate := float64(done-startDone) / secs; rate > 0 && done < sz.total && el >= 5*time.Second && (done-startDone)*100 >= todo {
		line += ", ETA " + time.Duration(float64(sz.total-done)/rate*float64(time.Second)).Round(time.Second).String()
	}
	return line
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// maxThreads is the most --threads takes.
const maxThreads = 64

// defaultThreads is --threads 0: MariaDB's thread_pool_size, which defaults to the server's
// CPU count, at most 8; 4 where the server does not say (MySQL).
func defaultThreads(ctx context.Context, conn *sql.Conn) int {
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT @@thread_pool_size").Scan(&n); err != nil || n < 1 {
		return 4
	}
	return min(n, 8)
}
