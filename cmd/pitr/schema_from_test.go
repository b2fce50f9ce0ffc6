package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
	"github.com/pitr-tool/pitr/pkg/mysqlconn"
	"github.com/pitr-tool/pitr/pkg/restore"
)

// TestSchemaFromServer: a MINIMAL-metadata binlog gets its column names from a live server, by
// --schema-from for files and by default when streaming from that server; a table the server
// no longer has is refused, never guessed.
func TestSchemaFromServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a MariaDB server")
	}
	ctx := context.Background()
	srv := mariadbtest.Start(t, mariadbtest.Options{RowMetadata: "MINIMAL"})
	// The tables are created before the binlogs replayed, so only the server can name their columns.
	mustScript(t, srv, `CREATE DATABASE s; CREATE TABLE s.t (id INT UNSIGNED PRIMARY KEY, e ENUM('x','y'), g BIGINT AS (id * 2) VIRTUAL);
CREATE TABLE s.gone (a INT);`)
	if err := srv.FlushBinlogs(ctx); err != nil {
		t.Fatal(err)
	}
	mustScript(t, srv, `INSERT INTO s.t (id, e) VALUES (4294967295, 'y'); UPDATE s.t SET e = 'x'; INSERT INTO s.gone VALUES (1); DROP TABLE s.gone;`)
	files, err := srv.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	files = files[1:]
	want := []string{"INSERT INTO `s`.`t` (`id`,`e`) VALUES (4294967295,'y');", "UPDATE `s`.`t` SET `e`='x' WHERE `id`=4294967295 LIMIT 1;"}

	o := replayOptions{timezone: "UTC", batch: 1, maxPacket: "64M", tables: []string{"s.t"}, schemaFrom: "mysql://root@localhost?socket=" + srv.Socket}
	o.apply.noDefaults = true
	var out bytes.Buffer
	if err := runReplay(ctx, o, &globalOptions{quiet: true}, files, &out); err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if !strings.Contains(out.String(), w) {
			t.Errorf("--schema-from output lacks %s:\n%s", w, out.String())
		}
	}

	// Streaming from the server: its schema is used without being asked for.
	so := replayOptions{timezone: "UTC", batch: 1, maxPacket: "64M", tables: []string{"s.t"}}
	so.apply.noDefaults = true
	so.stream.source = mysqlconn.Options{Socket: srv.Socket, User: "root"}
	so.startPosition = filepath.Base(files[0]) + ":4"
	out.Reset()
	if err := runReplay(ctx, so, &globalOptions{quiet: true}, nil, &out); err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if !strings.Contains(out.String(), w) {
			t.Errorf("streamed output lacks %s:\n%s", w, out.String())
		}
	}

	// The dropped table: the server no longer knows it.
	o.tables = []string{"s.gone"}
	err = runReplay(ctx, o, &globalOptions{quiet: true}, files, &out)
	if !errors.Is(err, restore.ErrNoColumnNames) || !strings.Contains(err.Error(), "s.gone") {
		t.Errorf("dropped table: %v", err)
	}
}
