package restore

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
	"github.com/pitr-tool/pitr/pkg/binlog"
)

// TestApplyRoundTripChecks applies the every-type fixture workload (testdata/types/setup.sql,
// with updates and deletes of every column type, folded and single, keyed and keyless) through
// the Applier into an identical target, with the row checks on: by key, and by the whole before
// image. A check that failed a row the target does hold (a type whose literal does not compare
// equal to its own value, an update to the same values) would stop it here.
func TestApplyRoundTripChecks(t *testing.T) {
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
	_, dml, _ = strings.Cut(dml, "\n")
	dml = "SET SESSION time_zone = '+03:00';\nUSE fx;\n" + dml + `
UPDATE types SET ti = 5, bl = X'0102', lb = NULL, j = '{"changed": true}', g = NULL WHERE id = 2;
UPDATE types SET f = -f, dbl = -dbl, d65 = -d65, biu = IF(biu > 0, biu - 1, 7), b64 = b64 >> 1 WHERE id IN (1, 2);
UPDATE types SET vc = vc WHERE id IN (1, 2);
UPDATE bytes SET l1 = CONCAT(l1, _latin1 X'FF'), u = CONCAT(u, '€') WHERE id = 1;
INSERT INTO nokey VALUES (NULL, NULL, NULL, NULL), (NULL, NULL, NULL, NULL);
DELETE FROM nokey WHERE a IS NULL LIMIT 1;
UPDATE nokey SET f = 3.25 WHERE f = 0.1;
UPDATE gen SET a = a - 1, b = CONCAT(b, '-') ORDER BY id;
INSERT INTO types (id, vc) SELECT 200 + id, 'to delete' FROM types WHERE id < 200;
UPDATE types SET f = f WHERE id >= 200;
DELETE FROM types WHERE id >= 200 ORDER BY id;
DELETE FROM types WHERE id = 1;
`
	ctx := context.Background()
	src := mariadbtest.Start(t, mariadbtest.Options{})
	if err := src.ExecScript(ctx, setup); err != nil {
		t.Fatal(err)
	}
	if err := src.FlushBinlogs(ctx); err != nil {
		t.Fatal(err)
	}
	before, err := src.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.ExecScript(ctx, dml); err != nil {
		t.Fatal(err)
	}
	files, err := src.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	files = files[len(before)-1:]
	dump, err := exec.Command("mariadb-dump", "--no-defaults", "-uroot", "--socket="+src.Socket, "--no-data", "--databases", "fx").Output()
	if err != nil {
		t.Fatal(err)
	}
	schemaPath := filepath.Join(t.TempDir(), "schema.sql")
	if err := os.WriteFile(schemaPath, dump, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, beforeImage := range []bool{false, true} {
		dst := mariadbtest.Start(t, mariadbtest.Options{NoBinlog: true})
		if err := dst.ExecScript(ctx, setup); err != nil {
			t.Fatal(err)
		}
		cfg, err := mysql.ParseDSN(dst.DSN(""))
		if err != nil {
			t.Fatal(err)
		}
		cfg.ClientFoundRows = true
		conn, err := mysql.NewConnector(cfg)
		if err != nil {
			t.Fatal(err)
		}
		db := sql.OpenDB(conn)
		schema, err := LoadSchema(ctx, schemaPath)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Apply(ctx, ApplyConfig{
			// The schema for the generated columns, which no binlog marks.
			Config:  Config{Render: RenderOptions{Batch: 50, MaxPacket: 16 << 20, BeforeImage: beforeImage}, Schema: schema, VerifySchema: true},
			Connect: func(ctx context.Context) (*sql.Conn, error) { return db.Conn(ctx) },
			Open: func(context.Context, binlog.Position) (binlog.Source, error) {
				return binlog.OpenFiles(files, binlog.FileOptions{})
			},
			Checkpoint: &Checkpoint{DB: "pitr", Table: "checkpoint", Name: "rt"},
			MaxBatch:   1 << 20,
		})
		db.Close()
		if err != nil {
			t.Fatalf("before image %v: %v", beforeImage, err)
		}
		if res.Updates == 0 || res.Deletes == 0 {
			t.Fatalf("before image %v: %d updates, %d deletes: the test checks nothing", beforeImage, res.Updates, res.Deletes)
		}
		for _, table := range []string{"types", "bytes", "nokey", "fsp", "gen", "geo_order"} {
			compareTable(t, src.DB, dst.DB, "fx", table)
		}
	}
}
