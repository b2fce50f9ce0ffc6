package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/pitr-tool/pitr/pkg/binlog"
	"github.com/pitr-tool/pitr/pkg/mysqlconn"
	"github.com/pitr-tool/pitr/pkg/restore"
)

// forwardOnly hides the lookahead of a FileSource that reads a stream.
type forwardOnly struct{ binlog.Source }

// openSource opens what replay reads, and describes it for the output header.
func openSource(ctx context.Context, o replayOptions, start binlog.Position, cfg *restore.Config, args []string) (binlog.Source, string, error) {
	if connGiven(o.stream.source) {
		return openServerSource(ctx, o, start, cfg, args)
	}
	files, err := binlog.OpenFiles(args, binlog.FileOptions{Start: start, AllowGaps: o.allowGaps, Log: cfg.Log})
	if err != nil {
		return nil, "", err
	}
	if slices.ContainsFunc(args, binlog.IsStream) {
		// A pipe, stdin or a compressed archive is read once, forward: no lookahead (a
		// transaction's time is its first event's, as from a server), no prefetching reader.
		if err := resolveFilePositions(&cfg.Window, files.Files()); err != nil {
			files.Close()
			return nil, "", err
		}
		return forwardOnly{files}, "binlogs: " + strings.Join(args, " "), nil
	}
	// Reading and row decoding run on a second core, ahead of rendering.
	filter := cfg.Filter.Clone()
	keep := func(tm *binlog.TableMap) bool {
		// A table map without names gets them, and maybe its signedness (MySQL 5.7 logs none),
		// from a schema on the consumer's side: its rows are decoded there, after that.
		return tm.HasNames && filter.KeepTable(tm)
	}
	if cfg.Schema != nil {
		keep = nil // the schema may also correct maps that have names
	}
	if err := resolveFilePositions(&cfg.Window, files.Files()); err != nil {
		files.Close()
		return nil, "", err
	}
	// Rows of tables the filter leaves out are dropped unread, once their checksums are checked.
	var drop func(*binlog.TableMap) bool
	if f := cfg.Filter; f != nil && len(f.Databases)+len(f.Tables)+len(f.Exclude) > 0 {
		drop = func(tm *binlog.TableMap) bool { return !filter.KeepTable(tm) }
	}
	// Eight batches ahead (up to 256 KiB of events each): with four the queue was too short
	// for the reader to see that the renderer is behind.
	src := binlog.StartPrefetch(files, binlog.PrefetchOptions{Depth: 8, Decode: keep, Drop: drop})
	names := make([]string, len(files.Files()))
	for i, f := range files.Files() {
		names[i] = binlog.FileName(f)
	}
	return src, "binlogs: " + strings.Join(names, " "), nil
}

// openServerSource streams the binlogs of the --source server.
func openServerSource(ctx context.Context, o replayOptions, start binlog.Position, cfg *restore.Config, args []string) (binlog.Source, string, error) {
	switch {
	case len(args) > 0:
		return nil, "", usagef(errors.New("give binlog files or a --source server, not both"))
	case o.apply.enabled():
		// Applying needs the files (sizes, resume by seeking); stream them to disk first.
		return nil, "", usagef(errors.New("--target with a --source server is not supported yet: save the binlogs with pitr fetch, then replay the files"))
	case o.stream.startGTID != "" && !start.IsZero():
		return nil, "", usagef(errors.New("--start-gtid and --start-position exclude each other"))
	}
	so, err := o.stream.streamOptions(o.apply.defaultsFile, o.apply.noDefaults, cfg.Log)
	if err != nil {
		return nil, "", err
	}
	so.Start, so.StartGTID = start, o.stream.startGTID
	if so.StartGTID != "" {
		cfg.Window.StartFrom = "after the transactions of GTID set " + so.StartGTID + " (--start-gtid)"
	}
	if o.schemaFrom == "" {
		// The server the binlogs come from also knows its tables; today's schema, checked
		// against every table map.
		sc, err := serverCatalog(o.stream.source, o.apply.defaultsFile, o.apply.noDefaults, cfg.Log)
		if err != nil {
			return nil, "", err
		}
		cfg.Schema = cfg.Schema.Then(sc)
	}
	src, err := binlog.OpenStream(ctx, so)
	if err != nil {
		return nil, "", err
	}
	info := src.Info()
	if stop := cfg.Window.StopPos; stop.File == "" && !stop.IsZero() {
		first := start.File
		if first == "" {
			first = info.Binlogs[0]
		}
		cfg.Window.StopPos.File = first
	}
	origin := "server: " + so.Name + " (" + info.Version + "; " + mysqlconn.DescribeTLS(so.TLSMode, so.Network, info.TLSCipher) + ")"
	if !o.stream.follow {
		origin += " up to " + info.Current.String()
	}
	return src, origin, nil
}

// streamOptions are the flags of a replication-protocol source, shared by replay and fetch.
type streamOptions struct {
	source    mysqlconn.Options
	serverID  uint32
	follow    bool
	startGTID string
	heartbeat time.Duration
}

// streamOptions resolves the --source flags (option file, MYSQL_PWD, prompt) into what the
// binlog package needs.
func (s streamOptions) streamOptions(defaultsFile string, noDefaults bool, log *slog.Logger) (binlog.StreamOptions, error) {
	conn, err := resolveConn(s.source, defaultsFile, noDefaults, log)
	if err != nil {
		return binlog.StreamOptions{}, usagef(fmt.Errorf("source: %w", err))
	}
	dc, err := conn.DriverConfig()
	if err != nil {
		return binlog.StreamOptions{}, usagef(fmt.Errorf("source: %w", err))
	}
	so := binlog.StreamOptions{Network: dc.Net, Addr: dc.Addr, User: dc.User, Password: dc.Passwd, TLS: dc.TLS, TLSMode: conn.TLSMode(),
		Name: conn.Address(), AuthHint: loginHint("source", conn), ServerID: s.serverID, Follow: s.follow, Heartbeat: s.heartbeat, Log: log}
	switch {
	case dc.TLSConfig == "preferred" && dc.Net != "unix":
		// As the mysql client: encrypted when the server offers it, unverified.
		so.TLS, so.TLSPreferred = &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, true
	case dc.TLS != nil && dc.AllowFallbackToPlaintext:
		so.TLSPreferred = true
	}
	return so, nil
}

// AddFlags registers the --source connection flags, --server-id, --heartbeat and --follow;
// with replay, also --start-gtid (fetch always starts at the start of a file).
func (s *streamOptions) AddFlags(fs *pflag.FlagSet, replay bool) {
	addConnFlags(fs, "source", &s.source)
	fs.Uint32Var(&s.serverID, "server-id", 0, "replica server `ID` to register with the source; must differ from every real replica's "+
		"(default: random, from 2130706432 up)")
	fs.DurationVar(&s.heartbeat, "heartbeat", time.Second, "with a --source server: how often an idle server sends a heartbeat")
	fs.BoolVar(&s.follow, "follow", false, "with a --source server: keep streaming new events instead of stopping at the server's position at start")
	if replay {
		fs.StringVar(&s.startGTID, "start-gtid", "", "with a --source server: start after the transactions of this GTID `SET` "+
			"(MySQL uuid:1-5,... or MariaDB 0-1-100,...)")
	}
}
