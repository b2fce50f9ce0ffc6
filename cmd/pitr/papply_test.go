package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

// The parallel apply tests replay a workload made for it: a first phase of mostly disjoint
// transactions (inserts, updates and deletes of rows a few thousand transactions old, now and then
// a keyless table), DDL, then a
// conflict-heavy phase (a hot row, unique key values handed from row to row, a foreign key parent
// and child with ON DELETE CASCADE, the keyless table, a table the DDL created).

const parSchema = `CREATE DATABASE par;
CREATE TABLE par.acct (id INT PRIMARY KEY, bal BIGINT NOT NULL, tag VARCHAR(30) NOT NULL, UNIQUE KEY (tag));
CREATE TABLE par.nokey (k INT, v VARCHAR(20));
CREATE TABLE par.parent (id INT PRIMARY KEY, n INT NOT NULL);
CREATE TABLE par.child (id INT PRIMARY KEY, pid INT NOT NULL, FOREIGN KEY (pid) REFERENCES par.parent (id) ON DELETE CASCADE);
INSERT INTO par.acct SELECT seq, 0, CONCAT('seed-', seq) FROM par.seq_1_to_100`

const parWorkload = `CREATE PROCEDURE par.disjoint(n INT)
BEGIN
  DECLARE i INT DEFAULT 1;
  WHILE i <= n DO
    START TRANSACTION;
    INSERT INTO par.acct VALUES (1000000 + i, i, CONCAT('d-', i));
    IF i % 3 = 0 THEN UPDATE par.acct SET bal = bal * 2 + 1 WHERE id = 1000000 + i - 3000; END IF;
    IF i % 5 = 0 THEN DELETE FROM par.acct WHERE id = 1000000 + i - 3001; END IF;
    IF i = 7777 THEN UPDATE par.acct SET bal = bal + 1 WHERE id = 50; END IF;
    IF i % 4999 = 0 THEN INSERT INTO par.nokey VALUES (i % 7, 'd'); END IF;
    COMMIT;
    SET i = i + 1;
  END WHILE;
END//
CREATE PROCEDURE par.conflicts(n INT)
BEGIN
  DECLARE i INT DEFAULT 1;
  WHILE i <= n DO
    START TRANSACTION;
    UPDATE par.acct SET bal = bal + i WHERE id = 1;
    IF i % 4 = 0 THEN
      UPDATE par.acct SET tag = CONCAT('moved-', i) WHERE id = 2 + i % 20;
      COMMIT;
      START TRANSACTION;
      INSERT INTO par.acct (id, bal, tag, note) VALUES (2000000 + i, 0, CONCAT('seed-', 2 + i % 20), 'u');
      DELETE FROM par.acct WHERE id = 2000000 + i;
      UPDATE par.acct SET tag = CONCAT('seed-', 2 + i % 20) WHERE id = 2 + i % 20;
    END IF;
    IF i % 3 = 0 THEN
      INSERT INTO par.parent VALUES (i, i);
      INSERT INTO par.child VALUES (i, i);
    END IF;
    IF i % 6 = 0 THEN DELETE FROM par.parent WHERE id = i - 3; END IF;
    IF i % 5 = 0 THEN INSERT INTO par.nokey VALUES (i % 9, 'c'); DELETE FROM par.nokey WHERE k = (i + 4) % 9 LIMIT 1; END IF;
    INSERT INTO par.late VALUES (i, i) ON DUPLICATE KEY UPDATE v = v + 1;
    COMMIT;
    SET i = i + 1;
  END WHILE;
END`

var parTables = []string{"par.acct", "par.nokey", "par.parent", "par.child", "par.late"}

// TestParallelApply shares one source server among its subtests.
func TestParallelApply(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB servers")
	}
	pitrBinary(t)
	src := mariadbtest.Start(t, mariadbtest.Options{MaxBinlogSize: 1 << 20})
	ctx := context.Background()
	if err := src.ExecScript(ctx, parSchema+";\nDELIMITER //\n"+parWorkload+"//\nDELIMITER ;\n"); err != nil {
		t.Fatal(err)
	}
	if err := src.FlushBinlogs(ctx); err != nil {
		t.Fatal(err)
	}
	src.Exec(t, "CALL par.disjoint(?)", 20000)
	src.Exec(t, "ALTER TABLE par.acct ADD COLUMN note VARCHAR(10) NOT NULL DEFAULT 'n'")
	src.Exec(t, "CREATE TABLE par.late (id INT PRIMARY KEY, v INT NOT NULL)")
	src.Exec(t, "CALL par.conflicts(?)", 3000)
	files := src.WrittenBinlogs(t)
	a := &parFixture{src: src, files: files}
	t.Run("equals source", a.testEquals)
	t.Run("kill in flight", a.testKillInFlight)
	t.Run("row count", a.testRowCount)
}

type parFixture struct {
	src   *mariadbtest.Server
	files []string
}

func newParTarget(t *testing.T) *mariadbtest.Server {
	t.Helper()
	s := mariadbtest.Start(t, mariadbtest.Options{NoBinlog: true})
	s.Exec(t, parSchema+";\nCREATE USER '"+applyUser+"'@'%' IDENTIFIED BY '"+applyPassword+"';\nGRANT ALL ON *.* TO '"+applyUser+"'@'%'")
	return s
}

