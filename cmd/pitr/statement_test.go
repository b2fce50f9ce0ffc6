package main

import (
	"context"
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

// TestStatementDMLStops: a row change logged as a statement inside a kept transaction stops
// the run, naming the statement and its position, unless --skip-statements leaves it out.
func TestStatementDMLStops(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a MariaDB server")
	}
	// MIXED logs a deterministic statement as it is.
	_, files := statementSource(t, `CREATE TABLE app.t (id INT PRIMARY KEY, v INT);
BEGIN; INSERT INTO app.t VALUES (1, 1); INSERT INTO app.t VALUES (2, UUID_SHORT() % 1000); COMMIT;`)
	res := runPitr(t, append([]string{"replay"}, files...)...)
	wantFailure(t, res, exitError, filepath.Base(files[0])+":", "INSERT INTO app.t VALUES (1, 1)", "--skip-statements", "--stop-position")
	if strings.Contains(body(res.stdout), "INSERT") { // the last comment, why the output ends, quotes it
		t.Errorf("the stopped transaction reached the output:\n%s", res.stdout)
	}
	res = runPitr(t, append([]string{"replay", "--skip-statements"}, files...)...)
	if res.code != 0 || !strings.Contains(res.stderr, "--skip-statements") || !strings.Contains(res.stdout, "INSERT INTO `app`.`t`") || strings.Contains(res.stdout, "(1,1)") {
		t.Errorf("--skip-statements: exit %d\nstderr: %s\nstdout: %s", res.code, res.stderr, res.stdout)
	}
}
