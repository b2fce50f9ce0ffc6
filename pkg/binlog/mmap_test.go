//go:build unix

package binlog

import (
	"context"
	"errors"
	"os"
	"testing"
)

// TestLookaheadFileCutWhileMapped: the lookahead reads a long transaction's headers through a
// memory map; a file cut shorter under it (a purge, a restore over it) makes the access fault.
// That must be an error naming the file, not a crash of the whole process.
func TestLookaheadFileCutWhileMapped(t *testing.T) {
	path := synthBinlog(t, "bulk", 6<<20)
	src, err := OpenFiles([]string{path}, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx := context.Background()
	// The long transaction: the one whose GTID's lookahead reaches past 6 MiB.
	var gtid Event
	for {
		ev, err := src.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind != KindGTID {
			continue
		}
		end, err := src.PeekTxnEnd(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !end.Truncated && end.End.Offset >= 6<<20 {
			gtid = *ev
			break
		}
	}
	if src.view.mapped == nil {
		t.Skip("the lookahead did not map the file here")
	}
	if err := os.Truncate(path, 1<<20); err != nil {
		t.Fatal(err)
	}
	sc, _, _ := startScan(&gtid)
	_, err = src.scanTxnEnd(ctx, 2<<20, &sc)
	var pe *PosError
	if !errors.Is(err, ErrTruncated) || !errors.As(err, &pe) || pe.Pos.Offset != 2<<20 {
		t.Fatalf("lookahead in a mapped file cut shorter: %v; want a truncation error at offset %d", err, 2<<20)
	}
}
