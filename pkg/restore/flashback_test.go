package restore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// callSink records what a Sink is handed, one line a call.
type callSink struct{ calls []string }

func (s *callSink) Session(_ context.Context, stmts []string) error {
	s.calls = append(s.calls, "session "+strings.Join(stmts, ";"))
	return nil
}
func (s *callSink) Begin(_ context.Context, tx TxnInfo) error {
	s.calls = append(s.calls, fmt.Sprintf("begin %s undo=%v end=%s", tx.GTID, tx.Undo, tx.End))
	return nil
}
func (s *callSink) Write(_ context.Context, stmt []byte) error {
	s.calls = append(s.calls, "write "+string(stmt))
	return nil
}
func (s *callSink) WriteRows(_ context.Context, stmt []byte, c RowCheck) error {
	s.calls = append(s.calls, fmt.Sprintf("rows %d %d %s", c.Rows, c.Where, stmt))
	return nil
}
func (s *callSink) Commit(_ context.Context, sum TxnSummary) error {
	s.calls = append(s.calls, fmt.Sprintf("commit %d/%d/%d", sum.Inserts, sum.Updates, sum.Deletes))
	return nil
}
func (s *callSink) Rollback(context.Context) error { s.calls = append(s.calls, "rollback"); return nil }
func (s *callSink) Close() error                   { return nil }

// TestSpillReverse writes transactions of statements of many lengths (some longer than a read
// block, some rolled back) and reads them back with blocks of several sizes: every statement
// comes back whole, transactions and statements newest first.
func TestSpillReverse(t *testing.T) {
	ctx := context.Background()
	for _, block := range []int64{1, 7, 64, 1000, spillBlock} {
		t.Run(fmt.Sprint(block), func(t *testing.T) {
			s, err := newSpillSink(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.block = block
			s.Session(ctx, []string{"SET a=1"})
			var want []string
			want = append(want, "session SET a=1")
			var txns [][]string
			for tx := 0; tx < 20; tx++ {
				info := TxnInfo{GTID: fmt.Sprintf("0-1-%d", tx), Start: binlog.Position{File: "f", Offset: int64(tx * 10)}}
				s.Begin(ctx, info)
				var calls []string
				calls = append(calls, fmt.Sprintf("begin %s undo=true end=f:%d", info.GTID, tx*10+9))
				var stmts []string
				for i := 0; i < tx*3; i++ {
					st := fmt.Sprintf("S%d.%d %s", tx, i, strings.Repeat("x", (tx*37+i*101)%3000))
					s.WriteRows(ctx, []byte(st), RowCheck{Rows: 1, Where: i})
					stmts = append(stmts, fmt.Sprintf("rows 1 %d %s", i, st))
				}
				if tx%5 == 4 {
					s.Rollback(ctx) // never committed on the source: nothing to undo
					continue
				}
				s.Commit(ctx, TxnSummary{End: binlog.Position{File: "f", Offset: int64(tx*10 + 9)}, Inserts: 1, Updates: 2, Deletes: 3})
				slices.Reverse(stmts)
				calls = append(calls, stmts...)
				calls = append(calls, "commit 3/2/1")
				txns = append(txns, calls)
			}
			slices.Reverse(txns)
			for _, c := range txns {
				want = append(want, c...)
			}
			var got callSink
			n, _, err := s.replay(ctx, &got, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(len(txns)) {
				t.Errorf("%d transactions, want %d", n, len(txns))
			}
			if !slices.Equal(got.calls, want) {
				for i := range want {
					if i >= len(got.calls) || got.calls[i] != want[i] {
						t.Fatalf("call %d: got %.80q, want %.80q (%d calls, want %d)", i, got.calls[min(i, len(got.calls)-1)], want[i], len(got.calls), len(want))
					}
				}
				t.Fatalf("%d calls, want %d", len(got.calls), len(want))
			}
		})
	}
}
