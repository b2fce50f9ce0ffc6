package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/pitr-tool/pitr/pkg/binlog"
	"github.com/pitr-tool/pitr/pkg/restore"
)

// incidentOptions are the GTID and stop flags an engineer uses to stop just before a mistake.
type incidentOptions struct {
	includeGTIDs   string
	excludeGTIDs   string
	skipGTIDs      string
	stopGTID       string
	stopBeforeDrop bool
	fromBackup     string
	withData       bool
	rewriteDBs     []string
	rewriteTables  []string
	noSchema       bool // find: the backup's CREATE TABLE statements are not needed
}

func (o *incidentOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.includeGTIDs, "include-gtids", "", "keep only transactions in this GTID `SET` (MySQL uuid:1-5,... or MariaDB 0-1-100,...; a MariaDB entry means up to that sequence number in its domain)")
	fs.StringVar(&o.excludeGTIDs, "exclude-gtids", "", "drop transactions in this GTID `SET`, e.g. the backup's gtid_purged or gtid_binlog_pos")
	fs.StringVar(&o.skipGTIDs, "skip-gtids", "", "drop exactly these transactions (`GTIDS`) and carry on")
	fs.StringVar(&o.stopGTID, "stop-gtid", "", "stop before the transaction with this `GTID`")
	fs.StringVar(&o.fromBackup, "from-backup", "", "start where the backup at `PATH` ends: a mysqldump/mariadb-dump file (--master-data, .gz too), xtrabackup_binlog_info, mydumper metadata, MySQL Shell @.json, or their folder; its GTIDs are skipped")
	fs.StringArrayVar(&o.rewriteDBs, "rewrite-db", nil, "write rows of database OLD into NEW (`OLD=NEW`; repeatable)")
	fs.StringArrayVar(&o.rewriteTables, "rewrite-table", nil, "write rows of one table under another name (`db.t=db2.t2`; repeatable)")
	fs.BoolVar(&o.withData, "with-backup-data", false, "print the --table tables' CREATE TABLE and rows from the --from-backup logical backup first, so the output rebuilds them in an empty server")
	fs.BoolVar(&o.stopBeforeDrop, "stop-before-drop", false, "stop before the first DROP TABLE, TRUNCATE, DROP DATABASE or RENAME that takes a kept table away")
}

// apply puts the flags into cfg and *start, or returns an error naming the flag.
func (o incidentOptions) apply(cfg *restore.Config, start *binlog.Position, log *slog.Logger) error {
	for _, f := range []struct {
		flag string
		text string
		dst  **binlog.GTIDSet
	}{
		{"--include-gtids", o.includeGTIDs, &cfg.Window.IncludeGTIDs},
		{"--exclude-gtids", o.excludeGTIDs, &cfg.Window.ExcludeGTIDs},
		{"--skip-gtids", o.skipGTIDs, &cfg.Window.SkipGTIDs},
		{"--stop-gtid", o.stopGTID, &cfg.Window.StopGTID},
	} {
		if f.text == "" {
			continue
		}
		set, err := binlog.ParseGTIDSet(f.text)
		if err != nil {
			return usagef(fmt.Errorf("%s: %w", f.flag, err))
		}
		if set.IsEmpty() {
			return usagef(fmt.Errorf("%s %q names no transaction", f.flag, f.text))
		}
		*f.dst = set
	}
	cfg.Window.StopBeforeDrop = o.stopBeforeDrop
	// A table rebuilt alone references tables the output does not create.
	cfg.Render.NoForeignKeyChecks = o.withData
	rw, err := restore.ParseRewrite(o.rewriteDBs, o.rewriteTables)
	if err != nil {
		return usagef(err)
	}
	cfg.Render.Rewrite = rw
	if o.fromBackup == "" {
		return nil
	}
	if !start.IsZero() {
		return usagef(errors.New("--from-backup and --start-position exclude each other: the backup says where to start"))
	}
	b, err := binlog.ReadBackup(o.fromBackup)
	if err != nil {
		return err
	}
	*start = b.Start
	cfg.Window.StartFrom = "the backup " + b.Path
	// A logical backup holds the schema at the start position too: the column names of a
	// MINIMAL-metadata binlog, checked against every table map.
	if cfg.Schema == nil && !o.noSchema && (b.Kind == "mysqldump" || b.Kind == "mydumper" || b.Kind == "mysqlsh") {
		schemaPath := o.fromBackup
		if b.Kind != "mysqldump" {
			schemaPath = filepath.Dir(b.Path)
		}
		if cat, err := restore.LoadSchema(context.Background(), schemaPath); err == nil {
			cfg.Schema = cat
			log.Info("column names, where the binlog has none, from the backup's CREATE TABLE statements", "backup", schemaPath)
			// A pattern naming a table of the backup is no typo, though the window may hold
			// no write of it (the mistake was its first after the backup): that is an empty
			// window, a warning, and with --with-backup-data the table still comes back.
			cat.Tables(cfg.Filter.Saw)
		} else {
			// Not fatal: a binlog with its own column names needs none. A table without
			// names stops the replay later, with this reason.
			// One line: the parser quotes the statement, line breaks and all.
			cfg.SchemaLoadErr = fmt.Errorf("the backup's CREATE TABLE statements could not be read: %s", strings.Join(strings.Fields(err.Error()), " "))
			log.Warn("the backup's CREATE TABLE statements could not be read; tables whose binlog has no column names will stop the replay", "backup", schemaPath, "error", err)
		}
	}
	if b.Kind == "mysqldump" && !o.noSchema {
		fks, err := restore.DumpForeignKeys(context.Background(), o.fromBackup)
		if err != nil {
			return err
		}
		if err := checkForeignKeys(fks, cfg.Filter, o.withData, o.fromBackup, log); err != nil {
			return err
		}
	}
	if !b.GTIDs.IsEmpty() {
		if cfg.Window.ExcludeGTIDs != nil {
			return usagef(errors.New("--from-backup already excludes the backup's GTIDs; leave out --exclude-gtids"))
		}
		// Positions alone can be ambiguous (a backup restored onto a server that was then
		// written to); the GTIDs the backup holds cannot be.
		cfg.Window.ExcludeGTIDs = b.GTIDs
	}
	log.Info("starting where the backup ends", "backup", b.Kind, "file", b.Path, "start", b.Start.String(), "gtids", b.GTIDs.String())
	return nil
}

