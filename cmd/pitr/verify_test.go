package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

// The verify tests replay one small source binlog into copies of its first two transactions
// (one database per case on one target, through --rewrite-db), each copy damaged the way a
// restored target can differ from the source, and check that the apply stops at the first
// transaction the damage affects, names it, and leaves nothing of it or after it.

const verifyTables = `CREATE TABLE %[1]s.k (id INT PRIMARY KEY, a INT NOT NULL, note VARCHAR(20));
CREATE TABLE %[1]s.nk (x INT, y VARCHAR(10))`

// verifyTxns are the source transactions, one statement each. The first two make the base
// every case starts from.
var verifyTxns = []string{
	"INSERT INTO v.k VALUES (1,1,NULL),(2,2,NULL),(3,3,NULL),(4,4,NULL),(5,5,NULL),(6,6,NULL),(7,7,NULL),(8,8,NULL),(9,9,NULL),(10,10,NULL)",
	"INSERT INTO v.nk VALUES (1,'a'),(1,'a'),(2,'b'),(3,'c'),(3,'c')",
	"UPDATE v.k SET a=a+100 WHERE id BETWEEN 5 AND 9",  // T2: one folded CASE update of 5 rows
	"DELETE FROM v.nk WHERE x=1 LIMIT 1",               // T3: one of two identical rows
	"DELETE FROM v.k WHERE id IN (2,3,4)",              // T4: one folded IN delete
	"UPDATE v.k SET note='z' WHERE id=10",              // T5
	"INSERT INTO v.k VALUES (11,11,NULL),(12,12,NULL)", // T6
	"DELETE FROM v.nk WHERE x=3",                       // T7: both identical rows
}

type verifyFixture struct {
	damagedK int64 // rows of k the case removed or changed
	src      *mariadbtest.Server
	tgt      *mariadbtest.Server
	files    []string
	start    []string // start[i]: file:pos where verifyTxns[i] starts
	gtid     []string
}

func TestApplyVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB servers")
	}
	pitrBinary(t)
	ctx := context.Background()
	src := mariadbtest.Start(t, mariadbtest.Options{})
	src.Exec(t, "CREATE DATABASE v;\n"+fmt.Sprintf(verifyTables, "v"))
	if err := src.FlushBinlogs(ctx); err != nil {
		t.Fatal(err)
	}
	f := &verifyFixture{src: src}
	for _, q := range verifyTxns {
		var file, pos, skip1, skip2 string
		if err := src.DB.QueryRow("SHOW MASTER STATUS").Scan(&file, &pos, &skip1, &skip2); err != nil {
			t.Fatal(err)
		}
		f.start = append(f.start, file+":"+pos)
		src.Exec(t, q)
		var g string
		src.DB.QueryRow("SELECT @@gtid_binlog_pos").Scan(&g)
		f.gtid = append(f.gtid, g)
	}
	f.files = src.WrittenBinlogs(t)
	f.tgt = newTarget(t)

	t.Run("undamaged", f.testUndamaged)
	t.Run("folded update finds a row missing", f.testUpdateMissing)
	t.Run("keyless delete finds no duplicate", f.testKeylessMissing)
	t.Run("folded delete finds a row missing", f.testDeleteMissing)
	t.Run("keyless delete of both duplicates finds one", f.testKeylessBoth)
	t.Run("before image", f.testBeforeImage)
	t.Run("statement error, dry run agrees", f.testStatementError)
	t.Run("triggers", f.testTriggers)
	t.Run("piped SQL output checks rows", f.testPipedRowChecks)
	t.Run("lock wait is retried from the checkpoint", f.testLockWait)
}

// base makes database db on the target hold the first two source transactions, applied by
// pitr (so its checkpoint row, named db, stands after them).
func (f *verifyFixture) base(t *testing.T, db string) {
	t.Helper()
	f.tgt.Exec(t, "CREATE DATABASE "+db+";\n"+fmt.Sprintf(verifyTables, db))
	res := runApplyPitr(t, f.args(db, "--stop-position", f.start[2])...)
	if res.code != 0 {
		t.Fatalf("base %s: exit %d\n%s", db, res.code, res.stderr)
	}
	if n := f.count(t, db+".k", ""); n != 10 {
		t.Fatalf("base %s: %d rows in k", db, n)
	}
}

