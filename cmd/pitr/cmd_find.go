package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pitr-tool/pitr/pkg/binlog"
	"github.com/pitr-tool/pitr/pkg/restore"
)

type findOptions struct {
	databases     []string
	tables        []string
	excludeTables []string
	rows          int64
	json          bool
	allowGaps     bool
	// The window, as replay's flags of the same names.
	startPosition, stopPosition string
	startDatetime, stopDatetime string
	timezone                    string
	fromBackup, stopGTID        string
}

func (o *findOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.startPosition, "start-position", "", "look from `FILE:POS` on (as replay: an event boundary outside any transaction)")
	fs.StringVar(&o.stopPosition, "stop-position", "", "stop before the first transaction that ends after `FILE:POS`")
	fs.StringVar(&o.startDatetime, "start-datetime", "", "look at transactions committed at or after `TIME`")
	fs.StringVar(&o.stopDatetime, "stop-datetime", "", "stop at the first transaction committed at or after `TIME`")
	fs.StringVar(&o.timezone, "timezone", "Local", "time zone of --start/--stop-datetime without an offset (IANA name, UTC, Local or +09:00)")
	fs.StringVar(&o.fromBackup, "from-backup", "", "start where the backup at `PATH` ends, skipping its GTIDs (as replay)")
	fs.StringVar(&o.stopGTID, "stop-gtid", "", "stop before the transaction with this `GTID`")
	fs.StringArrayVarP(&o.databases, "database", "d", nil, "look only at this database (glob; repeatable)")
	fs.StringArrayVarP(&o.tables, "table", "t", nil, "look only at this `db.table` (glob; repeatable)")
	fs.StringArrayVar(&o.excludeTables, "exclude-table", nil, "ignore this `db.table` (glob; repeatable)")
	fs.Int64Var(&o.rows, "rows", 1000, "report transactions that delete or update more than `N` rows of one table")
	fs.BoolVar(&o.json, "json", false, "print a JSON array for scripts")
	fs.BoolVar(&o.allowGaps, "allow-gaps", false, "read even if the binlog file sequence has gaps")
}

