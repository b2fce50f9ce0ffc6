package restore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
	"github.com/pitr-tool/pitr/pkg/binlog"
	"github.com/pitr-tool/pitr/pkg/binlog/collation"
)

// TestDumpEveryCharsetNoLog: on MariaDB's defaults for metadata (binlog_row_metadata=NO_LOG),
// the schema from mariadb-dump --no-data of a database with a table in every character set SHOW
// CHARACTER SET lists, MariaDB's own types and table features, a table pitr cannot read and a
// sequence loads as --schema. Every table map of the binlog then resolves to the columns, and to
// the collations, information_schema gives; the kept tables replay byte for byte, following a
// CONVERT TO CHARACTER SET in the window; and neither the unreadable table nor DDL pitr cannot
// read on a table the filter leaves out stops the run.
func TestDumpEveryCharsetNoLog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB servers")
	}
	// MINIMAL carries charsets, which the schema must agree with after the window's ALTER.
	for _, metadata := range []string{"NO_LOG", "MINIMAL"} {
		t.Run(metadata, func(t *testing.T) { dumpEveryCharset(t, metadata) })
	}
}

func dumpEveryCharset(t *testing.T, metadata string) {
	ctx := context.Background()
	src := mariadbtest.Start(t, mariadbtest.Options{RowMetadata: metadata})
	dst := mariadbtest.Start(t, mariadbtest.Options{NoBinlog: true})

	rows, err := src.DB.QueryContext(ctx, "SHOW CHARACTER SET")
	if err != nil {
		t.Fatal(err)
	}
	var charsets []string
	for rows.Next() {
		var name, desc, def string
		var maxlen int
		if err := rows.Scan(&name, &desc, &def, &maxlen); err != nil {
			t.Fatal(err)
		}
		if name != "binary" {
			charsets = append(charsets, name)
		}
	}
	rows.Close()
	if len(charsets) < 39 {
		t.Fatalf("SHOW CHARACTER SET listed %d charsets", len(charsets))
	}

	var setup, dml strings.Builder
	setup.WriteString("SET sql_mode='';\nCREATE DATABASE cs DEFAULT CHARACTER SET utf8mb4;\nCREATE DATABASE other DEFAULT CHARACTER SET euckr;\nUSE cs;\n")
	dml.WriteString("SET sql_mode='';\nUSE cs;\n")
	texts := []string{"abc", "Grüße", "한국어 텍스트", "Ωμέγα", "Привет", "日本語", "x y ", "", "it''s \\\\ ok", "€ 1"}
	for _, cs := range charsets {
		// Text columns take the table's charset; one has its own collation (the charset's
		// binary one, or its default) to prove column-level collations arrive.
		fmt.Fprintf(&setup, "CREATE TABLE t_%[1]s (id INT PRIMARY KEY, vc VARCHAR(20), c CHAR(10), tx TEXT, e ENUM('a','b','c d'), s SET('x','y','z'), vb VARCHAR(8) COLLATE %[1]s_bin) DEFAULT CHARSET=%[1]s;\n", cs)
		for i, s := range texts {
			fmt.Fprintf(&dml, "INSERT INTO t_%s VALUES (%d, '%s', '%s', '%s', '%s', '%s', '%s');\n", cs, i+1, s, truncRunes(s, 10), s,
				[]string{"a", "b", "c d"}[i%3], []string{"x", "x,y", "", "x,y,z"}[i%4], truncRunes(s, 8))
		}
		fmt.Fprintf(&dml, "UPDATE t_%s SET vc = CONCAT(vc, '!'), e = 'c d' WHERE id %% 2 = 0;\nDELETE FROM t_%s WHERE id = 3;\n", cs, cs)
	}
	setup.WriteString(`CREATE TABLE kinds (id INT PRIMARY KEY, u UUID, i6 INET6, i4 INET4, hid INT INVISIBLE,
  e VARCHAR(10) DEFAULT (CONCAT('a', 'b')), n VARCHAR(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_nopad_ci) DEFAULT CHARSET=latin1;
CREATE TABLE conv (id INT PRIMARY KEY, a VARCHAR(10), b TEXT) DEFAULT CHARSET=latin1;
USE other;
CREATE TABLE ver (id INT PRIMARY KEY, x VARCHAR(5)) WITH SYSTEM VERSIONING;
CREATE TABLE ver2 (id INT PRIMARY KEY, x INT, rs TIMESTAMP(6) GENERATED ALWAYS AS ROW START, re TIMESTAMP(6) GENERATED ALWAYS AS ROW END,
  PERIOD FOR SYSTEM_TIME(rs, re)) WITH SYSTEM VERSIONING;
CREATE SEQUENCE seq;
CREATE TABLE lax (id INT PRIMARY KEY, a VARCHAR(5));
`)
	dml.WriteString(`INSERT INTO kinds (id, u, i6, i4, hid, n) VALUES (1, '123e4567-e89b-12d3-a456-426614174001', '2001:db8::1', '10.0.0.1', 7, 'Straße'),
  (2, NULL, '::ffff:1.2.3.4', '192.168.1.1', NULL, 'é');
UPDATE kinds SET hid = 8, i4 = '10.1.2.3' WHERE id = 1;
INSERT INTO conv VALUES (1, 'café', 'crème');
ALTER TABLE conv CONVERT TO CHARACTER SET euckr;
INSERT INTO conv VALUES (2, '한국', '한국어');
UPDATE conv SET a = '서울' WHERE id = 1;
USE other;
INSERT INTO ver VALUES (1, 'a'); UPDATE ver SET x = 'b';
INSERT INTO ver2 (id, x) VALUES (1, 1);
SELECT NEXTVAL(seq);
INSERT INTO lax VALUES (1, 'a');
ALTER TABLE lax ADD COLUMN z INT, ENGINE=Aria ROW_FORMAT=PAGE;
INSERT INTO lax VALUES (2, 'b', 3);
`)
	if err := src.ExecScript(ctx, setup.String()); err != nil {
		t.Fatal(err)
	}
	dump, err := exec.Command("mariadb-dump", "--no-defaults", "-uroot", "--socket="+src.Socket, "--no-data", "--databases", "cs", "other").Output()
	if err != nil {
		t.Fatal(err)
	}
	// A table from a newer server, in a syntax pitr cannot read: only a run that needs it may fail.
	dump = append(dump, "USE `other`;\nCREATE TABLE `future` (\n  `id` int NOT NULL,\n  `f` varchar(10) FIELD_FORMAT='x'\n) ENGINE=CONNECT;\n"...)
	schemaPath := filepath.Join(t.TempDir(), "schema.sql")
	if err := os.WriteFile(schemaPath, dump, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := dst.ExecScript(ctx, "SET sql_mode='';\n"+string(dump[:len(dump)-len("USE `other`;\nCREATE TABLE `future` (\n  `id` int NOT NULL,\n  `f` varchar(10) FIELD_FORMAT='x'\n) ENGINE=CONNECT;\n")])); err != nil {
		t.Fatal(err)
	}
	if err := src.FlushBinlogs(ctx); err != nil {
		t.Fatal(err)
	}
	before, err := src.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.ExecScript(ctx, dml.String()); err != nil {
		t.Fatal(err)
	}
	if err := src.FlushBinlogs(ctx); err != nil {
		t.Fatal(err)
	}
	files, err := src.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	files = files[len(before)-1 : len(files)-1]

	// Every table map resolves to the server's own columns and collations.
	want := map[string][]string{} // db.table -> "column collation_name" in order
	crs, err := src.DB.QueryContext(ctx, `SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME), COLUMN_NAME, IFNULL(COLLATION_NAME, '')
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN ('cs', 'other') ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`)
	if err != nil {
		t.Fatal(err)
	}
	for crs.Next() {
		var table, col, coll string
		if err := crs.Scan(&table, &col, &coll); err != nil {
			t.Fatal(err)
		}
		want[table] = append(want[table], col+" "+coll)
	}
	crs.Close()
	// information_schema leaves out the columns implicit system versioning adds; binlogs have them.
	want["other.ver"] = append(want["other.ver"], "row_start ", "row_end ")
	schema, err := LoadSchema(ctx, schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	resolved := map[string]bool{}
	s, err := binlog.OpenFiles(files, binlog.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := s.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind != binlog.KindRows || resolved[ev.Rows.Table.String()] || ev.Rows.Table.Table == "conv" || ev.Rows.Table.Table == "lax" {
			continue // conv and lax change in the window: the replay below runs through them
		}
		tm := ev.Rows.Table
		if tm.HasNames || metadata == "NO_LOG" && tm.Columns[0].Collation != 0 && tm.Columns[0].Charset != "binary" {
			t.Fatalf("%s: the map carries metadata; %s is what is under test", tm, metadata)
		}
		got, err := schema.resolve(ctx, tm)
		if err != nil {
			t.Errorf("%s: %v", tm, err)
			continue
		}
		resolved[tm.String()] = true
		var have []string
		for _, c := range got.Columns {
			name := ""
			if c.Collation != 0 {
				co, ok := collation.ByID(collation.MariaDB, int(c.Collation))
				if !ok || co.Charset != c.Charset {
					t.Errorf("%s.%s: collation %d charset %q", tm, c.Name, c.Collation, c.Charset)
				}
				name = co.Name
			}
			have = append(have, c.Name+" "+name)
		}
		w := want[tm.String()]
		for i := range w {
			// Text columns carry their collation; ENUM and SET carry utf8mb4's, since their
			// members come from the schema as UTF-8; others none.
			if i < len(have) && strings.HasPrefix(have[i], strings.Fields(w[i])[0]+" utf8mb4_general_ci") && (strings.HasPrefix(w[i], "e ") || strings.HasPrefix(w[i], "s ")) {
				have[i] = w[i]
			}
			if i < len(have) && (strings.HasSuffix(w[i], " ") && strings.HasSuffix(have[i], " binary") || strings.HasPrefix(w[i], "rs ") || strings.HasPrefix(w[i], "re ")) {
				have[i] = w[i]
			}
		}
		if strings.Join(have, ", ") != strings.Join(w, ", ") {
			t.Errorf("%s resolved to\n  %s\nthe server has\n  %s", tm, strings.Join(have, ", "), strings.Join(w, ", "))
		}
	}
	s.Close()
	for _, table := range []string{"cs.kinds", "other.ver", "other.ver2", "other.seq"} {
		if !resolved[table] {
			t.Errorf("no rows of %s checked", table)
		}
	}
	if len(resolved) < len(charsets)+4 {
		t.Errorf("only %d tables resolved", len(resolved))
	}
	if _, err := schema.resolve(ctx, &binlog.TableMap{Schema: "other", Table: "future", MariaDB: true, Columns: []binlog.Column{mLong, mVarchar(10)}}); err == nil ||
		!strings.Contains(err.Error(), schemaPath+":") {
		t.Errorf("the unreadable table resolves: %v", err)
	}

	// The kept database replays exactly, and nothing of the other stops the run.
	schema, err = LoadSchema(ctx, schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	sqlText := replayFiles(t, files, Config{Schema: schema, Filter: &Filter{Databases: []string{"cs"}},
		Log: slog.New(slog.NewTextHandler(&logged, nil))})
	// The DDL pitr cannot read was met, and passed because it names no kept table.
	if !strings.Contains(logged.String(), "ROW_FORMAT=PAGE") {
		t.Errorf("the unreadable ALTER TABLE of other.lax was not met:\n%s", logged.String())
	}
	if !bytes.Contains(sqlText, []byte("CONVERT TO CHARACTER SET euckr")) {
		t.Errorf("the replay lacks the window's ALTER TABLE")
	}
	// The schema's collations reach the literal rule: UTF-8 text is quoted, not hex.
	for _, lit := range []string{"'Straße'", "'한국어 텍스트'", "'Grüße!'"} {
		if !bytes.Contains(sqlText, []byte(lit)) {
			t.Errorf("the replay has no %s", lit)
		}
	}
	cmd := dst.Client(ctx)
	cmd.Stdin = bytes.NewReader(sqlText)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("applying the replay: %v\n%s", err, stderr.String())
	}
	for _, cs := range charsets {
		compareTable(t, src.DB, dst.DB, "cs", "t_"+cs)
	}
	compareTable(t, src.DB, dst.DB, "cs", "kinds")
	compareTable(t, src.DB, dst.DB, "cs", "conv")
	var hid string
	if err := dst.DB.QueryRowContext(ctx, "SELECT GROUP_CONCAT(IFNULL(hid, 'NULL') ORDER BY id) FROM cs.kinds").Scan(&hid); err != nil || hid != "8,NULL" {
		t.Errorf("invisible column on the target: %q %v", hid, err)
	}
}

func truncRunes(s string, n int) string {
	r := []rune(strings.ReplaceAll(strings.ReplaceAll(s, "''", "'"), `\\`, `\`))
	if len(r) > n {
		r = r[:n]
	}
	out := string(r)
	return strings.ReplaceAll(strings.ReplaceAll(out, `\`, `\\`), "'", "''")
}