func (f *verifyFixture) args(db string, more ...string) []string {
	a := targetArgs(f.tgt, "--yes", "--rewrite-db", "v="+db, "--checkpoint-name", db)
	a = append(a, more...)
	return append(a, f.files...)
}

func (f *verifyFixture) count(t *testing.T, tbl, where string) int64 {
	t.Helper()
	var n int64
	q := "SELECT COUNT(*) FROM " + tbl
	if where != "" {
		q += " WHERE " + where
	}
	if err := f.tgt.DB.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *verifyFixture) checkpoint(t *testing.T, name string) string {
	t.Helper()
	var pos string
	err := f.tgt.DB.QueryRow("SELECT CONCAT(binlog_file, ':', binlog_pos) FROM pitr.checkpoint WHERE name = ?", name).Scan(&pos)
	if err != nil && err != sql.ErrNoRows {
		t.Fatal(err)
	}
	return pos
}

// stopped checks a run that stopped at source transaction i: exit 1 (this run committed
// nothing: the transactions before i share its target transaction, or are the base), its
// position and GTID in the message with want, and the checkpoint still at the base.
func (f *verifyFixture) stopped(t *testing.T, db string, res runResult, i int, want ...string) {
	t.Helper()
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", res.code, res.stderr)
	}
	want = append(want, f.start[i]+": transaction (GTID "+f.gtid[i]+")")
	for _, w := range want {
		if !strings.Contains(res.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
		}
	}
	if ck := f.checkpoint(t, db); ck != f.start[2] {
		t.Errorf("checkpoint %s, want the base's %s", ck, f.start[2])
	}
	// Nothing of the transaction or after it: the base is untouched.
	if n := f.count(t, db+".k", "a = id AND note IS NULL"); n != 10-f.damagedK {
		t.Errorf("%s.k: %d rows as the base has them, want %d", db, n, 10-f.damagedK)
	}
}

func (f *verifyFixture) testUndamaged(t *testing.T) {
	f.damagedK = 0
	f.base(t, "c0")
	res := runApplyPitr(t, f.args("c0")...)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	for _, tbl := range []string{"k", "nk"} {
		if w, g := tableSum(t, f.src.DB, "v."+tbl), tableSum(t, f.tgt.DB, "c0."+tbl); w != g {
			t.Errorf("%s: source %s, target %s", tbl, w, g)
		}
	}
	// One of the two identical rows deleted, not both, not none.
	if n := f.count(t, "c0.nk", "x = 1"); n != 1 {
		t.Errorf("c0.nk: %d rows (1,'a'), want 1", n)
	}
}

func (f *verifyFixture) testUpdateMissing(t *testing.T) {
	f.damagedK = 1
	f.base(t, "c1")
	f.tgt.Exec(t, "DELETE FROM c1.k WHERE id = 7")
	res := runApplyPitr(t, f.args("c1")...)
	f.stopped(t, "c1", res, 2, "table `c1`.`k`: the UPDATE found 4 rows where the source updated 5", "rows `id` IN (5,6,7,8,9)",
		"statement: UPDATE `c1`.`k` SET `a`=CASE `id`")
	if n := f.count(t, "c1.k", "id > 10"); n != 0 {
		t.Errorf("c1.k: %d rows of a later transaction", n)
	}
}

func (f *verifyFixture) testKeylessMissing(t *testing.T) {
	f.damagedK = 0
	f.base(t, "c2")
	f.tgt.Exec(t, "DELETE FROM c2.nk WHERE x = 1")
	res := runApplyPitr(t, f.args("c2")...)
	f.stopped(t, "c2", res, 3, "table `c2`.`nk`: the DELETE found 0 rows where the source deleted 1", "rows `x`<=>1 AND `y`<=>")
	if n := f.count(t, "c2.nk", ""); n != 3 {
		t.Errorf("c2.nk: %d rows, want the 3 left", n)
	}
}

