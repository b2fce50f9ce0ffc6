package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

// TestFlashbackNoLog undoes a mass UPDATE, a mass DELETE and bad INSERTs on a keyed and a
// keyless table of every column kind from binlogs without column names (MariaDB 10.11's default
// binlog_row_metadata=NO_LOG): with the schema from a mariadb-dump --no-data file the undo,
// piped into the server, gives both tables back byte for byte; --schema-from the server prints
// the same bytes; without a schema it is refused, naming the table and the way out, before
// anything is printed.
func TestFlashbackNoLog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a MariaDB server")
	}
	ctx := context.Background()
	s := mariadbtest.Start(t, mariadbtest.Options{RowMetadata: "NO_LOG"})
	mustScript(t, s, `CREATE DATABASE fb;
CREATE TABLE fb.k (id INT PRIMARY KEY, `+flashbackCols+`);
CREATE TABLE fb.nk (`+flashbackCols+`);
CREATE TABLE fb.other (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20));
INSERT INTO fb.k (id, u8, i64, u64, dc, f, d, b, e, st, j, g, bl, vb, bn, ch, vc, l1, kr, dt, tm, dtm, ts, y)
  SELECT seq, `+flashbackRow+` FROM fb.seq_1_to_200;
INSERT INTO fb.nk (u8, i64, u64, dc, f, d, b, e, st, j, g, bl, vb, bn, ch, vc, l1, kr, dt, tm, dtm, ts, y)
  SELECT `+flashbackRow+` FROM fb.seq_1_to_200;
INSERT INTO fb.nk (u8) VALUES (NULL), (NULL);`)
	out, err := exec.Command("mariadb-dump", "--no-defaults", "-uroot", "--socket="+s.Socket, "--no-data", "--databases", "fb").Output()
	if err != nil {
		t.Fatal(err)
	}
	dump := filepath.Join(t.TempDir(), "schema.sql")
	if err := os.WriteFile(dump, out, 0o644); err != nil {
		t.Fatal(err)
	}
	wantK, wantNK := snapshot(t, s.DB, "fb.k"), snapshot(t, s.DB, "fb.nk")
	start := masterPos(t, s.DB)
	mustScript(t, s, `UPDATE fb.k SET vc = 'oops', f = f * 2, ch = 'z', bn = 'q';
UPDATE fb.nk SET dc = 0, bl = NULL, bn = NULL;
INSERT INTO fb.other (v) VALUES ('between');`)
	if err := s.FlushBinlogs(ctx); err != nil {
		t.Fatal(err)
	}
	mustScript(t, s, `DELETE FROM fb.k WHERE id > 20;
DELETE FROM fb.nk;
INSERT INTO fb.k (id, vc) SELECT seq, 'bad' FROM fb.seq_1000_to_1050;`)
	stop := masterPos(t, s.DB)
	mustScript(t, s, `INSERT INTO fb.other (v) VALUES ('after');`)
	wantOther := snapshot(t, s.DB, "fb.other")
	files, err := s.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"replay", "--flashback", "--start-position", start, "--stop-position", stop, "-t", "fb.k", "-t", "fb.nk", "--no-defaults"}

	res := runPitr(t, append(args, files...)...)
	line := wantFailure(t, res, 1, "table fb.", "the binlog has no column names for this table (binlog_row_metadata is not FULL)", "--schema DUMP", "--schema-from")
	if !strings.Contains(line, "pitr: mysql-bin.000001:") || strings.Contains(res.stdout, "BEGIN") || strings.Contains(res.stdout, "SET ") {
		t.Errorf("the refusal names no position, or something was printed: %s\n%s", line, res.stdout)
	}

	res = runPitr(t, append(append(args, "--schema", dump, "--batch", "20"), files...)...)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if n := strings.Count(res.stdout, "\n-- undoes "); n != 5 {
		t.Errorf("%d inverse transactions, want 5 (2 updates, 2 deletes, 1 insert)", n)
	}
	from := runPitr(t, append(append(args, "--schema-from", "mysql://root@localhost?socket="+s.Socket, "--batch", "20"), files...)...)
	if from.code != 0 {
		t.Fatalf("--schema-from: exit %d: %s", from.code, from.stderr)
	}
	// The same statements; only the header's comment naming the schema differs.
	body := func(s string) string { return s[max(0, strings.Index(s, "\n-- undoes ")):] }
	if body(from.stdout) != body(res.stdout) {
		t.Errorf("--schema-from the server prints other statements than --schema (exit %d): %s\n%s", from.code, from.stderr, lineDiff(body(from.stdout), body(res.stdout)))
	}
	cmd := s.Client(ctx, "--batch")
	cmd.Stdin = strings.NewReader(res.stdout)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("client: %v: %s", err, out)
	}
	sameSnapshot(t, "fb.k", wantK, snapshot(t, s.DB, "fb.k"))
	sameSnapshot(t, "fb.nk", wantNK, snapshot(t, s.DB, "fb.nk"))
	sameSnapshot(t, "fb.other", wantOther, snapshot(t, s.DB, "fb.other"))
}

