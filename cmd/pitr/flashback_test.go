package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

// flashbackCols is a column of every kind the renderer treats apart; the keyed table adds a
// primary key, the keyless one has none, so its inverse statements find rows by every column.
const flashbackCols = `u8 TINYINT UNSIGNED, i64 BIGINT, u64 BIGINT UNSIGNED, dc DECIMAL(30,10), f FLOAT, d DOUBLE,
  b BIT(13), e ENUM('x','y','z'), st SET('a','b','c'), j JSON, g POINT, bl BLOB, vb VARBINARY(20), bn BINARY(4),
  ch CHAR(5), vc VARCHAR(40) CHARACTER SET utf8mb4, l1 VARCHAR(20) CHARACTER SET latin1, kr VARCHAR(20) CHARACTER SET euckr,
  dt DATE, tm TIME(6), dtm DATETIME(6), ts TIMESTAMP(3) NULL, y YEAR, gen INT AS (u8 + 1) VIRTUAL`

// flashbackRow is the SELECT list of one seeded row from seq (MariaDB's sequence engine).
const flashbackRow = `seq % 256, -seq * 1000003, 18446744073709551615 - seq, seq / 7, seq / 3, seq / 9.0,
  seq % 8192, ELT(seq % 3 + 1, 'x','y','z'), IF(seq % 2, 'a,c', ''), JSON_OBJECT('n', seq, 's', '값'), POINT(seq, -seq),
  REPEAT(CHAR(seq % 256, 0, 255), 50), UNHEX(CONCAT('00', HEX(seq), '00')), IF(seq % 4, UNHEX('0100'), NULL),
  IF(seq % 5, 'a ', NULL), CONCAT('é€中🙂 ', seq), 'ñø', '한국', '2026-01-01' + INTERVAL seq DAY,
  SEC_TO_TIME(seq * 37.123456), '2026-11-29 01:02:03.456789' + INTERVAL seq SECOND,
  '2026-11-29 01:02:03.123' + INTERVAL seq MINUTE, 1901 + seq % 254`