func sameParData(t *testing.T, want, got *mariadbtest.Server) {
	t.Helper()
	for _, tbl := range parTables {
		w, g := tableSum(t, want.DB, tbl), tableSum(t, got.DB, tbl)
		if w != g {
			t.Errorf("%s: source %s, target %s", tbl, w, g)
		}
	}
}

func (a *parFixture) testEquals(t *testing.T) {
	t.Parallel()
	tgt := newParTarget(t)
	res := runApplyPitr(t, append(targetArgs(tgt, "--yes", "--threads=4"), a.files...)...)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	sameParData(t, a.src, tgt)
}

// testKillInFlight kills pitr (SIGKILL) while transactions are open on several of its
// connections, then lets a last run finish: nothing is lost or applied twice. The test holds a
// lock on a row a transaction in the middle of the binlogs updates: the group holding it waits,
// the groups after it run ahead and wait for their turn to commit, each on its connection.
func (a *parFixture) testKillInFlight(t *testing.T) {
	t.Parallel()
	tgt := newParTarget(t)
	ctx := context.Background()
	args := append(targetArgs(tgt, "--yes", "--threads=4"), a.files...)
	for trial := 0; trial < 2; trial++ {
		lock, err := tgt.DB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var bal int64
		lock.ExecContext(ctx, "BEGIN")
		if err := lock.QueryRowContext(ctx, "SELECT bal FROM par.acct WHERE id = 50 FOR UPDATE").Scan(&bal); err != nil {
			t.Fatal(err)
		}
		cmd, stdout, stderr := pitrCmd(t, ctx, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		open := 0
		finished := false
	poll:
		for deadline := time.Now().Add(150 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			select {
			case err = <-done:
				finished = true
				break poll
			default:
			}
			// SHOW ENGINE INNODB STATUS lists every open transaction; MariaDB 10.11's
			// INNODB_TRX leaves some out.
			var typ, name, status string
			if qerr := tgt.DB.QueryRow("SHOW ENGINE INNODB STATUS").Scan(&typ, &name, &status); qerr != nil {
				t.Fatal(qerr)
			}
			n := 0
			lines := strings.Split(status, "\n")
			for i, l := range lines {
				if !strings.HasPrefix(l, "---TRANSACTION") || !strings.Contains(l, "ACTIVE") {
					continue
				}
				for _, m := range lines[i+1:] {
					if strings.HasPrefix(m, "---") {
						break
					}
					if strings.Contains(m, "thread id") && strings.Contains(m, applyUser) {
						n++
						break
					}
				}
			}
			// Once the group holding the locked row waits for it: the groups after it
			// are then running or done, waiting for their turn.
			if !strings.Contains(status, "LOCK WAIT") {
				n = 0
			}
			open = max(open, n)
			if n >= 2 {
				break
			}
		}
		if !finished {
			if open < 2 {
				cmd.Process.Signal(syscall.SIGQUIT) // its goroutines, for the failure below
				time.Sleep(time.Second)
			}
			cmd.Process.Signal(syscall.SIGKILL)
			err = <-done
		}
		lock.ExecContext(ctx, "ROLLBACK")
		lock.Close()
		noPassword(t, stdout.String(), stderr.String())
		var ee *exec.ExitError
		if finished || !errors.As(err, &ee) || ee.ExitCode() != -1 {
			t.Fatalf("trial %d: pitr ended by itself: %v\n%s", trial, err, stderr.String())
		}
		if open < 2 {
			t.Errorf("trial %d: killed with %d transactions open; pitr's stderr:\n%s", trial, open, stderr.String())
		}
		t.Logf("trial %d: killed with %d transactions open, one waiting for the locked row", trial, open)
	}
	res := runApplyPitr(t, args...)
	if res.code != 0 {
		t.Fatalf("final run: exit %d\n%s", res.code, res.stderr)
	}
	sameParData(t, a.src, tgt)
}

// testRowCount: a row the target lacks stops a parallel run where it stops a serial one, with
// the same error, the same checkpoint and the same data: only whole target transactions before
// the failing one, in order.
func (a *parFixture) testRowCount(t *testing.T) {
	t.Parallel()
	type outcome struct {
		code       int
		errLine    string
		checkpoint ckRow
		sums       []string
	}
	run := func(threads int) outcome {
		tgt := newParTarget(t)
		tgt.Exec(t, "DELETE FROM par.acct WHERE id = 50")
		res := runApplyPitr(t, append(targetArgs(tgt, "--yes", fmt.Sprintf("--threads=%d", threads)), a.files...)...)
		o := outcome{code: res.code, checkpoint: checkpointRow(t, tgt)}
		o.errLine = regexp.MustCompile(`(?m)stopped: .*$`).FindString(res.stderr)
		for _, tbl := range parTables[:4] {
			o.sums = append(o.sums, tableSum(t, tgt.DB, tbl))
		}
		if !strings.Contains(res.stderr, "the UPDATE found 0 rows where the source updated 1") {
			t.Errorf("threads %d: stderr:\n%s", threads, res.stderr)
		}
		return o
	}
	serial, par := run(1), run(4)
	if serial.code != 3 || fmt.Sprint(serial) != fmt.Sprint(par) {
		t.Errorf("serial run: %+v\nparallel run: %+v", serial, par)
	}
}