// lineDiff is the first line where got and want differ.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n got %.300s\nwant %.300s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}

// TestFlashbackPipeStops pipes a flashback into the server after a row the window changed was
// changed again by a write whose binlog is not given (so the conflict check cannot see it): the
// inverse statement finds no row, the row check after it fails (error 1690), the client stops
// before that inverse transaction's COMMIT and the server rolls it back. The newer transaction's
// undo (a folded multi-row INSERT, whose check counts every row) was committed before.
func TestFlashbackPipeStops(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a MariaDB server")
	}
	ctx := context.Background()
	s := mariadbtest.Start(t, mariadbtest.Options{})
	mustScript(t, s, `CREATE DATABASE ps;
CREATE TABLE ps.t (id INT PRIMARY KEY, v VARCHAR(20));
CREATE TABLE ps.nk (a INT, v VARCHAR(20));
CREATE TABLE ps.other (a INT);
INSERT INTO ps.t SELECT seq, CONCAT('v', seq) FROM ps.seq_1_to_5;
INSERT INTO ps.nk SELECT seq % 3, 'same' FROM ps.seq_1_to_6;`)
	wantNK := snapshot(t, s.DB, "ps.nk")
	start := masterPos(t, s.DB)
	mustScript(t, s, `UPDATE ps.t SET v = 'oops';
DELETE FROM ps.nk;`)
	stop := masterPos(t, s.DB)
	if err := s.FlushBinlogs(ctx); err != nil {
		t.Fatal(err)
	}
	mustScript(t, s, `UPDATE ps.t SET v = 'sneaky' WHERE id = 4;`)
	midT := snapshot(t, s.DB, "ps.t")
	files, err := s.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res := runPitr(t, append([]string{"replay", "--flashback", "--batch", "10", "--start-position", start, "--stop-position", stop, "-t", "ps.t", "-t", "ps.nk"},
		files[:len(files)-1]...)...)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, "IF(ROW_COUNT()=6,0,") {
		t.Errorf("the folded INSERT of 6 rows is not checked for 6:\n%s", res.stdout)
	}
	cmd := s.Client(ctx, "--batch")
	cmd.Stdin = strings.NewReader(res.stdout)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "ERROR 1690") {
		t.Fatalf("the client did not stop at the row not found: %v: %s", err, out)
	}
	sameSnapshot(t, "ps.nk", wantNK, snapshot(t, s.DB, "ps.nk"))
	sameSnapshot(t, "ps.t", midT, snapshot(t, s.DB, "ps.t"))

	// A later change logged as a statement does not say which rows it changed: with every
	// binlog given, the flashback is refused before anything is printed, naming it; with
	// --on-conflict skip it is a warning (and the row logged later, id 4, is left out). A later
	// statement of a table the window did not change, and later DDL, are no conflict.
	mustScript(t, s, `SET SESSION binlog_format=STATEMENT;
INSERT INTO ps.other VALUES (1);
UPDATE ps.nk SET v = 'later' WHERE a = 7;
SET SESSION binlog_format=ROW;
ALTER TABLE ps.t ADD COLUMN w INT;`)
	if files, err = s.BinlogFiles(ctx); err != nil {
		t.Fatal(err)
	}
	fb := []string{"replay", "--flashback", "--start-position", start, "--stop-position", stop, "-t", "ps.t", "-t", "ps.nk"}
	res = runPitr(t, append(fb, files...)...)
	line := wantFailure(t, res, 1, "--flashback: rows the window changed were changed again after it", "ps.nk changed by a statement logged without its rows (binlog_format STATEMENT or MIXED) in the transaction at mysql-bin.", "UPDATE ps.nk SET v = 'later' WHERE a = 7", "--on-conflict skip")
	if strings.Contains(line, "ps.t") || strings.Contains(res.stdout, "BEGIN") {
		t.Errorf("the refusal names ps.t, or something was printed: %s\n%s", line, res.stdout)
	}
	res = runPitr(t, append(append(fb, "--on-conflict", "skip"), files...)...)
	if res.code != 0 || !strings.Contains(res.stderr, "a later transaction changed a table of the window by a statement logged without its rows") ||
		!strings.Contains(res.stderr, "tables=ps.nk") || strings.Count(res.stdout, "\n-- undoes ") != 2 {
		t.Errorf("--on-conflict skip: exit %d, want 0, a warning naming ps.nk and 2 inverse transactions: %s\n%s", res.code, res.stderr, res.stdout)
	}
}