// TestFlashback undoes, on one server, a mass UPDATE without WHERE, a mass DELETE and a batch of
// bad INSERTs on a keyed and a keyless table of every column kind, over a binlog rotation, with
// another table written between and after them: the flashback, piped into the same server, must
// give both tables back byte-identical, and leave the other table's later rows.
func TestFlashback(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a MariaDB server")
	}
	ctx := context.Background()
	s := mariadbtest.Start(t, mariadbtest.Options{})
	mustScript(t, s, `CREATE DATABASE fb;
CREATE TABLE fb.k (id INT PRIMARY KEY, `+flashbackCols+`);
CREATE TABLE fb.nk (`+flashbackCols+`);
CREATE TABLE fb.other (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20));
INSERT INTO fb.k (id, u8, i64, u64, dc, f, d, b, e, st, j, g, bl, vb, bn, ch, vc, l1, kr, dt, tm, dtm, ts, y)
  SELECT seq, `+flashbackRow+` FROM fb.seq_1_to_300;
INSERT INTO fb.nk (u8, i64, u64, dc, f, d, b, e, st, j, g, bl, vb, bn, ch, vc, l1, kr, dt, tm, dtm, ts, y)
  SELECT `+flashbackRow+` FROM fb.seq_1_to_300;
-- a keyless table holds duplicate rows
INSERT INTO fb.nk (u8, i64, u64, dc, f, d, b, e, st, j, g, bl, vb, bn, ch, vc, l1, kr, dt, tm, dtm, ts, y)
  SELECT u8, i64, u64, dc, f, d, b, e, st, j, g, bl, vb, bn, ch, vc, l1, kr, dt, tm, dtm, ts, y FROM fb.nk LIMIT 20;
INSERT INTO fb.nk (u8) VALUES (NULL), (NULL);
INSERT INTO fb.other (v) VALUES ('before');`)
	wantK := snapshot(t, s.DB, "fb.k")
	wantNK := snapshot(t, s.DB, "fb.nk")
	start := masterPos(t, s.DB)
	mustScript(t, s, `UPDATE fb.k SET vc = 'oops', f = f * 2, j = JSON_SET(j, '$.n', 0), ts = NULL;
UPDATE fb.nk SET dc = 0, bl = NULL, e = 'x';
INSERT INTO fb.other (v) VALUES ('between');`)
	if err := s.FlushBinlogs(ctx); err != nil {
		t.Fatal(err)
	}
	mustScript(t, s, `DELETE FROM fb.k;
DELETE FROM fb.nk;
INSERT INTO fb.other (v) VALUES ('between 2');
INSERT INTO fb.k (id, vc) SELECT seq, 'bad' FROM fb.seq_1_to_50;
INSERT INTO fb.nk (vc) SELECT 'bad' FROM fb.seq_1_to_50;
INSERT INTO fb.nk (vc) VALUES ('bad');`)
	stop := masterPos(t, s.DB)
	mustScript(t, s, `INSERT INTO fb.other (v) VALUES ('after');
UPDATE fb.other SET v = 'after, changed' WHERE v = 'before';`)
	wantOther := snapshot(t, s.DB, "fb.other")
	end := masterPos(t, s.DB)
	files, err := s.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// No binlog marks a column as generated: the server's schema does (see README).
	args := []string{"replay", "--flashback", "--start-position", start, "--stop-position", stop, "-t", "fb.k", "-t", "fb.nk",
		"--no-defaults", "--schema-from", "mysql://root@localhost?socket=" + s.Socket}

	// --batch folds the inverse INSERTs (of the DELETEs) into multi-row statements.
	t.Run("print", func(t *testing.T) {
		res := runPitr(t, append(append(args, "--batch", "50"), files...)...)
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		checkFolded(t, res.stdout, 50)
		// Newest first: the last transaction of the window is undone first, each one named.
		undoes := strings.Count(res.stdout, "\n-- undoes ")
		if undoes != 7 {
			t.Errorf("%d inverse transactions, want 7 (2 updates, 2 deletes, 3 inserts)", undoes)
		}
		first := strings.Index(res.stdout, "\n-- undoes ")
		if !strings.Contains(res.stdout[first:first+200], filepath.Base(files[len(files)-1])) {
			t.Errorf("the first inverse transaction does not undo the last file's: %s", res.stdout[first:first+200])
		}
		checkWholeTransactions(t, res.stdout)

		cmd := s.Client(ctx, "--batch")
		cmd.Stdin = strings.NewReader(res.stdout)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("client: %v: %s", err, out)
		}
		sameSnapshot(t, "fb.k", wantK, snapshot(t, s.DB, "fb.k"))
		sameSnapshot(t, "fb.nk", wantNK, snapshot(t, s.DB, "fb.nk"))
		sameSnapshot(t, "fb.other", wantOther, snapshot(t, s.DB, "fb.other"))
	})

	// A second mistake, after the first was undone: then a row of each table it changed is
	// changed again; the keyed one re-inserted under a key the DELETE freed.
	t.Run("conflict", func(t *testing.T) {
		beforeK, beforeNK := digest(t, s.DB, "fb.k", "id <> 7"), digest(t, s.DB, "fb.nk", "NOT (u8 <=> 3)")
		start2 := masterPos(t, s.DB)
		mustScript(t, s, `DELETE FROM fb.k WHERE id <= 100; UPDATE fb.nk SET vc = 'w2' WHERE u8 < 50;`)
		stop2 := masterPos(t, s.DB)
		mustScript(t, s, `INSERT INTO fb.other (v) VALUES ('later');
INSERT INTO fb.k (id, vc) VALUES (7, 'later');
UPDATE fb.nk SET vc = 'later' WHERE u8 = 3;`)
		files, err := s.BinlogFiles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"replay", "--flashback", "--start-position", start2, "--stop-position", stop2, "-t", "fb.k", "-t", "fb.nk",
			"--no-defaults", "--schema-from", "mysql://root@localhost?socket=" + s.Socket}
		res := runPitr(t, append(append(args, "-q"), files...)...)
		line := wantFailure(t, res, 1, "rows the window changed were changed again after it", "fb.k row (`id`=7) changed again by the transaction at ",
			"fb.nk row (`u8`=3, ", " GTID 0-1-", "--on-conflict skip")
		if strings.Contains(res.stdout, "BEGIN") {
			t.Errorf("a refused flashback printed transactions:\n%s", res.stdout)
		}
		t.Log(line)

		// Skipping leaves out the one row, also from a folded INSERT.
		res = runPitr(t, append(args, append([]string{"--on-conflict", "skip", "--batch", "7"}, files...)...)...)
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		checkFolded(t, res.stdout, 7)
		if !strings.Contains(res.stderr, "fb.k row (`id`=7)") || !strings.Contains(res.stderr, "conflicting_rows_left=") {
			t.Errorf("the skipped rows are not reported:\n%s", res.stderr)
		}
		cmd := s.Client(ctx, "--batch")
		cmd.Stdin = strings.NewReader(res.stdout)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("client: %v: %s", err, out)
		}
		if got := digest(t, s.DB, "fb.k", "id <> 7"); got != beforeK {
			t.Errorf("fb.k apart from row 7 is not as before the window")
		}
		if got := digest(t, s.DB, "fb.nk", "NOT (u8 <=> 3)"); got != beforeNK {
			t.Errorf("fb.nk apart from the rows with u8 = 3 is not as before the window")
		}
		var n int
		s.DB.QueryRow("SELECT COUNT(*) FROM fb.k WHERE id = 7 AND vc = 'later'").Scan(&n)
		if n != 1 {
			t.Errorf("the later write to fb.k row 7 was not kept")
		}
		s.DB.QueryRow("SELECT COUNT(*) FROM fb.nk WHERE u8 = 3 AND vc <> 'later'").Scan(&n)
		if n != 0 {
			t.Errorf("%d fb.nk rows with u8 = 3 lost their later write", n)
		}
	})

	// --target: a third mistake undone straight into the server, as one transaction. First with
	// the binlog of a later write left out, so only the found-row check can see it: the undo
	// stops and leaves the tables exactly as they were; then with every binlog and
	// --on-conflict skip.
	t.Run("target", func(t *testing.T) {
		s.Exec(t, "CREATE USER '"+applyUser+"'@'%' IDENTIFIED BY '"+applyPassword+"';\nGRANT ALL ON *.* TO '"+applyUser+"'@'%'")
		beforeK, beforeNK := digest(t, s.DB, "fb.k", "id <> 9"), digest(t, s.DB, "fb.nk", "1")
		if err := s.FlushBinlogs(ctx); err != nil {
			t.Fatal(err)
		}
		start3 := masterPos(t, s.DB)
		mustScript(t, s, `UPDATE fb.k SET vc = 'w3', u64 = 1; DELETE FROM fb.nk WHERE u8 < 100 OR u8 IS NULL;`)
		stop3 := masterPos(t, s.DB)
		if err := s.FlushBinlogs(ctx); err != nil {
			t.Fatal(err)
		}
		mustScript(t, s, `UPDATE fb.k SET vc = 'sneaky' WHERE id = 9;`)
		files, err := s.BinlogFiles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		midK, midNK := digest(t, s.DB, "fb.k", "1"), digest(t, s.DB, "fb.nk", "1")
		args := targetArgs(s, "--yes", "--flashback", "--start-position", start3, "--stop-position", stop3, "-t", "fb.k", "-t", "fb.nk",
			"--schema-from", fmt.Sprintf("mysql://%s@127.0.0.1:%d", applyUser, s.Port))
		res := runApplyPitr(t, append(args, files[:len(files)-1]...)...)
		if res.code == 0 {
			t.Fatalf("the undo of a row changed since (binlog not given) did not stop:\n%s", res.stderr)
		}
		t.Log(lastLine(res.stderr))
		if digest(t, s.DB, "fb.k", "1") != midK || digest(t, s.DB, "fb.nk", "1") != midNK {
			t.Fatalf("a stopped undo changed the tables: it must be all or nothing")
		}
		res = runApplyPitr(t, append(append(args, "--on-conflict", "skip"), files...)...)
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		if digest(t, s.DB, "fb.k", "id <> 9") != beforeK || digest(t, s.DB, "fb.nk", "1") != beforeNK {
			t.Errorf("the undo applied with --target did not give the tables back")
		}
		var vc string
		s.DB.QueryRow("SELECT vc FROM fb.k WHERE id = 9").Scan(&vc)
		if vc != "sneaky" {
			t.Errorf("fb.k row 9: vc %q, want the later write kept", vc)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		// A window in which the other table had an insert and an update, and no delete.
		res := runPitr(t, append([]string{"replay", "--flashback", "--start-position", stop, "--stop-position", end, "-t", "fb.other", "--only", "delete"}, files...)...)
		wantFailure(t, res, 1, "nothing to undo")
		res = runPitr(t, append(args, append([]string{"--on-conflict", "merge"}, files...)...)...)
		wantFailure(t, res, 2, "--on-conflict \"merge\": want refuse or skip")
		// DDL inside the window: the undo would run against a table of another shape.
		mustScript(t, s, `ALTER TABLE fb.other ADD COLUMN w INT; INSERT INTO fb.other (v) VALUES ('x');`)
		files, err := s.BinlogFiles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		res = runPitr(t, append([]string{"replay", "--flashback", "--start-position", stop, "-t", "fb.other"}, files...)...)
		if out := wantFailure(t, res, 1, "cannot undo DDL", "ALTER TABLE fb.other"); strings.Contains(out, "BEGIN") {
			t.Errorf("a refused flashback printed transactions:\n%s", out)
		}
	})
}

