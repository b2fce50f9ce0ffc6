package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// recordExecer keeps what an Applier sends, and fails the statement containing failOn.
type recordExecer struct {
	stmts  []string
	failOn string
}

func (r *recordExecer) Exec(_ context.Context, stmt string) ([]int64, error) {
	if r.failOn != "" && strings.Contains(stmt, r.failOn) {
		return nil, errors.New("Error 1062 (23000): Duplicate entry")
	}
	r.stmts = append(r.stmts, stmt)
	return nil, nil
}

func applyFixture(t *testing.T, x Execer, opts ApplierOptions, w Window) (*Applier, Stats, error) {
	t.Helper()
	src, err := binlog.OpenFiles(fixtureFiles(t, "dml"), binlog.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	a := NewApplier(x, opts)
	st, err := Run(context.Background(), src, a, Config{Window: w})
	return a, st, err
}

func TestApplierStatements(t *testing.T) {
	ck := &Checkpoint{DB: "pitr", Table: "checkpoint", Name: "mysql-bin"}
	var rec recordExecer
	a, st, err := applyFixture(t, &rec, ApplierOptions{NoBinlog: true, Checkpoint: ck}, Window{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	n, rows, last := a.Committed()
	if n != st.Transactions || rows.Rows() != st.Inserts+st.Updates+st.Deletes || last.End != st.LastEnd {
		t.Errorf("Committed() = %d %+v %v; Run's stats %+v", n, rows, last, st)
	}
	if rec.stmts[0] != "SET SESSION sql_log_bin=0" || !strings.HasPrefix(rec.stmts[len(SessionStatements())+2], "CREATE TABLE IF NOT EXISTS `pitr`.`checkpoint`") {
		t.Errorf("session: %q", rec.stmts[:8])
	}
	// Every transaction: BEGIN, its rows, the checkpoint upsert, COMMIT.
	var begins, upserts int
	for i, s := range rec.stmts {
		switch {
		case s == "BEGIN":
			begins++
		case strings.HasPrefix(s, "INSERT INTO `pitr`.`checkpoint`"):
			upserts++
			if rec.stmts[i+1] != "COMMIT" {
				t.Errorf("statement after the checkpoint: %q", rec.stmts[i+1])
			}
		}
	}
	if int64(begins) != n || int64(upserts) != n {
		t.Errorf("%d BEGIN, %d checkpoint upserts, %d transactions", begins, upserts, n)
	}
	want := "INSERT INTO `pitr`.`checkpoint` (`name`,`binlog_file`,`binlog_pos`,`gtid`,`source_commit`) VALUES ('mysql-bin','" +
		last.End.File + "'," + strings.TrimPrefix(last.End.String(), last.End.File+":") + ",'" + last.GTID + "',"
	if got := rec.stmts[len(rec.stmts)-2]; !strings.HasPrefix(got, want) {
		t.Errorf("last upsert\n%s\nwant prefix\n%s", got, want)
	}
}

// TestApplierResume: with ResumeAfter at a transaction's end, exactly the transactions after it
// are sent, and the same as a whole run sends for them.
func TestApplierResume(t *testing.T) {
	var whole bytes.Buffer
	a, _, err := applyFixture(t, NewPrintExecer(&whole), ApplierOptions{}, Window{})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	// Resume after the third transaction: its end is where the fourth one's comment starts.
	notes := strings.Split(whole.String(), "\n-- ")
	var ends []binlog.Position
	var heads []string
	for _, n := range notes {
		if !strings.HasPrefix(n, "mysql-bin.") {
			continue
		}
		head, _, _ := strings.Cut(n, "\n")
		heads = append(heads, "-- "+head+"\n")
		span, _, _ := strings.Cut(head, " ")
		file, rng, _ := strings.Cut(span, ":")
		_, end, _ := strings.Cut(rng, "-")
		p, err := binlog.ParsePosition(file + ":" + end)
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, p)
	}
	if len(ends) < 5 {
		t.Fatalf("only %d transactions in the fixture", len(ends))
	}
	var part bytes.Buffer
	p := NewPrintExecer(&part)
	a, st, err := applyFixture(t, p, ApplierOptions{}, Window{ResumeAfter: ends[2]})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if st.Transactions != int64(len(ends)-3) {
		t.Errorf("resumed run: %d transactions, want %d", st.Transactions, len(ends)-3)
	}
	i := strings.Index(whole.String(), heads[3])
	j := strings.Index(part.String(), heads[3])
	if i < 0 || j < 0 || whole.String()[i:] != part.String()[j:] || strings.Contains(part.String()[:j], "BEGIN") {
		t.Errorf("the resumed run does not send the tail of the whole run (%d, %d)", i, j)
	}
}

func TestApplierError(t *testing.T) {
	rec := recordExecer{failOn: "INSERT INTO `shop`.`order_items`"}
	_, st, err := applyFixture(t, &rec, ApplierOptions{}, Window{})
	var se *StatementError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a StatementError", err)
	}
	msg := err.Error()
	for _, want := range []string{se.Txn.Start.String() + ": transaction (GTID " + se.Txn.GTID + "): ", "Duplicate entry", "statement: INSERT INTO `shop`.`order_items`"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	if rec.stmts[len(rec.stmts)-1] != "ROLLBACK" {
		t.Errorf("last statement %q, want ROLLBACK", rec.stmts[len(rec.stmts)-1])
	}
	if st.Transactions < 0 {
		t.Error(st)
	}
	long := &StatementError{Stmt: strings.Repeat("x", 1000), Err: errors.New("boom")}
	if got := long.Error(); len(got) > 300 || !strings.Contains(got, "... (1000 bytes)") {
		t.Errorf("long statement shown as %q", got)
	}
}

// TestApplierBatches: statements go in batches, and the dry run with the same batch size
// prints exactly the statements the batches hold, in order; a refused statement is named alone
// and its target transaction rolled back.
func TestApplierBatches(t *testing.T) {
	ck := &Checkpoint{DB: "pitr", Table: "checkpoint", Name: "x"}
	for _, mb := range []int{300, 1 << 20} {
		var printed bytes.Buffer
		a, _, err := applyFixture(t, NewPrintExecer(&printed), ApplierOptions{Checkpoint: ck, MaxBatch: mb}, Window{})
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
		var rec recordExecer
		a, _, err = applyFixture(t, &rec, ApplierOptions{Checkpoint: ck, MaxBatch: mb}, Window{})
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
		var batched bytes.Buffer
		for _, q := range rec.stmts {
			batched.WriteString(q + ";\n")
		}
		var noComments strings.Builder
		for _, line := range strings.SplitAfter(printed.String(), "\n") {
			if !strings.HasPrefix(line, "-- ") {
				noComments.WriteString(line)
			}
		}
		if batched.String() != noComments.String() {
			t.Errorf("max batch %d: batched text differs from the dry run:\n%.3000s\n---\n%.3000s", mb, batched.String(), noComments.String())
		}
		if len(rec.stmts) >= strings.Count(noComments.String(), ";\n") {
			t.Errorf("max batch %d: %d round trips for %d statements", mb, len(rec.stmts), strings.Count(noComments.String(), ";\n"))
		}
		// A COMMIT never follows a statement of its own transaction in one round trip.
		for _, q := range rec.stmts {
			if i := strings.Index(q, "COMMIT"); i > 0 && strings.Contains(q[:i], "\n") {
				t.Errorf("max batch %d: a COMMIT after statements in one query: %.300q", mb, q)
			}
		}
	}

	bad := recordExecer{failOn: "INSERT INTO `shop`.`order_items`"}
	_, _, err := applyFixture(t, &bad, ApplierOptions{Checkpoint: ck, MaxBatch: 300}, Window{})
	var se *StatementError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a StatementError", err)
	}
	if bad.stmts[len(bad.stmts)-1] != "ROLLBACK" {
		t.Errorf("the failed batch was not undone: %q", bad.stmts[len(bad.stmts)-3:])
	}
}

// TestApplierPipeline: sending batches from a second goroutine changes nothing the target sees:
// the same statements in the same order, the same commits counted, and after a refused
// statement nothing more than the undo and the ROLLBACK, with the error naming its transaction.
func TestApplierPipeline(t *testing.T) {
	ck := &Checkpoint{DB: "pitr", Table: "checkpoint", Name: "x"}
	for _, failOn := range []string{"", "INSERT INTO `shop`.`order_items`", "UPDATE `shop`.`orders`"} {
		t.Run("fail on "+failOn, func(t *testing.T) {
			var results [2]struct {
				stmts []string
				n     int64
				rows  TxnSummary
				last  CheckpointState
				err   string
			}
			for i, pipeline := range []bool{false, true} {
				rec := recordExecer{failOn: failOn}
				a, _, err := applyFixture(t, &rec, ApplierOptions{Checkpoint: ck, MaxBatch: 300, Pipeline: pipeline}, Window{})
				if cerr := a.Close(); err == nil {
					err = cerr
				}
				r := &results[i]
				r.stmts = rec.stmts
				r.n, r.rows, r.last = a.Committed()
				if err != nil {
					var se *StatementError
					if !errors.As(err, &se) {
						t.Fatalf("pipeline %v: err = %v, want a StatementError", pipeline, err)
					}
					r.err = se.Error()
				}
			}
			sync, pipe := results[0], results[1]
			if (failOn == "") != (sync.err == "") {
				t.Fatalf("failOn %q, error %q", failOn, sync.err)
			}
			if strings.Join(sync.stmts, "\n") != strings.Join(pipe.stmts, "\n") {
				t.Errorf("the pipeline sent\n%.2000s\nnot\n%.2000s", strings.Join(pipe.stmts, "\n"), strings.Join(sync.stmts, "\n"))
			}
			if sync.n != pipe.n || sync.rows != pipe.rows || sync.last != pipe.last || sync.err != pipe.err {
				t.Errorf("pipeline: %d %+v %v %q; in line: %d %+v %v %q", pipe.n, pipe.rows, pipe.last, pipe.err, sync.n, sync.rows, sync.last, sync.err)
			}
		})
	}
}

// simExecer is a target that keeps transactions: it runs a multi-statement query statement by
// statement, stops at the first failure as a server does (and says how far it got), and keeps
// the checkpoint row that committed with the data.
type simExecer struct {
	queries   int
	qs        []string
	open      []string // statements of the open transaction
	committed []string // statements of committed transactions, in order
	ckpt      CheckpointState
	failOn    string
	lostOn    string           // a statement containing it loses the connection
	found     map[string]int64 // a statement containing a key reports that many rows
	bad       []string         // broken rules
}

func (s *simExecer) Exec(_ context.Context, q string) ([]int64, error) {
	s.queries++
	s.qs = append(s.qs, q)
	var counts []int64
	for i, stmt := range strings.Split(q, ";\n") {
		if stmt == "COMMIT" && i > 0 {
			s.bad = append(s.bad, "a COMMIT after statements of its transaction in one query: "+q)
		}
		if s.lostOn != "" && strings.Contains(stmt, s.lostOn) {
			return nil, mysql.ErrInvalidConn
		}
		if s.failOn != "" && strings.Contains(stmt, s.failOn) {
			return counts, &mysql.MySQLError{Number: 1062, Message: "Duplicate entry"}
		}
		n := int64(-1)
		for k, v := range s.found {
			if strings.Contains(stmt, k) {
				n = v
			}
		}
		counts = append(counts, n)
		switch {
		case stmt == "BEGIN":
			s.open = nil
		case stmt == "COMMIT":
			s.committed = append(s.committed, s.open...)
			for _, o := range s.open {
				if strings.HasPrefix(o, "INSERT INTO `pitr`.`checkpoint`") {
					// VALUES ('name','file',pos,'gtid',...
					f := strings.Split(strings.SplitN(o, "VALUES (", 2)[1], ",")
					s.ckpt.End.File = strings.Trim(f[1], "'")
					s.ckpt.End.Offset, _ = strconv.ParseInt(f[2], 10, 64)
				}
			}
			s.open = nil
		case stmt == "ROLLBACK":
			s.open = nil
		default:
			s.open = append(s.open, stmt)
		}
	}
	return counts, nil
}

func (s *simExecer) ReadCheckpoint(context.Context, *Checkpoint) (CheckpointState, bool, error) {
	return s.ckpt, s.ckpt.End.File != "", nil
}

// dataOf is the row statements of stmts: what grouping transactions leaves unchanged.
func dataOf(stmts []string) string {
	var b strings.Builder
	for _, s := range stmts {
		if !strings.HasPrefix(s, "INSERT INTO `pitr`.`checkpoint`") {
			b.WriteString(s + "\n")
		}
	}
	return b.String()
}

// TestApplierGroups: small transactions share a target transaction. The target commits the
// same row statements as one transaction per source transaction would, and the checkpoint of
// the last; after a refused statement, nothing of its target transaction is committed, the
// error names the source transaction, and nothing is run again; a lost connection leaves the
// last COMMIT to be confirmed by the next connection's checkpoint.
func TestApplierGroups(t *testing.T) {
	ck := &Checkpoint{DB: "pitr", Table: "checkpoint", Name: "x"}
	var refSim simExecer
	ra, _, err := applyFixture(t, &refSim, ApplierOptions{Checkpoint: ck}, Window{})
	if err != nil {
		t.Fatal(err)
	}
	ra.Close()
	refN, refRows, refLast := ra.Committed()

	for _, tc := range []struct {
		pipeline bool
		maxBatch int
	}{{false, 1 << 20}, {true, 1 << 20}, {false, 300}, {true, 300}, {false, 1000}} {
		pipeline := tc.pipeline
		t.Run(fmt.Sprintf("pipeline=%v/batch=%d", pipeline, tc.maxBatch), func(t *testing.T) {
			opts := ApplierOptions{Checkpoint: ck, MaxBatch: tc.maxBatch, Pipeline: pipeline}
			sim := &simExecer{}
			a, _, err := applyFixture(t, sim, opts, Window{})
			if cerr := a.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			n, rows, last := a.Committed()
			if n != refN || rows != refRows || last != refLast || sim.ckpt.End != refLast.End {
				t.Errorf("committed %d %+v %v (checkpoint %v), want %d %+v %v", n, rows, last, sim.ckpt.End, refN, refRows, refLast)
			}
			if dataOf(sim.committed) != dataOf(refSim.committed) {
				t.Errorf("the target committed\n%.1500s\nnot\n%.1500s", dataOf(sim.committed), dataOf(refSim.committed))
			}
			if tc.maxBatch > 1000 && sim.queries*3 > refSim.queries {
				t.Errorf("%d queries, against %d with one statement each", sim.queries, refSim.queries)
			}

			// A refused statement: its target transaction is rolled back, nothing is retried.
			bad := &simExecer{failOn: "UPDATE `shop`.`orders`"}
			a, _, err = applyFixture(t, bad, opts, Window{})
			if cerr := a.Close(); err == nil {
				err = cerr
			}
			var se *StatementError
			if !errors.As(err, &se) || !strings.HasPrefix(se.Stmt, "UPDATE `shop`.`orders`") || strings.Contains(se.Stmt, ";\n") {
				t.Fatalf("err = %v, want the refused UPDATE alone", err)
			}
			if bad.fails() != 1 {
				t.Errorf("the refused statement was sent %d times", bad.fails())
			}
			n, _, last = a.Committed()
			if last.End != bad.ckpt.End || !strings.HasPrefix(dataOf(refSim.committed), dataOf(bad.committed)) {
				t.Errorf("after the failure: %d committed up to %v, checkpoint %v", n, last.End, bad.ckpt.End)
			}
			if se.Txn.Start.Before(last.End) {
				t.Errorf("the failed transaction %v is before the last committed end %v", se.Txn.Start, last.End)
			}
			if strings.Contains(dataOf(bad.committed), "UPDATE `shop`.`orders`") && !strings.Contains(dataOf(refSim.committed[:len(bad.committed)]), "UPDATE `shop`.`orders`") {
				t.Error("the refused statement's transaction committed")
			}

			// A lost connection.
			lost := &simExecer{lostOn: "UPDATE `shop`.`orders`"}
			a, _, _ = applyFixture(t, lost, opts, Window{})
			a.Close()
			// The target committed at least what was confirmed, at most that and the unknown.
			n, _, last = a.Committed()
			ran := int64(0)
			for _, t := range refSim.committed[:len(lost.committed)] {
				if strings.HasPrefix(t, "INSERT INTO `pitr`.`checkpoint`") {
					ran++
				}
			}
			if lost.ckpt.End.Before(last.End) || n > 0 && lost.ckpt.End != last.End && len(a.Unknown()) == 0 {
				t.Errorf("after a lost connection: %d confirmed up to %v, %d unknown; the target's checkpoint %v",
					n, last.End, len(a.Unknown()), lost.ckpt.End)
			}
		})
	}
}

// fails is how many queries held failOn.
func (s *simExecer) fails() int {
	n := 0
	for _, q := range s.qs {
		if strings.Contains(q, s.failOn) {
			n++
		}
	}
	return n
}

// TestApplierRowCounts: a row statement whose count differs from the binlog's stops the apply
// with the statement, its table and rows; its target transaction is rolled back, and the
// transactions grouped with it are not committed.
func TestApplierRowCounts(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		pipeline bool
		maxBatch int
	}{{false, 1 << 20}, {true, 1 << 20}, {false, 80}, {true, 80}} {
		pipeline := tc.pipeline
		// With 80-byte batches each transaction is a target transaction of its own.
		alone := tc.maxBatch == 80
		sim := &simExecer{found: map[string]int64{"`id` IN (5,6,7)": 2, "WHERE `id`=": 1, "INSERT INTO `db`.`t`": 1}}
		a := NewApplier(sim, ApplierOptions{Checkpoint: &Checkpoint{DB: "pitr", Table: "checkpoint", Name: "x"}, MaxBatch: tc.maxBatch, Pipeline: pipeline})
		write := func(i int64, stmt string, c RowCheck) error {
			if err := a.Begin(ctx, TxnInfo{Start: binlog.Position{File: "f.000001", Offset: 100 * i}, GTID: fmt.Sprintf("0-1-%d", i)}); err != nil {
				return err
			}
			if err := a.WriteRows(ctx, []byte(stmt), c); err != nil {
				return err
			}
			return a.Commit(ctx, TxnSummary{End: binlog.Position{File: "f.000001", Offset: 100*i + 50}, Updates: c.Rows})
		}
		var err error
		for i, st := range []struct {
			stmt string
			c    RowCheck
		}{
			{"INSERT INTO `db`.`t` (`id`) VALUES (1)", RowCheck{Rows: 1}},
			{"UPDATE `db`.`t` SET `v`=1 WHERE `id`=1 LIMIT 1", RowCheck{Rows: 1, Where: len("UPDATE `db`.`t` SET `v`=1")}},
			{"DELETE FROM `db`.`t` WHERE `id` IN (5,6,7) ORDER BY `id`", RowCheck{Rows: 3, Where: len("DELETE FROM `db`.`t`")}},
			{"UPDATE `db`.`t` SET `v`=2 WHERE `id`=2 LIMIT 1", RowCheck{Rows: 1, Where: len("UPDATE `db`.`t` SET `v`=2")}},
		} {
			if err = write(int64(i+1), st.stmt, st.c); err != nil {
				break
			}
		}
		if cerr := a.Close(); err == nil {
			err = cerr
		}
		var rc *RowCountError
		var se *StatementError
		if !errors.As(err, &rc) || !errors.As(err, &se) {
			t.Fatalf("pipeline %v: err = %v, want a RowCountError", pipeline, err)
		}
		for _, want := range []string{"f.000001:300: transaction (GTID 0-1-3)", "table `db`.`t`: the DELETE found 2 rows where the source deleted 3",
			"rows `id` IN (5,6,7)", "statement: DELETE FROM `db`.`t`"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("pipeline %v: %q lacks %q", pipeline, err, want)
			}
		}
		// Grouped, the whole target transaction is rolled back; alone, the two before commit.
		want := int64(0)
		if alone {
			want = 2
		}
		if strings.Count(dataOf(sim.committed), "`db`.`t`") != int(want) || sim.qs[len(sim.qs)-1] != "ROLLBACK" {
			t.Errorf("%+v: committed %q; last query %q", tc, sim.committed, sim.qs[len(sim.qs)-1])
		}
		for _, q := range sim.qs {
			if alone && strings.Contains(q, "`id`=2") {
				t.Errorf("%+v: a statement after the failing one was sent: %q", tc, q)
			}
		}
		if n, _, last := a.Committed(); n != want || n > 0 && last.End != sim.ckpt.End {
			t.Errorf("%+v: %d commits counted up to %v, checkpoint %v", tc, n, last.End, sim.ckpt.End)
		}
	}
}