// writeBackupData prints, before the replay, each selected table as the logical backup holds it.
func (o incidentOptions) writeBackupData(ctx context.Context, sink restore.Sink, tables []string) error {
	if !o.withData {
		return nil
	}
	if o.fromBackup == "" {
		return usagef(errors.New("--with-backup-data needs --from-backup"))
	}
	if len(tables) == 0 {
		return usagef(errors.New("--with-backup-data needs the tables to rebuild, as --table db.table"))
	}
	w, ok := sink.(interface{ Preamble() io.Writer })
	if !ok {
		return usagef(errors.New("--with-backup-data prints SQL: leave out --target and pipe the output into the server"))
	}
	for _, t := range tables {
		db, table, _ := strings.Cut(t, ".")
		if strings.ContainsAny(t, "*?[") {
			return usagef(fmt.Errorf("--with-backup-data: --table %q is a pattern; name each table", t))
		}
		if err := restore.Extract(ctx, w.Preamble(), o.fromBackup, db, table); err != nil {
			return err
		}
	}
	return nil
}

// checkForeignKeys looks at the foreign keys of the kept tables in the dump. With
// --with-backup-data the output loads with foreign_key_checks=0, under which a cascading action
// between rebuilt tables would not run, and the binlog does not hold the rows such an action
// changes: that is refused. Without it, a foreign key to a table the filter leaves out means
// rows written to that table after the backup are not replayed, and a replayed row that
// references one fails on the target: a warning that names the table to add.
func checkForeignKeys(fks []restore.ForeignKey, f *restore.Filter, withData bool, dump string, log *slog.Logger) error {
	warned := map[string]bool{}
	for _, k := range fks {
		if !f.Keeps(k.Table) {
			continue
		}
		switch {
		case withData && f.Keeps(k.Refers) && k.Cascades():
			action := "ON DELETE " + k.OnDelete
			if del := (restore.ForeignKey{OnDelete: k.OnDelete}); !del.Cascades() {
				action = "ON UPDATE " + k.OnUpdt
			}
			return usagef(fmt.Errorf("--with-backup-data loads with foreign_key_checks=0, under which %s of the foreign key of %s to %s would not run, "+
				"and the binlog does not hold the rows it changed: restore the backup (mariadb < %s) and replay on top of it without --with-backup-data",
				action, k.Table, k.Refers, dump))
		case !withData && !f.Keeps(k.Refers) && !warned[k.Table+" "+k.Refers]:
			warned[k.Table+" "+k.Refers] = true
			log.Warn("a kept table has a foreign key to a table the filter leaves out: rows written to that table after the backup are not replayed, "+
				"so a replayed row that references one fails on the target (ERROR 1452); add it with -t", "table", k.Table, "references", k.Refers, "add", "-t "+k.Refers)
		}
	}
	return nil
}
