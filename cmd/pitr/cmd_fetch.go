package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

type fetchOptions struct {
	stream       streamOptions
	defaultsFile string
	noDefaults   bool
	from         string
	to           string
}

func (o *fetchOptions) AddFlags(fs *pflag.FlagSet) {
	o.stream.AddFlags(fs, false)
	addDefaultsFlags(fs, &o.defaultsFile, &o.noDefaults)
	fs.StringVar(&o.from, "from", "", "first binlog `FILE` to save, e.g. mysql-bin.000042 (default: the oldest the server has)")
	fs.StringVar(&o.to, "to", "", "save the binlogs into `DIR` (created if missing; a rerun continues the last file there)")
}

func newFetchCmd(g *globalOptions) *cobra.Command {
	var o fetchOptions
	cmd := &cobra.Command{
		Use:   "fetch --source-host HOST [flags] --to DIR",
		Short: "Save a server's binlogs as files, over the replication protocol",
		Long: `Fetch reads binlogs from a server as a replica does and saves them under the server's own file
names, byte for byte as the server has them, up to the server's position when fetch started
(or for ever with --follow). The file the server is still writing is saved with the in-use flag
set, as on the server's disk, until it ends. A rerun checks the last file in DIR, cuts off any
torn event at its end, and continues it. The files feed pitr replay like any binlog files.`,
		Example: `  # save every binlog the server has (rerun to continue)
  pitr fetch --source-host db1 --source-user pitr --to /backup/binlogs
  # from one file on, and keep streaming new events
  pitr fetch --source-host db1 --source-user pitr --from mysql-bin.000042 --to /backup/binlogs --follow`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runFetch(cmd.Context(), o, g)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func runFetch(ctx context.Context, o fetchOptions, g *globalOptions) error {
	log := g.logger()
	if !connGiven(o.stream.source) {
		return usagef(errors.New("fetch needs a --source server (--source-host, --source-socket or --source URI)"))
	}
	if o.to == "" {
		return usagef(errors.New("fetch needs --to DIR"))
	}
	so, err := o.stream.streamOptions(o.defaultsFile, o.noDefaults, log)
	if err != nil {
		return err
	}
	stats, err := binlog.Fetch(ctx, binlog.FetchOptions{Stream: so, From: o.from, Dir: o.to, Log: log})
	attrs := []any{slog.Int("files", len(stats.Files)), slog.Int64("bytes", stats.Bytes)}
	if !stats.End.IsZero() {
		attrs = append(attrs, slog.String("end", stats.End.String()))
	}
	if err != nil {
		if !stats.End.IsZero() {
			log.Info("fetch stopped; a rerun continues from the end", attrs...)
		}
		return err
	}
	log.Info("fetch done", attrs...)
	return nil
}
