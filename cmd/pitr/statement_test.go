package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

// statementSource is a MIXED-format source (MariaDB's default) whose sessions may switch to
// STATEMENT format; the window after its first binlog file is what the tests replay.
func statementSource(t *testing.T, script string) (*mariadbtest.Server, []string) {
	t.Helper()
	ctx := context.Background()
	src := mariadbtest.Start(t, mariadbtest.Options{ExtraArgs: []string{"--binlog-format=MIXED"}})
	mustScript(t, src, "CREATE DATABASE app; CREATE DATABASE other")
	if err := src.FlushBinlogs(ctx); err != nil {
		t.Fatal(err)
	}
	mustScript(t, src, script)
	files, err := src.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return src, files[len(files)-1:]
}

// TestStatementFilter: with -t, a window of statements keeps exactly those that write the kept
// table; a statement that writes a kept and a left-out table, or reads a left-out one, stops the
// run naming it and its position, unless --skip-statements leaves it out.
func TestStatementFilter(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB servers")
	}
	ctx := context.Background()
	// MIXED logs each deterministic statement as it is.
	src, files := statementSource(t, `CREATE TABLE app.t (id INT PRIMARY KEY, v INT);
CREATE TABLE other.o (id INT PRIMARY KEY, v INT);
BEGIN; INSERT INTO app.t VALUES (1, 1), (2, 2); INSERT INTO other.o VALUES (1, 10); COMMIT;
UPDATE app.t SET v = v + 1;
INSERT INTO other.o VALUES (2, 20);
BEGIN; UPDATE other.o SET v = v * 2; DELETE FROM app.t WHERE id = 2; INSERT INTO app.t VALUES (3, 3); COMMIT;`)
	wantSum, wantRows := tableRows(t, src.DB, "app.t")
	if err := src.FlushBinlogs(ctx); err != nil {
		t.Fatal(err)
	}
	mustScript(t, src, `UPDATE app.t JOIN other.o ON other.o.id = app.t.id SET app.t.v = 0, other.o.v = 0;`)
	all, err := src.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, all[len(all)-1])

	res := runPitr(t, append([]string{"replay", "-t", "app.t", "--stop-position", filepath.Base(files[1]) + ":4"}, files...)...)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if strings.Contains(res.stdout, "other.o") || strings.Count(res.stdout, "app.t") != 5 { // the CREATE and four changes
		t.Errorf("want exactly the statements that write app.t:\n%s", res.stdout)
	}
	dst := mariadbtest.Start(t, mariadbtest.Options{NoBinlog: true})
	mustScript(t, dst, "CREATE DATABASE app")
	cmd := dst.Client(ctx)
	cmd.Stdin = strings.NewReader(res.stdout)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("piping: %v\n%s", err, msg)
	}
	if sum, rows := tableRows(t, dst.DB, "app.t"); sum != wantSum || strings.Join(rows, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("app.t differs:\nwant %s %v\ngot  %s %v", wantSum, wantRows, sum, rows)
	}

	res = runPitr(t, append([]string{"replay", "-t", "app.t"}, files...)...)
	wantFailure(t, res, exitError, filepath.Base(files[1])+":", "UPDATE app.t JOIN other.o", "kept `app`.`t` and `other`.`o`", "--skip-statements", "--stop-position")
	if strings.Contains(res.stdout, "\nUPDATE app.t JOIN") {
		t.Errorf("the stopped transaction reached the output:\n%s", res.stdout)
	}
	res = runPitr(t, append([]string{"replay", "-t", "app.t", "--skip-statements"}, files...)...)
	if res.code != 0 || !strings.Contains(res.stderr, "--skip-statements") || strings.Contains(res.stdout, "\nUPDATE app.t JOIN") {
		t.Errorf("--skip-statements: exit %d\nstderr: %s\nstdout: %s", res.code, res.stderr, res.stdout)
	}
	// Reading a table left out is as bad: the target would compute other rows.
	res = runPitr(t, append([]string{"replay", "-t", "app.t", "-t", "other.o", "--exclude-table", "other.o"}, files...)...)
	wantFailure(t, res, exitError, "other.o")
}