func newFindCmd(g *globalOptions) *cobra.Command {
	var o findOptions
	cmd := &cobra.Command{
		Use:   "find [flags] BINLOG...",
		Short: "List the DDL, mass deletes and updates, and first and last writes of the selected tables",
		Long: `Find lists what an engineer hunts for in an incident, one line per event: DROP, TRUNCATE,
RENAME and ALTER of the selected tables, transactions that delete or update more than --rows
rows of one table (or, logged as a statement, any UPDATE or DELETE of one: the binlog does not say
how many rows it changed), and the first and last transaction writing each table. Each line starts with
FILE:START-END; START pastes into replay --stop-position to stop just before it.`,
		Example: `  # the incident recipe (README): what happened since the backup, in database shop
  pitr find --from-backup dump.sql -d shop --rows 100 mysql-bin.*
  # one table in a time window, for scripts
  pitr find -t shop.orders --timezone Asia/Seoul --start-datetime '2026-11-29 09:00:00' --stop-datetime '2026-11-29 12:00:00' --json mysql-bin.*`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef(errors.New("find needs at least one binlog file"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFind(cmd.Context(), o, g, args, cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func runFind(ctx context.Context, o findOptions, g *globalOptions, args []string, stdout io.Writer) error {
	if o.rows < 0 {
		return usagef(fmt.Errorf("--rows %d: must not be negative", o.rows))
	}
	log := g.logger()
	// The window and filters exactly as replay reads the same flags.
	ro := replayOptions{startPosition: o.startPosition, stopPosition: o.stopPosition, startDatetime: o.startDatetime,
		stopDatetime: o.stopDatetime, timezone: o.timezone, databases: o.databases, tables: o.tables,
		excludeTables: o.excludeTables, batch: 1, maxPacket: "64M"}
	ro.incident.fromBackup, ro.incident.stopGTID, ro.incident.noSchema = o.fromBackup, o.stopGTID, true
	start, cfg, err := ro.config(log)
	if err != nil {
		return err
	}
	src, err := binlog.OpenFiles(args, binlog.FileOptions{Start: start, AllowGaps: o.allowGaps, Log: log})
	if err != nil {
		return err
	}
	defer src.Close()
	if err := resolveFilePositions(&cfg.Window, src.Files()); err != nil {
		return err
	}
	var stopped string
	var in binlog.Source = src
	if slices.ContainsFunc(args, binlog.IsStream) {
		in = forwardOnly{src} // read once: no lookahead
	}
	found, findErr := restore.Find(ctx, in, restore.FindOptions{Filter: cfg.Filter, Rows: o.rows, Window: cfg.Window, Log: log, Stopped: &stopped})
	// What was found before an error is still worth printing: it is all in the log before it.
	if err := printFindings(stdout, found, o.json, args); err != nil {
		return err
	}
	if errors.Is(findErr, restore.ErrFilterMatchesNothing) || errors.Is(findErr, binlog.ErrStartInTxn) {
		return usagef(findErr)
	}
	if findErr != nil {
		return findErr
	}
	loc, _ := loadLocation(o.timezone)
	attrs := append([]any{"findings", len(found)}, windowAttrs(cfg.Window, loc)...)
	if stopped != "" {
		attrs = append(attrs, "stopped", stopped)
	}
	log.Info("find done", attrs...)
	return nil
}

func printFindings(w io.Writer, found []restore.Finding, asJSON bool, binlogs []string) error {
	if asJSON {
		type row struct {
			Start string `json:"start"`
			End   string `json:"end,omitempty"`
			restore.Finding
			Flashback string `json:"flashback,omitempty"`
		}
		rows := make([]row, len(found))
		for i, f := range found {
			rows[i] = row{Start: f.Start.String(), Finding: f, Flashback: flashbackCommand(f, binlogs)}
			if !f.End.IsZero() {
				rows[i].End = f.End.String()
			}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	var out strings.Builder
	for _, f := range found {
		// File names, names and statement text come from the binlog: the line goes through
		// DisplayText, so that none of them can end it or drive the terminal.
		b := &strings.Builder{}
		b.WriteString(f.Start.String())
		if !f.End.IsZero() {
			b.WriteString("-" + strconv.FormatInt(f.End.Offset, 10))
		}
		b.WriteString("  " + f.Time.UTC().Format("2006-01-02 15:04:05 UTC"))
		if f.GTID != "" {
			b.WriteString("  GTID " + f.GTID)
		}
		b.WriteString("  server " + strconv.FormatUint(uint64(f.ServerID), 10) + "  " + f.What + " " + f.Table)
		if f.Rows > 0 {
			b.WriteString(" (" + strconv.FormatInt(f.Rows, 10) + " rows)")
		}
		if f.SQL != "" {
			b.WriteString(": " + f.SQL)
		}
		out.WriteString(restore.DisplayText(b.String()))
		out.WriteByte('\n')
		if c := flashbackCommand(f, binlogs); c != "" {
			out.WriteString(restore.DisplayText("    undo: " + c))
			out.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// flashbackCommand is the pitr replay --flashback command that undoes a mass DELETE or UPDATE
// (exactly that transaction: its start and end), or "" for other findings and for a table whose
// name -t would read as a glob or that a shell would need more than single quotes for.
func flashbackCommand(f restore.Finding, binlogs []string) string {
	if (f.What != "MASS DELETE" && f.What != "MASS UPDATE") || f.End.IsZero() {
		return ""
	}
	db, table, ok := splitQuoted(f.Table)
	if !ok || strings.ContainsAny(db+table, "*?[]\\.") {
		return ""
	}
	parts := []string{"pitr", "replay", "--flashback", "--start-position", f.Start.String(), "--stop-position", f.End.String(),
		"-t", shellQuote(db + "." + table)}
	for _, b := range binlogs {
		parts = append(parts, shellQuote(b))
	}
	return strings.Join(parts, " ")
}

// splitQuoted splits "`db`.`table`" (backticks doubled inside names) into its names.
func splitQuoted(s string) (db, table string, ok bool) {
	var names []string
	for len(s) > 0 {
		if s[0] != '`' {
			return "", "", false
		}
		var b strings.Builder
		i := 1
		for ; i < len(s); i++ {
			if s[i] == '`' {
				if i+1 < len(s) && s[i+1] == '`' {
					b.WriteByte('`')
					i++
					continue
				}
				break
			}
			b.WriteByte(s[i])
		}
		if i >= len(s) {
			return "", "", false
		}
		names = append(names, b.String())
		s = s[i+1:]
		if len(s) > 0 {
			if s[0] != '.' {
				return "", "", false
			}
			s = s[1:]
		}
	}
	if len(names) != 2 {
		return "", "", false
	}
	return names[0], names[1], true
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain path characters.
func shellQuote(s string) string {
	plain := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./:,+=@%", c)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
