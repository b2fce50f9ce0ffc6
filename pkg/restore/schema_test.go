package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

func loadSchema(tb testing.TB, path string) *Catalog {
	tb.Helper()
	c, err := LoadSchema(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// statements drops comment lines (positions differ between fixtures), keeping the SQL.
func statements(b []byte) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "--") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestSchemaMinimalMetadata: a binlog without column names (binlog_row_metadata=MINIMAL) plus the
// schema from mariadb-dump --no-data replays to the same SQL as the FULL-metadata binlog of the
// same history, generated columns left out of INSERT and SET in both.
func TestSchemaMinimalMetadata(t *testing.T) {
	schema := loadSchema(t, filepath.Join("..", "..", "testdata", "types_minimal", "schema.sql"))
	minimal, _, err := replayFixture(t, "types_minimal", binlog.Position{}, Config{Schema: schema, VerifySchema: true})
	if err != nil {
		t.Fatal(err)
	}
	full, _, err := replayFixture(t, "types", binlog.Position{}, Config{Schema: loadSchema(t, filepath.Join("..", "..", "testdata", "types", "schema.sql")), VerifySchema: true})
	if err != nil {
		t.Fatal(err)
	}
	if statements(minimal) != statements(full) {
		t.Errorf("MINIMAL metadata + schema differs from FULL metadata:\n%s", firstDiff([]byte(statements(minimal)), []byte(statements(full))))
	}
	if strings.Contains(string(minimal), "`v`=") || strings.Contains(string(minimal), ",`v`,") {
		t.Errorf("generated column v written")
	}
	// Without the schema, the CREATE TABLE statements in the binlog name the columns (GEOMETRY
	// and POINT columns included)...
	fromDDL, _, err := replayFixture(t, "types_minimal", binlog.Position{}, Config{})
	if err != nil {
		t.Fatalf("without --schema, from the binlog's own DDL: %v", err)
	}
	if statements(fromDDL) != statements(minimal) {
		t.Errorf("replay from the binlog's DDL differs from the replay with the schema:\n%s", firstDiff([]byte(statements(fromDDL)), []byte(statements(minimal))))
	}
	// ...and a window that starts after them is refused, naming the table.
	_, _, err = replayFixture(t, "types_minimal", binlog.Position{File: "mysql-bin.000002", Offset: 2000}, Config{})
	if !errors.Is(err, ErrNoColumnNames) || !strings.Contains(err.Error(), "fx.types") {
		t.Errorf("without --schema: %v", err)
	}
}

func TestSchemaMismatch(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, schema string
		want         []string
	}{
		{"fewer columns", "USE `fx`;\nCREATE TABLE `types` (`id` int NOT NULL, PRIMARY KEY (`id`));\n",
			[]string{"fx.types has 49 columns in the binlog", "and 1 in", "wrong schema file, or DDL outside the window?"}},
		{"other type", "-- Current Database: `fx`\nCREATE TABLE `nokey` (`a` int, `b` int, `f` float, `n` int);\n",
			[]string{"fx.nokey column 1 is varchar in the binlog but `a` int", "binlog: varchar, int, float, int"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".sql")
			os.WriteFile(path, []byte("-- MariaDB dump\n"+tc.schema), 0o644)
			cfg := Config{Schema: loadSchema(t, path), VerifySchema: true, Filter: mustFilter(t, []string{"fx"}, nil, []string{"fx.bytes", "fx.fsp", "fx.gen"}, nil)}
			if tc.name == "other type" {
				cfg.Filter = mustFilter(t, nil, []string{"fx.nokey"}, nil, nil)
			}
			// From the first row change: the CREATE TABLE statements before it would name the
			// columns themselves, ahead of the schema file.
			out, _, err := replayFixture(t, "types_minimal", firstRowsTxn(t, "types_minimal"), cfg)
			if !errors.Is(err, ErrSchemaMismatch) {
				t.Fatalf("err = %v, want ErrSchemaMismatch", err)
			}
			var pe *binlog.PosError
			if !errors.As(err, &pe) {
				t.Errorf("error has no position: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			// The replay starts at the mismatching transaction: nothing of it may be written.
			if bytes.Contains(out, []byte("BEGIN")) {
				t.Errorf("SQL written for the mismatching transaction:\n%s", out)
			}
		})
	}
	if _, err := LoadSchema(context.Background(), filepath.Join("..", "..", "testdata", "dml", "find.txt")); err == nil {
		t.Errorf("a file without CREATE TABLE: want an error")
	}
}

// firstRowsTxn is where the first transaction with a rows event starts.
func firstRowsTxn(tb testing.TB, fixture string) binlog.Position {
	tb.Helper()
	src, err := binlog.OpenFiles(fixtureFiles(tb, fixture), binlog.FileOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	var txn binlog.Position
	for {
		ev, err := src.Next(context.Background())
		if err != nil {
			tb.Fatalf("no rows event: %v", err)
		}
		switch ev.Kind {
		case binlog.KindGTID:
			txn = ev.Pos
		case binlog.KindRows:
			return txn
		}
	}
}

// TestSchemaFromBinlogDDL: the dml history logged without column names replays to the same SQL
// as with them, its own CREATE TABLE and ALTER TABLE statements naming the columns as they
// change (shop.audit gains a column halfway).
func TestSchemaFromBinlogDDL(t *testing.T) {
	minimal, _, err := replayFixture(t, "minimal_metadata", binlog.Position{}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	full, _, err := replayFixture(t, "dml", binlog.Position{}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if statements(minimal) != statements(full) {
		t.Errorf("MINIMAL metadata differs from FULL:\n%s", firstDiff([]byte(statements(minimal)), []byte(statements(full))))
	}
	if !strings.Contains(string(minimal), "INSERT INTO `shop`.`audit` (`msg`,`at`) VALUES ('after alter',7);") {
		t.Errorf("the row after ALTER TABLE ADD COLUMN is not named by the new column list")
	}
}

// TestLoadSchemaFolders: mydumper and MySQL Shell dump folders.
func TestLoadSchemaFolders(t *testing.T) {
	my := t.TempDir()
	os.WriteFile(filepath.Join(my, "shop.orders-schema.sql"), []byte("/*!40101 SET NAMES binary*/;\nCREATE TABLE `orders` (\n  `id` int NOT NULL,\n  `g` point,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\n"), 0o644)
	os.WriteFile(filepath.Join(my, "shop-schema-create.sql"), []byte("CREATE DATABASE `shop`;\n"), 0o644)
	os.WriteFile(filepath.Join(my, "shop.orders.00000.sql"), []byte("INSERT INTO `orders` VALUES (1, NULL);\n"), 0o644)
	sh := t.TempDir()
	os.WriteFile(filepath.Join(sh, "@.json"), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(sh, "@.sql"), []byte("-- nothing\n"), 0o644)
	os.WriteFile(filepath.Join(sh, "my%20db@t.sql"), []byte("-- MySQLShell dump\nCREATE TABLE IF NOT EXISTS `t` (\n  `a` bigint unsigned NOT NULL,\n  `e` enum('x','y'),\n  PRIMARY KEY (`a`)\n);\n"), 0o644)
	for _, tc := range []struct{ dir, key string }{{my, "shop.orders"}, {sh, "my db.t"}} {
		c, err := LoadSchema(context.Background(), tc.dir)
		if err != nil {
			t.Fatal(err)
		}
		def := c.tables[tc.key]
		if def == nil || len(def.columns) != 2 || len(def.pk) != 1 {
			t.Errorf("%s: %+v", tc.key, def)
		}
	}
}

// TestCatalogKeysAndCharsets: rows of a table without a primary key are found by its first
// unique key on NOT NULL columns; a text column whose charset differs from the schema's is a
// mismatch.
func TestCatalogKeysAndCharsets(t *testing.T) {
	ctx := context.Background()
	tm := func(table string, coll uint64) *binlog.TableMap {
		// VARCHAR(5): 20 bytes in utf8mb4, 15 in utf8mb3, 5 in latin1.
		meta := map[uint64]uint16{45: 20, 33: 15, 8: 5}[coll]
		return &binlog.TableMap{Schema: "d", Table: table, Columns: []binlog.Column{{Type: 3}, {Type: 15, Collation: coll, Meta: meta}}}
	}
	cases := []struct {
		name, ddl string
		coll      uint64
		wantKey   []int
		wantErr   bool
	}{
		{"unique not null", "CREATE TABLE t (a INT NOT NULL, b VARCHAR(5), UNIQUE KEY u (a))", 45, []int{0}, false},
		{"column unique", "CREATE TABLE t (a INT, b VARCHAR(5) NOT NULL UNIQUE)", 45, []int{1}, false},
		{"nullable unique is no key", "CREATE TABLE t (a INT, b VARCHAR(5), UNIQUE KEY u (a))", 45, nil, false},
		{"primary key wins", "CREATE TABLE t (a INT NOT NULL, b VARCHAR(5) NOT NULL, UNIQUE KEY (a), PRIMARY KEY (b))", 45, []int{1}, false},
		{"charset from the table", "CREATE TABLE t (a INT, b VARCHAR(5)) DEFAULT CHARSET=latin1", 8, nil, false},
		{"charset mismatch", "CREATE TABLE t (a INT, b VARCHAR(5)) DEFAULT CHARSET=latin1", 45, nil, true},
		{"column charset mismatch", "CREATE TABLE t (a INT, b VARCHAR(5) CHARACTER SET utf8mb3)", 45, nil, true},
		{"utf8 is utf8mb3", "CREATE TABLE t (a INT, b VARCHAR(5) CHARACTER SET utf8)", 33, nil, false},
		{"length agrees", "CREATE TABLE t (a INT, b VARCHAR(5) CHARACTER SET utf8mb4)", 45, nil, false},
		{"length differs", "CREATE TABLE t (a INT, b VARCHAR(6) CHARACTER SET utf8mb4)", 45, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCatalog("test")
			if err := c.add(c.parser, "d", tc.ddl); err != nil {
				t.Fatal(err)
			}
			got, err := c.resolve(ctx, tm("t", tc.coll))
			if tc.wantErr {
				if !errors.Is(err, ErrSchemaMismatch) {
					t.Fatalf("err = %v, want a mismatch", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got.PrimaryKey) != fmt.Sprint(tc.wantKey) && !(len(got.PrimaryKey) == 0 && len(tc.wantKey) == 0) {
				t.Errorf("key %v, want %v", got.PrimaryKey, tc.wantKey)
			}
		})
	}
	// DROP INDEX of the unique key: no key any more.
	c := newCatalog("test")
	c.add(c.parser, "d", "CREATE TABLE t (a INT NOT NULL, b VARCHAR(5), UNIQUE KEY u (a))")
	ch, err := newDDLParser().change("d", []byte("ALTER TABLE t DROP INDEX u"))
	if err != nil || ch == nil {
		t.Fatal(ch, err)
	}
	if err := c.apply(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.resolve(ctx, tm("t", 45)); len(got.PrimaryKey) != 0 {
		t.Errorf("key %v after DROP INDEX", got.PrimaryKey)
	}
	if d := c.Describe(); !strings.Contains(d, "test (d.t)") {
		t.Errorf("Describe: %s", d)
	}
}