// statementWorkload needs every piece of session context a logged statement carries.
const statementWorkload = `CREATE TABLE app.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(100), d DATETIME(6), ts TIMESTAMP(6) NULL, f DOUBLE, n BIGINT) CHARSET latin1;
CREATE TABLE app.u (id INT PRIMARY KEY, v VARCHAR(100) CHARSET utf8mb4, k INT, UNIQUE KEY (k));
CREATE TABLE other.o (id INT PRIMARY KEY, v INT);
INSERT INTO app.u VALUES (1, 'one', 1), (2, 'two', 2), (3, 'three', 3);
INSERT INTO other.o VALUES (1, 10), (2, 20);
SET SESSION binlog_format = STATEMENT;
SET sql_mode = 'PIPES_AS_CONCAT,STRICT_ALL_TABLES'; SET time_zone = '+03:00'; SET lc_time_names = 'de_DE';
SET auto_increment_increment = 5, auto_increment_offset = 2; SET NAMES latin1;
SET @a = 'h' || X'E9' || 'llo', @b = 1.5, @c = 12345678901234, @d = NULL, @e = CAST(2.25 AS DECIMAL(10,3)), @f = -5, @g = 1e300/7;
BEGIN;
INSERT INTO app.t (v, d, ts, f) VALUES (@a || 'x', NOW(6), NOW(6), RAND());
INSERT INTO app.t (v, f, n) VALUES (DATE_FORMAT('2024-03-01', '%M'), @b + @c + @e + @f, UNIX_TIMESTAMP());
UPDATE app.t SET n = LAST_INSERT_ID() WHERE id = LAST_INSERT_ID();
INSERT INTO app.t (v, f) VALUES (CONCAT(@d, 'z'), @g);
INSERT INTO app.t (v) VALUES ('café: high bytes read as latin1');
COMMIT;
SET NAMES utf8mb4; SET time_zone = '-07:00';
INSERT INTO app.t (v, d, ts) VALUES ('tz', '2024-06-01 12:00:00', '2024-06-01 12:00:00.5');
SET INSERT_ID = 1000; INSERT INTO app.t (v) VALUES ('insert id');
INSERT INTO app.t (v, f) VALUES ('seeded', RAND(42)), ('seeded2', RAND());
SET sql_mode = DEFAULT, auto_increment_increment = 1, auto_increment_offset = 1;
INSERT INTO app.t (v, n) SELECT CONCAT('copy ', v), k FROM app.u WHERE k < 3 ORDER BY id;
UPDATE app.t JOIN app.u ON app.u.id = app.t.id - 1 SET app.t.n = app.u.k * 100, app.u.v = CONCAT(app.u.v, '!');
DELETE app.t FROM app.t JOIN app.u ON app.u.k = app.t.n WHERE app.u.k = 2;
REPLACE INTO app.u VALUES (3, 'replaced', 3);
INSERT INTO app.u VALUES (1, 'dup', 9) ON DUPLICATE KEY UPDATE v = CONCAT(v, ' dup'), k = VALUES(k);
SET time_zone = SYSTEM; INSERT INTO app.t (v, ts) VALUES ('system zone', '2024-03-01 10:00:00');
SET SESSION binlog_format = MIXED;
INSERT INTO app.t (v) VALUES (UUID());
-- Logged as rows with the statement in an Annotate_rows event, printed as a comment: its line
-- break and "*/" must not end the comment.
INSERT INTO app.t (v) VALUES (CONCAT(LEFT(UUID(), 0), 'a
*/ DELETE FROM app.u; -- '));
INSERT INTO app.t (v, d) VALUES ('plain', '2024-01-01');
`

