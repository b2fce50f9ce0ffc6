package main

import (
	"strings"
	"testing"
	"time"

	"github.com/pitr-tool/pitr/pkg/binlog"
	"github.com/pitr-tool/pitr/pkg/restore"
)

// TestProgressLine: inside one huge transaction the rows and bytes sent move while nothing is
// committed, and no ETA is printed until it means something.
func TestProgressLine(t *testing.T) {
	sz := sizes{before: map[string]int64{"mysql-bin.000001": 0}, total: 1_000_000_000}

	p := new(restore.Progress)
	p.RowsSent.Store(500_000)
	p.BytesSent.Store(40_000_000)
	line := progressLine(p, sz, 0, 10*time.Second)
	for _, want := range []string{"0.0 MB of 1000.0 MB", "0 txn/s", "50000 rows/s", "500000 rows", "40.0 MB of statements sent"} {
		if !strings.Contains(line, want) {
			t.Errorf("huge open transaction: %q lacks %q", line, want)
		}
	}
	if strings.Contains(line, "ETA") {
		t.Errorf("ETA with nothing committed: %q", line)
	}

	// The first small commit, early: no 772h ETA.
	p.SetPosition(binlog.Position{File: "mysql-bin.000001", Offset: 1000})
	p.Transactions.Store(1)
	if line := progressLine(p, sz, 0, 2*time.Second); strings.Contains(line, "ETA") {
		t.Errorf("ETA from 1 kB in 2 s: %q", line)
	}
	if line := progressLine(p, sz, 0, time.Minute); strings.Contains(line, "ETA") {
		t.Errorf("ETA from 0.0001%% of the work: %q", line)
	}

	// 10% in 10 s: 90 s to go.
	p.SetPosition(binlog.Position{File: "mysql-bin.000001", Offset: 100_000_000})
	if line := progressLine(p, sz, 0, 10*time.Second); !strings.Contains(line, "ETA 1m30s") {
		t.Errorf("10%% in 10 s: %q", line)
	}
}

// TestApplyFailedRereadsCheckpoint: the stop message names the checkpoint the target holds, read
// again, not the one pitr last saw committed (stale after a retry).
func TestApplyFailedRereadsCheckpoint(t *testing.T) {
	stale := restore.CheckpointState{End: binlog.Position{File: "mysql-bin.000002", Offset: 500}}
	real := restore.CheckpointState{End: binlog.Position{File: "mysql-bin.000002", Offset: 900}, GTID: "0-1-9"}
	err := &restore.ApplyError{Committed: 3, LastCommitted: stale, Err: restore.ErrStatementTimeout}
	msg := applyFailed(err, "u@h:1", func() (restore.CheckpointState, bool) { return real, true }).Error()
	if !strings.Contains(msg, "checkpoint is mysql-bin.000002:900 (GTID 0-1-9)") || strings.Contains(msg, ":500") {
		t.Errorf("%s", msg)
	}
	err = &restore.ApplyError{Committed: 3, LastCommitted: stale, Err: restore.ErrStatementTimeout}
	msg = applyFailed(err, "u@h:1", func() (restore.CheckpointState, bool) { return restore.CheckpointState{}, false }).Error()
	if !strings.Contains(msg, "checkpoint is mysql-bin.000002:500 as pitr last saw it") {
		t.Errorf("unreadable target: %s", msg)
	}
}
