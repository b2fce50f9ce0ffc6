package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pitr-tool/pitr/pkg/restore"
)

type extractOptions struct {
	fromBackup string
	tables     []string
}

func newExtractCmd() *cobra.Command {
	var o extractOptions
	cmd := &cobra.Command{
		Use:   "extract --from-backup PATH --table db.table",
		Short: "Print one table's CREATE TABLE and rows from a logical backup",
		Long: `Extract streams a table's CREATE TABLE and its rows out of a mysqldump or mariadb-dump file
(plain or gzip, any size) or a mydumper folder, as SQL that rebuilds it in an empty server:
the first step of an incident, without restoring the whole backup somewhere.`,
		Example: `  # one table of a dump, to rebuild it in an empty server
  pitr extract --from-backup dump.sql -t shop.orders > orders.sql
  # two tables of a mydumper backup, straight into a server
  pitr extract --from-backup /backups/mydumper-2026-11-29 -t shop.orders -t shop.customers | mariadb`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runExtract(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&o.fromBackup, "from-backup", "", "the logical backup: a dump file or a mydumper folder")
	cmd.Flags().StringArrayVarP(&o.tables, "table", "t", nil, "the `db.table` to extract (repeatable)")
	return cmd
}

func runExtract(ctx context.Context, o extractOptions, stdout io.Writer) error {
	if o.fromBackup == "" || len(o.tables) == 0 {
		return usagef(errors.New("extract needs --from-backup PATH and --table db.table"))
	}
	for _, t := range o.tables {
		db, table, ok := strings.Cut(t, ".")
		if !ok || db == "" || table == "" || strings.ContainsAny(t, "*?[") {
			return usagef(fmt.Errorf("--table %q: want db.table, without patterns", t))
		}
		if err := restore.Extract(ctx, stdout, o.fromBackup, db, table); err != nil {
			return err
		}
	}
	return nil
}