// loadData runs LOAD DATA LOCAL under STATEMENT format (logged as Begin_load_query,
// Append_block and Execute_load_query events): escapes, NULLs, a column list with a user
// variable and a SET clause, REPLACE, and a file larger than one Append_block.
func loadData(t *testing.T, src *mariadbtest.Server) {
	t.Helper()
	dir := t.TempDir()
	small := filepath.Join(dir, "small.txt")
	os.WriteFile(small, []byte("1\tone\\ttab\n2\t\\N\n3\tthree \"q\" 'a' \\\\ back\n4\tline\\\nbreak\n"), 0o644)
	var big bytes.Buffer
	for i := 100; i < 30100; i++ {
		fmt.Fprintf(&big, "%d,\"row %d, with a comma\"\n", i, i)
	}
	bigPath := filepath.Join(dir, "big.csv")
	os.WriteFile(bigPath, big.Bytes(), 0o644)
	cmd := src.Client(context.Background(), "--batch", "--local-infile=1")
	cmd.Stdin = strings.NewReader(`SET SESSION binlog_format = STATEMENT;
CREATE TABLE app.l (id INT PRIMARY KEY, v VARCHAR(50), n INT);
LOAD DATA LOCAL INFILE '` + small + `' INTO TABLE app.l (id, @v) SET v = UPPER(@v), n = id * 2;
LOAD DATA LOCAL INFILE '` + small + `' REPLACE INTO TABLE app.l (id, v);
LOAD DATA LOCAL INFILE '` + bigPath + `' INTO TABLE app.l FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' (id, v);`)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("LOAD DATA: %v\n%s", err, msg)
	}
}