// TestApplierBeginStartsBatch: whatever the batch size, every transaction commits once, with
// the checkpoint of the last.
func TestApplierBeginStartsBatch(t *testing.T) {
	ck := &Checkpoint{DB: "pitr", Table: "checkpoint", Name: "x"}
	ctx := context.Background()
	run := func(maxBatch int) *simExecer {
		sim := &simExecer{}
		a := NewApplier(sim, ApplierOptions{Checkpoint: ck, MaxBatch: maxBatch})
		for i := int64(1); i <= 4; i++ {
			start := binlog.Position{File: "f.000001", Offset: 100 * i}
			if err := a.Begin(ctx, TxnInfo{Start: start}); err != nil {
				t.Fatal(err)
			}
			if err := a.WriteRows(ctx, []byte("UPDATE `t` SET `v`=1 WHERE `id`="+strconv.FormatInt(i, 10)), RowCheck{Rows: 1}); err != nil {
				t.Fatal(err)
			}
			if err := a.Commit(ctx, TxnSummary{End: binlog.Position{File: "f.000001", Offset: 100*i + 50}, Updates: 1}); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if n, _, _ := a.Committed(); n != 4 {
			t.Errorf("max batch %d: %d commits counted, want 4", maxBatch, n)
		}
		return sim
	}
	for mb := 0; mb <= 200; mb += 7 {
		sim := run(mb)
		if sim.ckpt.End.Offset != 450 || strings.Count(dataOf(sim.committed), "UPDATE `t`") != 4 || len(sim.open) != 0 {
			t.Errorf("max batch %d: checkpoint %v, committed %q", mb, sim.ckpt.End, sim.committed)
		}
	}
}

// TestApplierShapes: small transactions, a big one that does not fit a batch, DDL and a
// transaction cut off by the end of the source, at many batch sizes: every complete transaction
// commits once, in order, with the checkpoint of the last; the cut one never; a COMMIT never
// shares a query with statements of its own transaction; a DDL statement never runs in a
// target transaction with statements of another source transaction.
func TestApplierShapes(t *testing.T) {
	ck := &Checkpoint{DB: "pitr", Table: "checkpoint", Name: "x"}
	ctx := context.Background()
	type txn struct {
		stmts []string
		cut   bool // rolled back: the source ends inside it
	}
	small := func(i int) txn {
		return txn{stmts: []string{fmt.Sprintf("UPDATE `t` SET `v`=%d WHERE `id`=%d", i, i)}}
	}
	big := txn{}
	for i := range 40 {
		big.stmts = append(big.stmts, fmt.Sprintf("INSERT INTO `t` (`id`) VALUES (%d)", 1000+i))
	}
	ddl := txn{stmts: []string{"USE `db`", "ALTER TABLE t ADD COLUMN c INT"}}
	for _, shape := range []struct {
		name string
		txns []txn
	}{
		{"small, big, small", []txn{small(1), small(2), big, small(3)}},
		{"small, ddl, small", []txn{small(1), small(2), ddl, small(3), small(4)}},
		{"small, cut small", []txn{small(1), small(2), {stmts: small(3).stmts, cut: true}}},
		{"small, cut big", []txn{small(1), {stmts: big.stmts, cut: true}}},
		{"cut big alone", []txn{{stmts: big.stmts, cut: true}}},
	} {
		for _, mb := range []int{0, 60, 200, 700, 1 << 20} {
			for _, pipeline := range []bool{false, true} {
				sim := &simExecer{}
				a := NewApplier(sim, ApplierOptions{Checkpoint: ck, MaxBatch: mb, Pipeline: pipeline})
				var want []string
				var wantEnd, commits int64
				for i, tx := range shape.txns {
					pos := int64(100 * (i + 1))
					if err := a.Begin(ctx, TxnInfo{Start: binlog.Position{File: "f.000001", Offset: pos}}); err != nil {
						t.Fatal(err)
					}
					for _, st := range tx.stmts {
						var err error
						if strings.HasPrefix(st, "USE") || strings.HasPrefix(st, "ALTER") {
							err = a.Write(ctx, []byte(st))
						} else {
							err = a.WriteRows(ctx, []byte(st), RowCheck{Rows: 1})
						}
						if err != nil {
							t.Fatal(err)
						}
					}
					if tx.cut {
						if err := a.Rollback(ctx); err != nil {
							t.Fatal(err)
						}
						continue
					}
					if err := a.Commit(ctx, TxnSummary{End: binlog.Position{File: "f.000001", Offset: pos + 50}, Updates: 1}); err != nil {
						t.Fatal(err)
					}
					want = append(want, tx.stmts...)
					wantEnd = pos + 50
					commits++
				}
				if err := a.Close(); err != nil {
					t.Fatal(err)
				}
				what := fmt.Sprintf("%s, max batch %d, pipeline %v", shape.name, mb, pipeline)
				if got := dataOf(sim.committed); got != dataOf(want) {
					t.Errorf("%s: committed\n%s\nwant\n%s", what, got, dataOf(want))
				}
				if len(sim.open) != 0 || sim.ckpt.End.Offset != wantEnd {
					t.Errorf("%s: left open %q, checkpoint %v, want end %d", what, sim.open, sim.ckpt.End, wantEnd)
				}
				if n, _, _ := a.Committed(); n != commits {
					t.Errorf("%s: %d commits counted, want %d", what, n, commits)
				}
				for _, b := range sim.bad {
					t.Errorf("%s: %.300s", what, b)
				}
				// The DDL's target transaction holds no other source transaction.
				for _, q := range sim.qs {
					if strings.Contains(q, "ALTER TABLE") && strings.Contains(q, "UPDATE `t`") {
						t.Errorf("%s: DDL with another transaction's rows: %q", what, q)
					}
				}
			}
		}
	}
}

// TestRetryable: only the server's "try again" errors are retried; a statement's own error,
// wrapped as Apply returns it, is not.
func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&mysql.MySQLError{Number: 1213, Message: "Deadlock found"}, true},
		{&mysql.MySQLError{Number: 1205, Message: "Lock wait timeout exceeded"}, true},
		{stmtError(TxnInfo{}, "UPDATE t", &mysql.MySQLError{Number: 1213}), true},
		{&mysql.MySQLError{Number: 1062, Message: "Duplicate entry"}, false},
		{stmtError(TxnInfo{}, "UPDATE t", &RowCountError{Stmt: "UPDATE t", Check: RowCheck{Rows: 1}}), false},
		{errors.New("Error 1213"), false},
	} {
		if got := Retryable(tc.err); got != tc.want {
			t.Errorf("Retryable(%v) = %v", tc.err, got)
		}
	}
}
