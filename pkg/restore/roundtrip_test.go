package restore

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
	"github.com/pitr-tool/pitr/pkg/binlog"
)

// TestRoundTrip is the fidelity proof: testdata/types/setup.sql runs on a source server (its
// schema part on a target too); the source's binlog is replayed by pitr and piped into the
// target through the mariadb client; then every table must match: CHECKSUM TABLE and each row,
// column by column, in hex for every string, binary, BIT and spatial column.
func TestRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB servers")
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "types", "setup.sql"))
	if err != nil {
		t.Fatal(err)
	}
	setup, dml, ok := strings.Cut(string(raw), "\n-- pitr:start")
	if !ok {
		t.Fatal("types/setup.sql has no -- pitr:start marker")
	}
	_, dml, _ = strings.Cut(dml, "\n") // the rest of the marker line
	dml = "SET SESSION time_zone = '+03:00';\nUSE fx;\n" + dml
	// Row changes beyond the fixture's: whole-row rewrites, NULLing, blob-only changes (which
	// NOBLOB images leave out of the before image), and deletes of wide rows.
	dml += `
UPDATE types SET ti = 5, bl = X'0102', lb = NULL, j = '{"changed": true}', g = NULL WHERE id = 2;
UPDATE types SET tm6 = '-838:59:59.999999', ts6 = '2038-01-19 06:14:07.999999', dtm6 = '0000-00-00 00:00:00.000000', e = NULL, s = 'x,y' WHERE id = 1;
UPDATE types SET lb = REPEAT(X'00', 10) WHERE id = 2;
UPDATE types SET f = -f, dbl = -dbl, d65 = -d65, biu = IF(biu > 0, biu - 1, 7), b64 = b64 >> 1 WHERE id IN (1, 2);
-- Multi-row changes, which a batched replay folds into CASE updates and IN-list deletes. Rows
-- 1000+2x and 1001+2x take every value of row x (edge values, NULLs and all) in one statement, so
-- each pair shares its literal forms and makes one CASE; then every row of types takes the
-- values of the next one.
CREATE TABLE types_src AS SELECT * FROM types;
INSERT INTO types (id) SELECT 1000 + 2 * id FROM types_src UNION ALL SELECT 1001 + 2 * id FROM types_src;
UPDATE types t JOIN types_src s ON s.id = (t.id - 1000) DIV 2 SET {{every column}} WHERE t.id >= 1000;
CREATE TABLE rot AS SELECT id, COALESCE(LEAD(id) OVER (ORDER BY id), (SELECT MIN(id) FROM types)) AS nxt FROM types;
UPDATE types t JOIN rot ON rot.id = t.id JOIN types_src s ON s.id = rot.nxt SET {{every column}};
UPDATE bytes SET l1 = CONCAT(l1, _latin1 X'FF'), u = CONCAT(u, '€') WHERE id = 1;
INSERT INTO nokey VALUES (NULL, NULL, NULL, NULL), (NULL, NULL, NULL, NULL);
DELETE FROM nokey WHERE a IS NULL LIMIT 1;
UPDATE nokey SET f = 3.25 WHERE f = 0.1;
INSERT INTO types (id, vc) SELECT 100 + id, CONCAT('copy ', id) FROM types WHERE id < 3;
DELETE FROM types WHERE id = 2;
UPDATE gen SET a = a - 1, b = CONCAT(b, '-') ORDER BY id;
-- An update that leaves an ON UPDATE column alone must not let the target's clock set it.
CREATE TABLE onupd (id INT PRIMARY KEY, v INT, ts TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  dt DATETIME(6) NULL DEFAULT NULL ON UPDATE CURRENT_TIMESTAMP(6));
SET @@timestamp = 1600000000.5;
INSERT INTO onupd (id, v) VALUES (1, 1), (2, 2), (3, 3);
SET @@timestamp = 1600000100.25;
UPDATE onupd SET v = v + 1 WHERE id = 3;
UPDATE onupd SET v = v + 10, ts = ts, dt = dt WHERE id = 1;
UPDATE onupd SET v = v + 100, ts = ts, dt = dt ORDER BY id;
SET @@timestamp = DEFAULT;
INSERT INTO types (id, vc) SELECT 200 + id, 'to delete' FROM types WHERE id < 200;
DELETE FROM types WHERE id >= 200 AND id < 1000 ORDER BY id;
`
	cases := []struct {
		image    string
		batch    int
		metadata string // binlog_row_metadata; MINIMAL replays with the schema from mariadb-dump --no-data
	}{
		{"FULL", 1, "FULL"}, {"MINIMAL", 1, "FULL"}, {"NOBLOB", 1, "FULL"}, {"MINIMAL", 1, "MINIMAL"},
		{"FULL", 50, "FULL"}, {"MINIMAL", 50, "FULL"}, {"NOBLOB", 50, "FULL"}, {"MINIMAL", 50, "MINIMAL"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/batch%d/metadata-%s", tc.image, tc.batch, tc.metadata), func(t *testing.T) {
			ctx := context.Background()
			src := mariadbtest.Start(t, mariadbtest.Options{RowImage: tc.image, RowMetadata: tc.metadata})
			dst := mariadbtest.Start(t, mariadbtest.Options{NoBinlog: true})
			for _, s := range []*mariadbtest.Server{src, dst} {
				if err := s.ExecScript(ctx, setup); err != nil {
					t.Fatal(err)
				}
			}
			var set string
			if err := src.DB.QueryRowContext(ctx, `SELECT GROUP_CONCAT(CONCAT('t.`+"`"+`', COLUMN_NAME, '`+"`"+` = s.`+"`"+`', COLUMN_NAME, '`+"`"+`') ORDER BY ORDINAL_POSITION)
				FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'fx' AND TABLE_NAME = 'types' AND COLUMN_NAME <> 'id'`).Scan(&set); err != nil {
				t.Fatal(err)
			}
			if err := src.FlushBinlogs(ctx); err != nil {
				t.Fatal(err)
			}
			before, err := src.BinlogFiles(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := src.ExecScript(ctx, strings.ReplaceAll(dml, "{{every column}}", set)); err != nil {
				t.Fatal(err)
			}
			files, err := src.BinlogFiles(ctx)
			if err != nil {
				t.Fatal(err)
			}
			files = files[len(before)-1:]

			cfg := Config{Render: RenderOptions{Batch: tc.batch}}
			// The schema comes with every case: MINIMAL metadata needs it for names, and FULL
			// for the generated columns, which no binlog marks and a strict session refuses
			// values for.
			cfg.VerifySchema = tc.metadata == "FULL"
			{
				dump, err := exec.Command("mariadb-dump", "--no-defaults", "-uroot", "--socket="+src.Socket, "--no-data", "--databases", "fx").Output()
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(t.TempDir(), "schema.sql")
				os.WriteFile(path, dump, 0o644)
				if cfg.Schema, err = LoadSchema(ctx, path); err != nil {
					t.Fatal(err)
				}
			}
			sqlText := replayFiles(t, files, cfg)
			if os.Getenv("PITR_ROUNDTRIP_DUMP") != "" {
				os.WriteFile(filepath.Join(os.Getenv("PITR_ROUNDTRIP_DUMP"), strings.ReplaceAll(t.Name(), "/", "_")+".sql"), sqlText, 0o644)
			}
			if tc.batch > 1 && tc.image == "FULL" {
				// The batched forms must be what is under test here.
				for _, want := range []string{"UPDATE `fx`.`types` SET `ti`=CASE `id` WHEN ", "DELETE FROM `fx`.`types` WHERE `id` IN (200,",
					"WHEN 1002 THEN -9223372036854775808 WHEN 1003 THEN -9223372036854775808",
					"WHEN 1004 THEN 18446744073709551614 WHEN 1005 THEN 18446744073709551614"} {
					if !bytes.Contains(sqlText, []byte(want)) {
						t.Errorf("the replay has no %q", want)
					}
				}
			}
			cmd := dst.Client(ctx)
			cmd.Stdin = bytes.NewReader(sqlText)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("applying the replay: %v\n%s", err, stderr.String())
			}
			if stderr.Len() > 0 {
				t.Fatalf("client printed: %s", stderr.String())
			}
			for _, table := range []string{"types", "bytes", "nokey", "fsp", "gen", "geo_order", "onupd"} {
				compareTable(t, src.DB, dst.DB, "fx", table)
			}
		})
	}
}