// snapshot is CHECKSUM TABLE and every row in hex (tableRows), for comparing a table's bytes.
func snapshot(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	sum, rows := tableRows(t, db, table)
	return append([]string{sum}, rows...)
}

func sameSnapshot(t *testing.T, table string, want, got []string) {
	t.Helper()
	if slices.Equal(want, got) {
		return
	}
	t.Errorf("%s differs: checksum %s, want %s; %d rows, want %d", table, got[0], want[0], len(got)-1, len(want)-1)
	for i := 1; i < len(want) && i < len(got); i++ {
		if want[i] != got[i] {
			t.Errorf("first different row:\n got %s\nwant %s", got[i], want[i])
			break
		}
	}
}

// masterPos is the server's current binlog position as FILE:POS.
func masterPos(t testing.TB, db *sql.DB) string {
	t.Helper()
	var file string
	var pos int64
	var a, b sql.NullString
	if err := db.QueryRow("SHOW MASTER STATUS").Scan(&file, &pos, &a, &b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s:%d", file, pos)
}

// TestFlashbackFixture undoes a window of the dml fixture (inserts, an update, updates across a
// rotation) and checks the order and the statements; the same window of the MINIMAL-image
// fixture is refused before anything is printed.
func TestFlashbackFixture(t *testing.T) {
	window := []string{"replay", "--flashback", "--start-position", "mysql-bin.000002:1507", "--stop-position", "mysql-bin.000003:795"}
	// Two rows of the window are changed again in the binlogs after it.
	res := runPitr(t, append(window, fixture("dml")...)...)
	wantFailure(t, res, 1, "2 rows; shop.order_items row (`order_id`=1, `sku`='B-2') changed again by the transaction at mysql-bin.000003:1258 committed 2024-01-01 00:07:00 UTC GTID 0-1-13; crm.customers row (`id`=3) changed again by the transaction at mysql-bin.000004:587 committed 2024-01-01 00:10:00 UTC GTID 0-1-16")
	if strings.Contains(res.stdout, "BEGIN") || strings.Contains(res.stdout, "SET ") {
		t.Errorf("a refused flashback printed:\n%s", res.stdout)
	}
	// Without the row checks, so that the inverse statements follow each other.
	res = runPitr(t, append(append(window, "--on-conflict", "skip", "--row-checks=false"), fixture("dml")...)...)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var order []string
	for _, l := range strings.Split(res.stdout, "\n") {
		if strings.HasPrefix(l, "-- undoes ") {
			order = append(order, l[strings.Index(l, "GTID "):])
		}
	}
	want := []string{"GTID 0-1-10 server 1", "GTID 0-1-9 server 1", "GTID 0-1-8 server 1", "GTID 0-1-7 server 1"}
	if !slices.Equal(order, want) {
		t.Errorf("inverse transactions %q, want %q", order, want)
	}
	for _, w := range []string{
		"-- undoes mysql-bin.000003:342-795 committed 2024-01-01 00:05:00 UTC GTID 0-1-10 server 1\nBEGIN;\nUPDATE `shop`.`orders` SET `total`=99.99,",
		// The update is undone before the insert of the same transaction, rows last to first.
		"UPDATE `crm`.`customers` SET `email`=NULL WHERE `id`<=>2 AND `name`<=>CAST('Bob' AS BINARY) AND `email`<=>CAST('bob@example.com' AS BINARY) LIMIT 1;\nDELETE FROM `shop`.`orders` WHERE `id`<=>2 AND",
		"DELETE FROM `shop`.`audit` WHERE `msg`<=>CAST('order 1' AS BINARY) LIMIT 1;\nDELETE FROM `shop`.`order_items` WHERE `order_id`<=>1 AND `sku`<=>CAST('A-1' AS BINARY)",
		"BEGIN;\nDELETE FROM `crm`.`customers` WHERE `id`<=>2",
		"COMMIT; -- 2 rows (0 inserted, 0 updated, 2 deleted)\n",
	} {
		if !strings.Contains(res.stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, res.stdout)
		}
	}
	for _, no := range []string{"'B-2'", "`id`<=>3"} {
		if strings.Contains(res.stdout, no) {
			t.Errorf("the undo of a row changed again later (%s) is not left out:\n%s", no, res.stdout)
		}
	}
	if !strings.Contains(res.stderr, "conflicting_rows_left=2 inverse_statements_left_out=2") {
		t.Errorf("stderr does not count the rows left: %s", res.stderr)
	}
	checkWholeTransactions(t, res.stdout)

	// Each command pitr find prints for a mass DELETE or UPDATE runs as printed and undoes
	// exactly that transaction.
	find := runPitr(t, append([]string{"find", "--rows", "1"}, fixture("dml")...)...)
	var cmds int
	lines := strings.Split(find.stdout, "\n")
	for i, l := range lines {
		c, ok := strings.CutPrefix(l, "    undo: pitr ")
		if !ok {
			continue
		}
		cmds++
		span := strings.Fields(lines[i-1])[0]
		res := runPitr(t, strings.Fields(c)...)
		if res.code != 0 {
			t.Fatalf("%s: exit %d: %s", c, res.code, res.stderr)
		}
		if n := strings.Count(res.stdout, "\n-- undoes "); n != 1 || !strings.Contains(res.stdout, "\n-- undoes "+span+" ") {
			t.Errorf("%s: want one inverse transaction, of %s:\n%s", c, span, res.stdout)
		}
	}
	if cmds != 2 {
		t.Errorf("find printed %d flashback commands, want 2:\n%s", cmds, find.stdout)
	}

	res = runPitr(t, append(window, fixture("minimal_image")...)...)
	line := wantFailure(t, res, 1, "mysql-bin.000002:3181: table crm.customers: the before image of this UPDATE leaves out column `email`", "binlog_row_image=MINIMAL")
	if strings.Contains(line, "the output holds") || strings.Contains(res.stdout, "BEGIN") {
		t.Errorf("a refused flashback printed transactions: %s\n%s", line, res.stdout)
	}
}

