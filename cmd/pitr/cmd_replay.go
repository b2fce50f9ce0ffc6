package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pitr-tool/pitr/pkg/binlog"
	"github.com/pitr-tool/pitr/pkg/mysqlconn"
	"github.com/pitr-tool/pitr/pkg/restore"
)

type replayOptions struct {
	output        string
	startPosition string
	stopPosition  string
	startDatetime string
	stopDatetime  string
	timezone      string
	databases     []string
	tables        []string
	excludeTables []string
	only          []string
	allowGaps     bool
	skipStmts     bool
	rowChecks     bool
	sourceTZ      string
	batch         int
	maxPacket     string
	incident      incidentOptions // GTID and stop-before-drop flags: see incident_flags.go
	schema        string
	schemaFrom    string
	apply         applyOptions  // --target and friends: see apply.go
	stream        streamOptions // --source and friends: see source.go
	flashback     bool
	tempDir       string
	onConflict    string
}

func (o *replayOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.output, "output", "o", "", "write SQL to `FILE` instead of stdout")
	fs.StringVar(&o.startPosition, "start-position", "", "start at `FILE:POS` (FILE a name or a path among the binlogs; POS alone: in the first file); an event boundary outside any transaction")
	fs.StringVar(&o.stopPosition, "stop-position", "", "stop before the first transaction that ends after `FILE:POS` (POS alone only with one binlog file)")
	fs.StringVar(&o.startDatetime, "start-datetime", "", "keep transactions committed at or after `TIME` (YYYY-MM-DD HH:MM[:SS[.ffffff]] or RFC 3339)")
	fs.StringVar(&o.stopDatetime, "stop-datetime", "", "stop at the first transaction committed at or after `TIME`")
	fs.StringVar(&o.timezone, "timezone", "Local", "time zone of --start/--stop-datetime without an offset (IANA name, UTC, Local or +09:00)")
	fs.StringArrayVarP(&o.databases, "database", "d", nil, "keep only this database (glob; repeatable)")
	fs.StringArrayVarP(&o.tables, "table", "t", nil, "keep only this `db.table` (glob such as shop.order_*; repeatable)")
	fs.StringArrayVar(&o.excludeTables, "exclude-table", nil, "drop this `db.table` (glob; repeatable)")
	fs.StringSliceVar(&o.only, "only", nil, "keep only these row changes: insert,update,delete")
	fs.BoolVar(&o.allowGaps, "allow-gaps", false, "replay even if the binlog file sequence has gaps")
	fs.BoolVar(&o.rowChecks, "row-checks", true, "in the SQL output, follow each INSERT, UPDATE and DELETE with a statement that fails in the client "+
		"when it did not change exactly the rows the source changed (the client stops there, its transaction uncommitted); --row-checks=false leaves them out")
	fs.BoolVar(&o.skipStmts, "skip-statements", false, "leave out row changes logged as statements (binlog_format STATEMENT or MIXED) that pitr cannot replay exactly, instead of stopping at the first; the target then misses them")
	fs.StringVar(&o.sourceTZ, "source-time-zone", "", "the source server's system time zone (`ZONE`: +02:00, a name the target knows, or SYSTEM when the target's is the same), for statements logged under time_zone SYSTEM")
	fs.IntVar(&o.batch, "batch", 1, "fold up to `N` consecutive row changes of one kind into one statement: multi-row INSERT; UPDATE and DELETE by an integer key (updates: at most 20)")
	fs.StringVar(&o.maxPacket, "max-allowed-packet", "64M", "longest statement to write, in bytes (K, M, G suffixes; with a target, at most its max_allowed_packet)")
	o.incident.AddFlags(fs)
	fs.StringVar(&o.schema, "schema", "", "column names for binlogs without them (binlog_row_metadata MINIMAL or NO_LOG): CREATE TABLE statements from a mysqldump/mariadb-dump `FILE` (schema-only or full, .gz too) or a mydumper folder; checked against every table map")
	fs.StringVar(&o.schemaFrom, "schema-from", "", "column names from a live server's schema (SHOW CREATE TABLE), for tables --schema does not hold: `mysql://user@host:port` (password from MYSQL_PWD or the defaults file); defaults to the --source server")
	fs.BoolVar(&o.flashback, "flashback", false, "print the inverse of every kept transaction instead, newest first, to undo the window: inserted rows deleted, deleted rows inserted, updated rows set back (from row images: binlog_format=ROW; a MINIMAL or NOBLOB image only where it holds what the undo needs)")
	fs.StringVar(&o.onConflict, "on-conflict", "refuse", "with --flashback, a row the window changed that a later transaction in the binlogs given changed again: `refuse` (list them, write nothing) or skip (undo everything else, leave those rows, list them)")
	fs.StringVar(&o.tempDir, "temp-dir", "", "`DIR` for --flashback's temporary file, which holds the window's inverse statements (default: the system's)")
	o.apply.AddFlags(fs)
	o.stream.AddFlags(fs, true)
}