func replayFiles(tb testing.TB, files []string, cfg Config) []byte {
	tb.Helper()
	s, err := binlog.OpenFiles(files, binlog.FileOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	var out bytes.Buffer
	w := NewSQLWriter(&out)
	w.CheckRows = true // every piped round trip checks its row counts too
	if _, err := Run(context.Background(), s, w, cfg); err != nil {
		tb.Fatalf("replay: %v", err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

// compareTable fails the test unless both servers hold the same rows, byte for byte.
func compareTable(tb testing.TB, a, b *sql.DB, db, table string) {
	tb.Helper()
	sa, ra := tableState(tb, a, db, table)
	sb, rb := tableState(tb, b, db, table)
	if len(ra) == 0 {
		tb.Fatalf("%s.%s: the source table is empty, so the comparison proves nothing", db, table)
	}
	if len(ra) != len(rb) {
		tb.Errorf("%s.%s: source has %d rows, replayed copy %d", db, table, len(ra), len(rb))
	}
	for i := 0; i < len(ra) && i < len(rb); i++ {
		if ra[i] != rb[i] {
			tb.Errorf("%s.%s row %d differs:\nsource:   %s\nreplayed: %s", db, table, i, ra[i], rb[i])
		}
	}
	if sa != sb {
		tb.Errorf("%s.%s: CHECKSUM TABLE source %s, replayed %s", db, table, sa, sb)
	}
}

func tableState(tb testing.TB, db *sql.DB, schema, table string) (string, []string) {
	tb.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET time_zone='+00:00'"); err != nil {
		tb.Fatal(err)
	}
	var name string
	var sum sql.NullString
	if err := conn.QueryRowContext(ctx, fmt.Sprintf("CHECKSUM TABLE `%s`.`%s`", schema, table)).Scan(&name, &sum); err != nil {
		tb.Fatal(err)
	}
	rows, err := conn.QueryContext(ctx, `SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, schema, table)
	if err != nil {
		tb.Fatal(err)
	}
	var exprs []string
	for rows.Next() {
		var col, typ string
		if err := rows.Scan(&col, &typ); err != nil {
			tb.Fatal(err)
		}
		switch typ {
		case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "binary", "varbinary",
			"tinyblob", "blob", "mediumblob", "longblob", "enum", "set", "json", "uuid", "inet4", "inet6":
			exprs = append(exprs, "IFNULL(HEX(`"+col+"`), 'NULL')")
		case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection":
			exprs = append(exprs, "IFNULL(HEX(ST_AsBinary(`"+col+"`)), 'NULL')", "IFNULL(ST_SRID(`"+col+"`), 'NULL')")
		case "float":
			// The server prints FLOAT with 6 digits; as DOUBLE the value is exact.
			exprs = append(exprs, "IFNULL(CAST(`"+col+"` AS DOUBLE), 'NULL')")
		case "bit":
			exprs = append(exprs, "IFNULL(BIN(`"+col+"`), 'NULL')")
		default:
			exprs = append(exprs, "IFNULL(CAST(`"+col+"` AS CHAR), 'NULL')")
		}
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	q := fmt.Sprintf("SELECT CONCAT_WS(' | ', %s) AS r FROM `%s`.`%s` ORDER BY r", strings.Join(exprs, ", "), schema, table)
	rs, err := conn.QueryContext(ctx, q)
	if err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var r string
		if err := rs.Scan(&r); err != nil {
			tb.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		tb.Fatal(err)
	}
	return sum.String, out
}