// checkFolded checks that the inverse INSERTs of a flashback with --batch n hold up to n rows,
// some more than one, and that no other statement holds more than one row.
func checkFolded(t *testing.T, sql string, n int) {
	t.Helper()
	most := 0
	for _, l := range strings.Split(sql, "\n") {
		rows := strings.Count(l, "),(") + 1
		switch {
		case strings.HasPrefix(l, "INSERT INTO "):
			most = max(most, rows)
		case strings.HasPrefix(l, "UPDATE ") || strings.HasPrefix(l, "DELETE "):
			if !strings.HasSuffix(l, " LIMIT 1;") {
				t.Errorf("an inverse statement for more than one row: %.200s", l)
			}
		}
	}
	if most < 2 || most > n {
		t.Errorf("the largest inverse INSERT holds %d rows, want 2..%d", most, n)
	}
}

// digest hashes every column of the rows of table that match where, in a stable order.
func digest(t *testing.T, db *sql.DB, table, where string) string {
	t.Helper()
	schema, tbl, _ := strings.Cut(table, ".")
	rows, err := db.Query("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=? AND TABLE_NAME=? ORDER BY ORDINAL_POSITION", schema, tbl)
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for rows.Next() {
		var c string
		rows.Scan(&c)
		cols = append(cols, fmt.Sprintf("IFNULL(HEX(CAST(`%s` AS BINARY)), 'NULL')", c))
	}
	rows.Close()
	var d sql.NullString
	q := "SELECT SHA2(GROUP_CONCAT(r ORDER BY r SEPARATOR '\\n'), 256) FROM (SELECT CONCAT_WS('|', " + strings.Join(cols, ",") + ") r FROM " + table + " WHERE " + where + ") x"
	if _, err := db.Exec("SET SESSION group_concat_max_len = 1 << 30"); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(q).Scan(&d); err != nil {
		t.Fatal(err)
	}
	return d.String
}