func (f *verifyFixture) testDeleteMissing(t *testing.T) {
	f.damagedK = 1
	f.base(t, "c3")
	f.tgt.Exec(t, "DELETE FROM c3.k WHERE id = 3")
	res := runApplyPitr(t, f.args("c3")...)
	f.stopped(t, "c3", res, 4, "table `c3`.`k`: the DELETE found 2 rows where the source deleted 3", "rows `id` IN (2,3,4)")
}

func (f *verifyFixture) testKeylessBoth(t *testing.T) {
	f.damagedK = 0
	f.base(t, "c4")
	f.tgt.Exec(t, "DELETE FROM c4.nk WHERE x = 3 LIMIT 1")
	res := runApplyPitr(t, f.args("c4")...)
	if res.code == 0 {
		t.Fatalf("exit 0 with one of the two rows the source deleted:\n%s", res.stderr)
	}
	// The transactions before it committed in their own target transaction or not, but the
	// one row (3,'c') is still there, and the stop names the delete.
	for _, w := range []string{f.start[7] + ": transaction (GTID " + f.gtid[7] + ")", "table `c4`.`nk`: the DELETE found 0 rows where the source deleted 1"} {
		if !strings.Contains(res.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
		}
	}
	if n := f.count(t, "c4.nk", "x = 3"); n != 1 {
		t.Errorf("c4.nk: %d rows (3,'c'), want the 1 there was", n)
	}
}

func (f *verifyFixture) testBeforeImage(t *testing.T) {
	f.damagedK = 1
	// Key only: the row is found, the column the update leaves alone stays different.
	f.base(t, "c6a")
	f.tgt.Exec(t, "UPDATE c6a.k SET a = -1 WHERE id = 10")
	res := runApplyPitr(t, f.args("c6a")...)
	if res.code != 0 {
		t.Fatalf("key only: exit %d\n%s", res.code, res.stderr)
	}
	if n := f.count(t, "c6a.k", "id = 10 AND a = -1 AND note = 'z'"); n != 1 {
		t.Errorf("key only: row 10 not updated as expected")
	}
	// --verify-before-image: the whole before image must match.
	f.base(t, "c6b")
	f.tgt.Exec(t, "UPDATE c6b.k SET a = -1 WHERE id = 10")
	res = runApplyPitr(t, f.args("c6b", "--verify-before-image")...)
	f.stopped(t, "c6b", res, 5, "table `c6b`.`k`: the UPDATE found 0 rows where the source updated 1", "rows `id`<=>10 AND `a`<=>10 AND `note`<=>NULL")
	if n := f.count(t, "c6b.k", "id = 10 AND a = -1 AND note IS NULL"); n != 1 {
		t.Errorf("before image: row 10 changed")
	}
}

