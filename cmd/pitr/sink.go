package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/pitr-tool/pitr/pkg/restore"
)

// openSink opens where replay writes. finish closes it once the run has ended with runErr and
// returns the first error of its own.
func openSink(_ context.Context, o replayOptions, stdout io.Writer, header []string) (restore.Sink, func(runErr error) error, error) {
	if o.output == "" {
		sink := restore.NewSQLWriter(stdout, header...)
		sink.CheckRows = o.rowChecks
		return sink, func(error) error { return sink.Close() }, nil
	}
	// Written to a temporary file in the same folder and renamed, so that an interrupted run
	// never leaves a file that looks complete.
	tmp, err := os.CreateTemp(filepath.Dir(o.output), "."+filepath.Base(o.output)+".*")
	if err != nil {
		return nil, nil, err
	}
	sink := restore.NewSQLWriter(tmp, header...)
	sink.CheckRows = o.rowChecks
	// LOAD DATA files go beside the output, for mariadb --local-infile=1 to read.
	sink.LoadDir(filepath.Dir(o.output), filepath.Base(o.output)+".")
	finish := func(runErr error) error {
		defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
		err := sink.Close()
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		// Keep what was written even after a decoding error: every transaction in it is
		// whole, and the incomplete one ends in ROLLBACK.
		if err == nil && !errors.Is(runErr, context.Canceled) {
			err = os.Rename(tmp.Name(), o.output)
		}
		return err
	}
	return sink, finish, nil
}
