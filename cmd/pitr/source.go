package main

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/pitr-tool/pitr/pkg/binlog"
	"github.com/pitr-tool/pitr/pkg/restore"
)

// openSource opens what replay reads, and describes it for the output header.
func openSource(_ context.Context, o replayOptions, start binlog.Position, cfg *restore.Config, args []string) (binlog.Source, string, error) {
	files, err := binlog.OpenFiles(args, binlog.FileOptions{Start: start, AllowGaps: o.allowGaps})
	if err != nil {
		return nil, "", err
	}
	// Reading and row decoding run on a second core, ahead of rendering.
	keep := cfg.Filter.Clone()
	src := binlog.NewPrefetcher(files, 4, keep.KeepTable)
	if stop := cfg.Window.StopPos; stop.File == "" && !stop.IsZero() {
		cfg.Window.StopPos.File = filepath.Base(files.Files()[0])
	}
	names := make([]string, len(files.Files()))
	for i, f := range files.Files() {
		names[i] = filepath.Base(f)
	}
	return src, "binlogs: " + strings.Join(names, " "), nil
}