// testStatementError: a refused statement stops the run once, without a second try, and the
// dry run piped into the client stops at the same statement with the same rows left.
func (f *verifyFixture) testStatementError(t *testing.T) {
	f.damagedK = 0
	for _, db := range []string{"c5a", "c5b"} {
		f.base(t, db)
		f.tgt.Exec(t, "INSERT INTO "+db+".k VALUES (11, -11, 'target')")
	}
	f.tgt.Exec(t, "SET GLOBAL log_output='TABLE', GLOBAL general_log=1")
	res := runApplyPitr(t, f.args("c5a")...)
	f.tgt.Exec(t, "SET GLOBAL general_log=0")
	f.stopped(t, "c5a", res, 6, "Duplicate entry '11'", "statement: INSERT INTO `c5a`.`k`")
	var sent int
	f.tgt.DB.QueryRow("SELECT COUNT(*) FROM mysql.general_log WHERE argument LIKE '%INSERT INTO `c5a`.`k`%(11,11,NULL)%'").Scan(&sent)
	if sent != 1 {
		t.Errorf("the refused INSERT was sent %d times", sent)
	}
	f.tgt.Exec(t, "TRUNCATE mysql.general_log")

	dry := runApplyPitr(t, f.args("c5b", "--dry-run")...)
	if dry.code != 0 {
		t.Fatalf("dry run: exit %d\n%s", dry.code, dry.stderr)
	}
	cl := f.tgt.Client(context.Background(), "--batch")
	cl.Stdin = strings.NewReader(dry.stdout)
	out, err := cl.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Duplicate entry '11'") {
		t.Errorf("mariadb < dry run: %v: %s", err, out)
	}
	for _, tbl := range []string{"k", "nk"} {
		if a, b := tableSum(t, f.tgt.DB, "c5a."+tbl), tableSum(t, f.tgt.DB, "c5b."+tbl); a != b {
			t.Errorf("%s: apply left %s, the dry run piped %s", tbl, a, b)
		}
	}
	if a, b := f.checkpoint(t, "c5a"), f.checkpoint(t, "c5b"); a != b {
		t.Errorf("checkpoints: apply %s, the dry run piped %s", a, b)
	}
}

func (f *verifyFixture) testTriggers(t *testing.T) {
	f.damagedK = 0
	f.base(t, "c7")
	f.tgt.Exec(t, "CREATE TRIGGER c7.k_audit AFTER INSERT ON c7.k FOR EACH ROW INSERT INTO c7.nk VALUES (NEW.id, 'trg')")
	for _, extra := range [][]string{nil, {"--dry-run"}} {
		res := runApplyPitr(t, f.args("c7", extra...)...)
		if res.code == 0 {
			t.Fatalf("%v: exit 0 with a trigger on a replayed table:\n%s", extra, res.stderr)
		}
		for _, w := range []string{"`c7`.`k_audit` (AFTER INSERT ON `c7`.`k`)", "Drop them for the apply and re-create them", "--allow-triggers"} {
			if !strings.Contains(res.stderr, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", extra, w, res.stderr)
			}
		}
		if res.stdout != "" {
			t.Errorf("%v: printed %q", extra, res.stdout)
		}
	}
	if ck := f.checkpoint(t, "c7"); ck != f.start[2] || f.count(t, "c7.k", "") != 10 || f.count(t, "c7.nk", "") != 5 {
		t.Errorf("something was written: checkpoint %s", ck)
	}
	// The SQL output cannot look at the target: its header warns when the schema it was given
	// (a dump of a database with the trigger) defines triggers.
	dump, err := exec.Command("mariadb-dump", "--no-defaults", "-uroot", "--socket="+f.tgt.Socket, "--databases", "c7").Output()
	if err != nil {
		t.Fatalf("mariadb-dump: %v", err)
	}
	dumpFile := filepath.Join(t.TempDir(), "c7.sql")
	if err := os.WriteFile(dumpFile, dump, 0o600); err != nil {
		t.Fatal(err)
	}
	out := runPitr(t, append([]string{"replay", "--schema", dumpFile}, f.files...)...)
	head, _, _ := strings.Cut(out.stdout, "\nBEGIN;")
	if out.code != 0 || !strings.Contains(head, "-- WARNING: the schema defines triggers: `c7`.`k_audit` (AFTER INSERT ON `c7`.`k`)") {
		var lines []string
		for _, l := range strings.Split(string(dump), "\n") {
			if strings.Contains(l, "TRIGGER") {
				lines = append(lines, l)
			}
		}
		t.Errorf("SQL output with a dump that has a trigger (%q): exit %d, header:\n%s\n%s", lines, out.code, head, out.stderr)
	}
	// A trigger on a table the replay does not write is no reason to stop.
	f.base(t, "c8")
	f.tgt.Exec(t, "CREATE TABLE c8.other (i INT)")
	f.tgt.Exec(t, "CREATE TRIGGER c8.other_t BEFORE INSERT ON c8.other FOR EACH ROW SET NEW.i = 1")
	if res := runApplyPitr(t, f.args("c8", "-t", "v.k")...); res.code != 0 {
		t.Errorf("trigger on another table: exit %d\n%s", res.code, res.stderr)
	}
	// --allow-triggers: the user's call; the trigger fires.
	res := runApplyPitr(t, f.args("c7", "--allow-triggers")...)
	if res.code != 0 || !strings.Contains(res.stderr, "--allow-triggers") {
		t.Fatalf("--allow-triggers: exit %d\n%s", res.code, res.stderr)
	}
	if n := f.count(t, "c7.nk", "y = 'trg'"); n != 2 {
		t.Errorf("--allow-triggers: the trigger wrote %d rows, want 2", n)
	}
}