// xaTransactions interleaves XA transactions of two sessions: one committed after the other's
// prepare, one rolled back, one committed in one phase, and one left prepared (the replay must
// leave it out).
func xaTransactions(t *testing.T, src *mariadbtest.Server) {
	t.Helper()
	ctx := context.Background()
	var conns [2]*sql.Conn
	for i := range conns {
		c, err := src.DB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	for _, step := range []struct {
		conn int
		sql  string
	}{
		{0, "CREATE TABLE app.x (id INT PRIMARY KEY, v VARCHAR(20))"},
		{0, "XA START 'a'"}, {0, "INSERT INTO app.x VALUES (1, 'committed')"}, {0, "UPDATE app.u SET k = k + 100 WHERE id = 2"},
		{0, "XA END 'a'"}, {0, "XA PREPARE 'a'"},
		{1, "SET SESSION binlog_format = STATEMENT"},
		{1, "XA START 'b'"}, {1, "INSERT INTO app.x VALUES (2, 'rolled back')"}, {1, "XA END 'b'"}, {1, "XA PREPARE 'b'"},
		{0, "XA COMMIT 'a'"}, {1, "XA ROLLBACK 'b'"},
		{1, "XA START 'c'"}, {1, "INSERT INTO app.x VALUES (3, 'one phase')"}, {1, "XA END 'c'"}, {1, "XA COMMIT 'c' ONE PHASE"},
		{1, "XA START 'd'"}, {1, "INSERT INTO app.x VALUES (4, 'only prepared')"}, {1, "XA END 'd'"}, {1, "XA PREPARE 'd'"},
	} {
		if _, err := conns[step.conn].ExecContext(ctx, step.sql); err != nil {
			t.Fatalf("%s: %v", step.sql, err)
		}
	}
}

// tempTables interleaves two sessions' temporary tables of one name under STATEMENT format:
// the replay must keep them apart on its one session.
func tempTables(t *testing.T, src *mariadbtest.Server) {
	t.Helper()
	ctx := context.Background()
	var conns [2]*sql.Conn
	for i := range conns {
		c, err := src.DB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	for _, step := range []struct {
		conn int
		sql  string
	}{
		{0, "SET SESSION binlog_format = STATEMENT"},
		{1, "SET SESSION binlog_format = STATEMENT"},
		{0, "CREATE TEMPORARY TABLE app.tmp (x VARCHAR(20))"},
		{1, "CREATE TEMPORARY TABLE app.tmp (x VARCHAR(20), y INT)"},
		{0, "INSERT INTO app.tmp VALUES ('from session 0')"},
		{1, "INSERT INTO app.tmp VALUES ('from session 1', 1)"},
		{0, "INSERT INTO app.t (v) SELECT x FROM app.tmp"},
		{1, "INSERT INTO app.t (v, n) SELECT x, y FROM app.tmp"},
	} {
		if _, err := conns[step.conn].ExecContext(ctx, step.sql); err != nil {
			t.Fatalf("%s: %v", step.sql, err)
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

// TestStatementReplay replays STATEMENT and MIXED format binlogs into a target whose system
// time zone differs from the source's, through the SQL output and through apply; the tables
// must end identical.
func TestStatementReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB servers")
	}
	ctx := context.Background()
	src, files := statementSource(t, statementWorkload)
	tempTables(t, src)
	loadData(t, src)
	xaTransactions(t, src)
	// A stored procedure: its body's ";" belong to one statement, which the SQL output frames
	// with DELIMITER lines and apply sends whole; the CALL is logged as the statements it ran.
	mustScript(t, src, "CREATE TABLE app.sp (id INT PRIMARY KEY, v VARCHAR(20));\nDELIMITER //\n"+
		"CREATE PROCEDURE app.fill(IN n INT)\nBEGIN\n  DECLARE i INT DEFAULT 0;\n  WHILE i < n DO\n    SET i = i + 1;\n"+
		"    INSERT INTO app.sp VALUES (i, CONCAT('row;', i, ' $$'));\n  END WHILE;\nEND//\nDELIMITER ;\nCALL app.fill(5);")
	// The source's system zone, which the binlog does not name, as an offset.
	var diff string
	if err := src.DB.QueryRow("SELECT TIME_FORMAT(TIMEDIFF(NOW(), UTC_TIMESTAMP()), '%H:%i')").Scan(&diff); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(diff, "-") {
		diff = "+" + diff
	}
	res := runPitr(t, append([]string{"replay"}, files...)...)
	wantFailure(t, res, exitError, "time_zone SYSTEM", "--source-time-zone", "system zone")
	// One target for both: the pipe first, then apply into a second database set.
	dst := mariadbtest.Start(t, mariadbtest.Options{NoBinlog: true, ExtraArgs: []string{"--default-time-zone=+09:00"}})
	dst.Exec(t, "CREATE USER '"+applyUser+"'@'%' IDENTIFIED BY '"+applyPassword+"'; GRANT ALL ON *.* TO '"+applyUser+"'@'%'")
	for _, mode := range []string{"pipe", "apply"} {
		t.Run(mode, func(t *testing.T) {
			mustScript(t, dst, "DROP DATABASE IF EXISTS app; DROP DATABASE IF EXISTS other; CREATE DATABASE app; CREATE DATABASE other")
			if mode == "pipe" {
				// LOAD DATA needs a file beside the output; on stdout it stops.
				res := runPitr(t, append([]string{"replay", "--source-time-zone=" + diff}, files...)...)
				wantFailure(t, res, exitError, "LOAD DATA", "-o")
				out := filepath.Join(t.TempDir(), "replay.sql")
				res = runPitr(t, append([]string{"replay", "--source-time-zone=" + diff, "-o", out}, files...)...)
				if res.code != 0 {
					t.Fatalf("replay: exit %d: %s", res.code, res.stderr)
				}
				if !strings.Contains(res.stderr, "prepared but not committed") || !strings.Contains(res.stderr, "xa_prepared_left_out=1") {
					t.Errorf("the XA transaction left prepared is not reported:\n%s", res.stderr)
				}
				sqlText, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				cmd := dst.Client(ctx, "--local-infile=1")
				cmd.Stdin = bytes.NewReader(sqlText)
				if msg, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("piping: %v\n%s\n%s", err, msg, sqlText)
				}
			} else {
				res := runApplyPitr(t, append(targetArgs(dst, "--yes", "--source-time-zone="+diff), files...)...)
				if res.code != 0 {
					t.Fatalf("apply: exit %d: %s", res.code, res.stderr)
				}
			}
			var wantBody, gotBody string
			src.DB.QueryRow("SELECT ROUTINE_DEFINITION FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA='app' AND ROUTINE_NAME='fill'").Scan(&wantBody)
			dst.DB.QueryRow("SELECT ROUTINE_DEFINITION FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA='app' AND ROUTINE_NAME='fill'").Scan(&gotBody)
			if wantBody == "" || gotBody != wantBody {
				t.Errorf("procedure app.fill: got body %q, want %q", gotBody, wantBody)
			}
			for _, tbl := range []string{"app.t", "app.u", "other.o", "app.l", "app.x", "app.sp"} {
				wantSum, wantRows := tableRows(t, src.DB, tbl)
				gotSum, gotRows := tableRows(t, dst.DB, tbl)
				if wantSum != gotSum || strings.Join(wantRows, "\n") != strings.Join(gotRows, "\n") {
					t.Errorf("%s differs:\nwant %s\n%s\ngot  %s\n%s", tbl, wantSum, strings.Join(wantRows, "\n"), gotSum, strings.Join(gotRows, "\n"))
				}
			}

		})
	}
}
