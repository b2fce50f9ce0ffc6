package restore

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

// TestDDLRoundTrip: a window with ALTER TABLE ADD COLUMN, CHANGE (rename and retype), a column
// moved with MODIFY ... FIRST/AFTER, RENAME TABLE, and DROP then CREATE of the same name, with
// rows written between each. The replay, piped into a server holding the starting schema, must
// leave every table as on the source (CHECKSUM TABLE and every row in hex), with and without
// column names in the binlog.
func TestDDLRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB servers")
	}
	setup := `CREATE DATABASE d;
CREATE TABLE d.a (id INT PRIMARY KEY, v VARCHAR(10), n INT);
CREATE TABLE d.b (id INT PRIMARY KEY, x DECIMAL(6,2));
CREATE TABLE d.c (k INT, s VARCHAR(5));
INSERT INTO d.a VALUES (1, 'one', 10), (2, 'two', 20);
INSERT INTO d.b VALUES (1, 1.50);
INSERT INTO d.c VALUES (1, 'c1');`
	window := `INSERT INTO d.a VALUES (3, 'three', 30);
ALTER TABLE d.a ADD COLUMN extra DATETIME(3) NULL AFTER v;
INSERT INTO d.a VALUES (4, 'four', '2024-01-02 03:04:05.678', 40);
UPDATE d.a SET extra = '2000-01-01 00:00:00.001' WHERE id = 1;
ALTER TABLE d.a CHANGE COLUMN n amount BIGINT UNSIGNED NOT NULL DEFAULT 0;
UPDATE d.a SET amount = 18446744073709551615 WHERE id = 2;
ALTER TABLE d.a MODIFY COLUMN v VARCHAR(20) FIRST;
INSERT INTO d.a (id, v, amount) VALUES (5, 'five, moved', 5);
ALTER TABLE d.b MODIFY COLUMN x DECIMAL(8,3) AFTER id, ADD COLUMN y ENUM('p','q') FIRST;
INSERT INTO d.b VALUES ('q', 2, 2.125);
RENAME TABLE d.b TO d.b2;
UPDATE d.b2 SET y = 'p' WHERE id = 1;
DROP TABLE d.c;
CREATE TABLE d.c (k BIGINT PRIMARY KEY, s TEXT, t SET('u','v'));
INSERT INTO d.c VALUES (7, 'new c', 'u,v');
TRUNCATE TABLE d.a;
INSERT INTO d.a (id, v, amount) VALUES (9, 'after truncate', 9);
ALTER TABLE d.a DROP COLUMN extra;
DELETE FROM d.a WHERE id = 9;
INSERT INTO d.a (id, v, amount) VALUES (10, 'last', 1);`
	for _, meta := range []string{"FULL", "MINIMAL"} {
		t.Run(meta, func(t *testing.T) {
			ctx := context.Background()
			src := mariadbtest.Start(t, mariadbtest.Options{RowMetadata: meta})
			dst := mariadbtest.Start(t, mariadbtest.Options{NoBinlog: true})
			for _, s := range []*mariadbtest.Server{src, dst} {
				if err := s.ExecScript(ctx, setup); err != nil {
					t.Fatal(err)
				}
			}
			if err := src.FlushBinlogs(ctx); err != nil {
				t.Fatal(err)
			}
			before, _ := src.BinlogFiles(ctx)
			if err := src.ExecScript(ctx, window); err != nil {
				t.Fatal(err)
			}
			files, err := src.BinlogFiles(ctx)
			if err != nil {
				t.Fatal(err)
			}
			files = files[len(before)-1:]
			// The starting schema, as a user passes it: what the backup held.
			cfg := Config{}
			if meta == "MINIMAL" {
				cfg.Schema = NewServerCatalog("the target", func(ctx context.Context, db, table string) (string, error) {
					var name, stmt string
					err := dst.DB.QueryRowContext(ctx, fmt.Sprintf("SHOW CREATE TABLE `%s`.`%s`", db, table)).Scan(&name, &stmt)
					return stmt, err
				}, nil)
			}
			sqlText := replayFiles(t, files, cfg)
			cmd := dst.Client(ctx)
			cmd.Stdin = bytes.NewReader(sqlText)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("applying: %v\n%s\n%s", err, out, sqlText)
			}
			for _, table := range []string{"a", "b2", "c"} {
				compareTable(t, src.DB, dst.DB, "d", table)
			}
		})
	}
}