// testLockWait: a lock wait timeout rolls the transaction back; the apply runs it again from
// the checkpoint and finishes.
func (f *verifyFixture) testLockWait(t *testing.T) {
	f.damagedK = 0
	f.base(t, "c9")
	f.tgt.Exec(t, "SET GLOBAL innodb_lock_wait_timeout = 1")
	defer f.tgt.Exec(t, "SET GLOBAL innodb_lock_wait_timeout = 50")
	ctx := context.Background()
	conn, err := f.tgt.DB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT * FROM c9.k WHERE id = 10 FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(2500 * time.Millisecond)
		conn.ExecContext(ctx, "ROLLBACK")
	}()
	res := runApplyPitr(t, f.args("c9")...)
	if res.code != 0 || !strings.Contains(res.stderr, "deadlock or lock wait") || !strings.Contains(res.stderr, "resuming after") {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	for _, tbl := range []string{"k", "nk"} {
		if w, g := tableSum(t, f.src.DB, "v."+tbl), tableSum(t, f.tgt.DB, "c9."+tbl); w != g {
			t.Errorf("%s: source %s, target %s", tbl, w, g)
		}
	}
}

// TestApplyTriggerInWindow: a trigger the source created inside the window stops the apply
// before it runs (the rows after it would fire it again), naming it with the ways out; the
// transactions before it are committed; --allow-triggers runs it.
func TestApplyTriggerInWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB servers")
	}
	pitrBinary(t)
	ctx := context.Background()
	src := mariadbtest.Start(t, mariadbtest.Options{})
	src.Exec(t, "CREATE DATABASE app;\nCREATE TABLE app.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT);\nCREATE TABLE app.log (id INT AUTO_INCREMENT PRIMARY KEY, t_id INT)")
	if err := src.FlushBinlogs(ctx); err != nil {
		t.Fatal(err)
	}
	src.Exec(t, "INSERT INTO app.t (v) VALUES (1)")
	var file, pos, s1, s2 string
	if err := src.DB.QueryRow("SHOW MASTER STATUS").Scan(&file, &pos, &s1, &s2); err != nil {
		t.Fatal(err)
	}
	src.Exec(t, "CREATE TRIGGER app.t_log AFTER INSERT ON app.t FOR EACH ROW INSERT INTO app.log (t_id) VALUES (NEW.id)")
	src.Exec(t, "INSERT INTO app.t (v) VALUES (2)")
	files := src.WrittenBinlogs(t)
	tgt := mariadbtest.Start(t, mariadbtest.Options{NoBinlog: true})
	tgt.Exec(t, "CREATE DATABASE app;\nCREATE TABLE app.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT);\nCREATE TABLE app.log (id INT AUTO_INCREMENT PRIMARY KEY, t_id INT);\n"+
		"CREATE USER '"+applyUser+"'@'%' IDENTIFIED BY '"+applyPassword+"';\nGRANT ALL ON *.* TO '"+applyUser+"'@'%'")
	args := append(targetArgs(tgt, "--yes"), files...)
	res := runApplyPitr(t, args...)
	if res.code != 3 {
		t.Fatalf("exit %d, want 3\n%s", res.code, res.stderr)
	}
	for _, w := range []string{file + ":" + pos + ": transaction", "the source created a trigger here", "app.t_log (AFTER INSERT ON app.t)",
		"--stop-position", "--allow-triggers", "statement: CREATE"} {
		if !strings.Contains(res.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
		}
	}
	var n, trg int64
	tgt.DB.QueryRow("SELECT COUNT(*) FROM app.t").Scan(&n)
	tgt.DB.QueryRow("SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'app'").Scan(&trg)
	if n != 1 || trg != 0 {
		t.Errorf("the target holds %d rows of app.t and %d triggers, want the 1 before the trigger and none", n, trg)
	}
	// --allow-triggers: the trigger is created, and fires for the replayed row; the binlog holds
	// the row it wrote on the source too, which then collides with it (with other keys it would
	// be there twice): what the flag accepts.
	res = runApplyPitr(t, append(targetArgs(tgt, "--yes", "--allow-triggers"), files...)...)
	tgt.DB.QueryRow("SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'app'").Scan(&trg)
	if res.code != 3 || trg != 1 || !strings.Contains(res.stderr, "Duplicate entry '1'") || !strings.Contains(res.stderr, "statement: INSERT INTO `app`.`log`") {
		t.Errorf("--allow-triggers: exit %d, %d triggers\n%s", res.code, trg, res.stderr)
	}
}

