package main

import (
	"context"
	"errors"

	"github.com/pitr-tool/pitr/pkg/binlog"
	"github.com/pitr-tool/pitr/pkg/restore"
)

// Exit codes, in one place.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitApplied     = 3 // apply stopped after committing some transactions; the message shows the resume position
	exitInterrupted = 130
)

// usageError marks a bad flag or argument.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(err error) error { return usageError{err} }

func exitCode(err error) int {
	var ue usageError
	var ae *applyError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ae) && ae.committed > 0:
		return exitApplied
	case errors.Is(err, restore.ErrFilterMatchesNothing), errors.Is(err, binlog.ErrStartInTxn):
		return exitUsage // a flag to correct, wherever the run found it (replay, find, apply)
	}
	return exitError
}