func newReplayCmd(g *globalOptions) *cobra.Command {
	var o replayOptions
	cmd := &cobra.Command{
		Use:   "replay [flags] {BINLOG... | --source-host HOST}",
		Short: "Print the row changes of binlog files as replayable SQL",
		Long: `Replay reads binlog files (or a server's .index file) in sequence order and prints each kept
source transaction as BEGIN; ... COMMIT; with exact INSERT, UPDATE and DELETE statements,
preceded by a comment naming its file:start-end, commit time and GTID.`,
		Example: `  # the incident recipe (README): from where the backup ends to just before the DROP
  pitr replay --from-backup dump.sql -t shop.orders -t shop.customers --stop-before-drop mysql-bin.* -o orders.sql
  # rebuild the table from the dump alone, in an empty server
  pitr replay --from-backup dump.sql --with-backup-data -t shop.orders --stop-before-drop mysql-bin.* -o orders.sql
  # apply into a server, up to the start of the transaction pitr find named
  pitr replay --from-backup dump.sql -t shop.member_kr --stop-position mysql-bin.000001:6301 --target-host db2 --target-user restore mysql-bin.*`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 && !connGiven(o.stream.source) {
				return usagef(errors.New("replay needs at least one binlog file, or a --source server"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReplay(cmd.Context(), o, g, args, cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// replayConfig turns flags into a source start and a restore config, or a usage error.
func (o replayOptions) config(log *slog.Logger) (binlog.Position, restore.Config, error) {
	var cfg restore.Config
	var start binlog.Position
	var err error
	if o.startPosition != "" {
		if start, err = binlog.ParsePosition(o.startPosition); err != nil {
			return start, cfg, usagef(fmt.Errorf("--start-position: %w", err))
		}
	}
	if o.stopPosition != "" {
		if cfg.Window.StopPos, err = binlog.ParsePosition(o.stopPosition); err != nil {
			return start, cfg, usagef(fmt.Errorf("--stop-position: %w", err))
		}
	}
	loc, err := loadLocation(o.timezone)
	if err != nil {
		return start, cfg, usagef(fmt.Errorf("--timezone: %w", err))
	}
	if o.startDatetime != "" {
		if cfg.Window.StartTime, err = parseDatetime(o.startDatetime, loc); err != nil {
			return start, cfg, usagef(fmt.Errorf("--start-datetime: %w", err))
		}
	}
	if o.stopDatetime != "" {
		if cfg.Window.StopTime, err = parseDatetime(o.stopDatetime, loc); err != nil {
			return start, cfg, usagef(fmt.Errorf("--stop-datetime: %w", err))
		}
	}
	if !cfg.Window.StartTime.IsZero() && !cfg.Window.StopTime.IsZero() && !cfg.Window.StartTime.Before(cfg.Window.StopTime) {
		return start, cfg, usagef(errors.New("--start-datetime must be before --stop-datetime"))
	}
	if cfg.Filter, err = restore.NewFilter(o.databases, o.tables, o.excludeTables, o.only); err != nil {
		return start, cfg, usagef(err)
	}
	if o.startPosition != "" {
		cfg.Window.StartFrom = "--start-position"
	}
	if err := o.incident.apply(&cfg, &start, log); err != nil {
		return start, cfg, err
	}
	cfg.Window.Start = start
	// Names from the binlog itself win; then --schema; then --schema-from (or the --source server).
	if o.schema != "" {
		if cfg.Schema, err = restore.LoadSchema(context.Background(), o.schema); err != nil {
			return start, cfg, fmt.Errorf("--schema: %w", err)
		}
	}
	if o.schemaFrom != "" {
		sc, err := serverCatalog(mysqlconn.Options{URI: o.schemaFrom}, o.apply.defaultsFile, o.apply.noDefaults, log)
		if err != nil {
			return start, cfg, fmt.Errorf("--schema-from: %w", err)
		}
		cfg.Schema = cfg.Schema.Then(sc)
	}
	cfg.VerifySchema = cfg.Schema != nil
	if o.batch < 1 {
		return start, cfg, usagef(fmt.Errorf("--batch %d: must be at least 1", o.batch))
	}
	cfg.Render.Batch = o.batch
	if o.flashback {
		if err := o.flashbackFlags(); err != nil {
			return start, cfg, err
		}
		cfg.Flashback = true
		cfg.TempDir = o.tempDir
		cfg.ConflictSkip = o.onConflict == "skip"
	}
	cfg.SkipStatements = o.skipStmts
	cfg.AllowTriggers = o.apply.allowTriggers
	cfg.SourceTimeZone = o.sourceTZ
	mp, err := parseSize(o.maxPacket)
	if err != nil || mp < 1024 || mp > 1<<30 {
		return start, cfg, usagef(fmt.Errorf("--max-allowed-packet %q: want a size from 1K to 1G", o.maxPacket))
	}
	cfg.Render.MaxPacket = int(mp)
	cfg.Log = log
	return start, cfg, nil
}

// flashbackFlags refuses the flags a --flashback cannot honour exactly, each with the reason.
func (o replayOptions) flashbackFlags() error {
	switch {
	case o.skipStmts:
		return usagef(errors.New("--flashback with --skip-statements would leave the changes of those statements in place: a flashback stops at them instead"))
	case o.incident.withData:
		return usagef(errors.New("--flashback undoes a window on the live tables: --with-backup-data rebuilds them from a backup instead"))
	case o.onConflict != "refuse" && o.onConflict != "skip":
		return usagef(fmt.Errorf("--on-conflict %q: want refuse or skip", o.onConflict))
	}
	return nil
}

func runReplay(ctx context.Context, o replayOptions, g *globalOptions, args []string, stdout io.Writer) error {
	if o.flashback {
		if err := o.flashbackFlags(); err != nil {
			return err
		}
	}
	if o.apply.enabled() {
		if o.output != "" {
			return usagef(errors.New("--output and --target exclude each other (use --dry-run to see what the target would run)"))
		}
		return runApply(ctx, o, g, args, stdout)
	}
	log := g.logger()
	start, cfg, err := o.config(log)
	if err != nil {
		return err
	}
	defer func() { cfg.Schema.Close() }() // openSource may add the source server's catalog
	src, origin, err := openSource(ctx, o, start, &cfg, args)
	if err != nil {
		return err
	}
	defer src.Close()
	loc, _ := loadLocation(o.timezone) // checked by config
	what := " replay"
	if o.flashback {
		what = " replay --flashback: the inverse of each kept transaction, newest first"
	}
	header := []string{"pitr " + versionString() + what, origin,
		"statements as the binlog holds them, passwords of account statements included: keep this as secret as the binlogs"}
	header = append(header, windowLines(cfg.Window, loc)...)
	// The SQL output's row checks count the rows a statement changed (ROW_COUNT() in the client).
	cfg.FlashbackChangedRows = o.rowChecks
	if cfg.Schema != nil {
		header = append(header, "column names from "+cfg.Schema.Describe())
		if ts := cfg.Schema.Triggers(); len(ts) > 0 {
			// The target restored from that dump has them, and they would fire again for rows
			// the binlog already holds (pitr replay --target refuses; the client cannot).
			w := "WARNING: the schema defines triggers: " + strings.Join(ts, ", ") + ". On a target that has them they fire " +
				"for the replayed rows, and the binlog already holds the rows they wrote on the source: drop them there " +
				"before running this and re-create them after"
			header = append(header, w)
			log.Warn("the schema defines triggers; drop them on the target before running the SQL", slog.String("triggers", strings.Join(ts, ", ")))
		}
	}
	if cfg.Render.NoForeignKeyChecks {
		header = append(header, "foreign_key_checks=0 for the whole output: the tables rebuilt from the backup come without the tables their foreign keys name")
	}
	sink, finish, err := openSink(ctx, o, stdout, header)
	if err != nil {
		return err
	}
	if err := o.incident.writeBackupData(ctx, sink, o.tables); err != nil {
		finish(err)
		return err
	}
	stats, runErr := restore.Run(ctx, src, sink, cfg)
	// The output says why it ends, so that a reviewed file explains itself.
	if w, ok := sink.(interface{ Note(string) }); ok {
		w.Note(endLine(stats, runErr))
	}
	closeErr := finish(runErr)
	if errors.Is(runErr, restore.ErrFilterMatchesNothing) || errors.Is(runErr, binlog.ErrStartInTxn) {
		runErr = usagef(runErr) // a typo in a flag
	}
	if runErr != nil {
		// One line on stderr: the error, then what the output holds.
		// A flashback prints nothing until the whole window has been read.
		if stats.Transactions > 0 && !o.flashback {
			err := fmt.Errorf("%w (the output holds %d whole transactions, the last ending at %s)", runErr, stats.Transactions, stats.LastEnd)
			if errors.As(runErr, new(usageError)) {
				return usagef(err)
			}
			return err
		}
		return runErr
	}
	if closeErr != nil {
		return closeErr
	}
	switch {
	case stats.Transactions == 0 && o.incident.withData:
		log.Warn("the window holds no transaction of the selected tables: the output holds only their rows from the backup", windowAttrs(cfg.Window, loc)...)
	case stats.Transactions == 0:
		log.Warn("the window holds no transaction of the selected tables: the output changes nothing", windowAttrs(cfg.Window, loc)...)
	}
	attrs := []any{slog.Int64("transactions", stats.Transactions), slog.Int64("inserted", stats.Inserts),
		slog.Int64("updated", stats.Updates), slog.Int64("deleted", stats.Deletes)}
	done := "replay done"
	for _, c := range stats.Conflicts {
		log.Warn("--on-conflict skip: row left as it is, changed again after the window", slog.String("row", c.String()))
	}
	if o.flashback {
		// What the output does: the inverse of what the window did.
		done = "flashback done"
		attrs = []any{slog.Int64("transactions_undone", stats.Transactions), slog.Int64("inserted", stats.Deletes),
			slog.Int64("updated", stats.Updates), slog.Int64("deleted", stats.Inserts)}
		if len(stats.Conflicts) > 0 {
			attrs = append(attrs, slog.Int("conflicting_rows_left", len(stats.Conflicts)), slog.Int64("inverse_statements_left_out", stats.SkippedRows))
		}
	}
	if !stats.LastEnd.IsZero() {
		attrs = append(attrs, slog.String("last_end", stats.LastEnd.String()))
	}
	attrs = append(attrs, windowAttrs(cfg.Window, loc)...)
	if stats.StoppedAt != "" {
		attrs = append(attrs, slog.String("stopped", stats.StoppedAt))
	} else if !stats.ReadTo.IsZero() {
		attrs = append(attrs, slog.String("read_to", stats.ReadTo.String()))
	}
	attrs = appendStatementAttrs(attrs, stats.Logged, stats.XAPrepared, stats.LeftOut, stats.Statements)
	log.Info(done, attrs...)
	return nil
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	t := strings.ToUpper(strings.TrimSpace(s))
	switch {
	case strings.HasSuffix(t, "K"):
		mult, t = 1<<10, t[:len(t)-1]
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, t[:len(t)-1]
	case strings.HasSuffix(t, "G"):
		mult, t = 1<<30, t[:len(t)-1]
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

// appendStatementAttrs adds the counts of statements the summary of a replay or an apply
// reports, those that are not zero.
func appendStatementAttrs(attrs []any, logged, xaPrepared, leftOut, notReplayed int64) []any {
	for _, c := range []struct {
		key string
		n   int64
	}{{"statements_as_logged", logged}, {"xa_prepared_left_out", xaPrepared},
		{"statements_left_out_by_filter", leftOut}, {"statements_not_replayed", notReplayed}} {
		if c.n > 0 {
			attrs = append(attrs, slog.Int64(c.key, c.n))
		}
	}
	return attrs
}