// testPipedRowChecks: the SQL output, piped into the client, stops at the first row statement
// that does not change the rows the source changed, before its transaction commits, where
// apply stops; with --row-checks=false it runs through and leaves the target diverged.
func (f *verifyFixture) testPipedRowChecks(t *testing.T) {
	pipe := func(t *testing.T, db string, more ...string) (string, error) {
		args := append([]string{"replay", "--rewrite-db", "v=" + db, "--start-position", f.start[2], "--batch", "100"}, more...)
		out := runPitr(t, append(args, f.files...)...)
		if out.code != 0 {
			t.Fatalf("replay: exit %d\n%s", out.code, out.stderr)
		}
		cl := f.tgt.Client(context.Background(), "--batch")
		cl.Stdin = strings.NewReader(out.stdout)
		msg, err := cl.CombinedOutput()
		return string(msg), err
	}
	for _, tc := range []struct {
		db, damage string
		table      string
		left       string // the rows the failed transaction leaves as they were
		leftN      int64
	}{
		{"p1", "DELETE FROM p1.k WHERE id = 7", "k", "a = id AND id BETWEEN 5 AND 9", 4},
		{"p2", "DELETE FROM p2.nk WHERE x = 1", "nk", "1 = 1", 3},
		{"p3", "DELETE FROM p3.k WHERE id = 3", "k", "id IN (2, 4)", 2},
		{"p4", "DELETE FROM p4.nk WHERE x = 3 LIMIT 1", "nk", "x = 3", 1},
	} {
		t.Run(tc.db, func(t *testing.T) {
			f.base(t, tc.db)
			f.tgt.Exec(t, tc.damage)
			msg, err := pipe(t, tc.db)
			if err == nil || !strings.Contains(msg, "ERROR 1690") || !strings.Contains(msg, "pitr: the statement before did not change") {
				t.Fatalf("piped: %v: %s", err, msg)
			}
			if n := f.count(t, tc.db+"."+tc.table, tc.left); n != tc.leftN {
				t.Errorf("%s: %d rows where %s, want the %d the failed transaction found", tc.table, n, tc.left, tc.leftN)
			}
		})
	}
	t.Run("without", func(t *testing.T) {
		f.base(t, "p5")
		f.tgt.Exec(t, "DELETE FROM p5.k WHERE id = 7")
		if msg, err := pipe(t, "p5", "--row-checks=false"); err != nil {
			t.Fatalf("--row-checks=false: the client stopped: %v: %s", err, msg)
		}
		if n := f.count(t, "p5.k", "id = 7"); n != 0 {
			t.Errorf("p5.k: row 7 is back")
		}
	})
}
