package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

// TestFlashbackPartialImages runs one mistake per case under binlog_row_image MINIMAL or NOBLOB
// (set for the session, on one server) and undoes it: a change whose images make the inverse
// exact (the primary key finds the row and nothing to put back is missing, or the image is
// full) is undone byte-identically, piped into the server, with the reason logged; any other is
// refused, naming the table, the statement kind, the position and the missing columns, and
// nothing is printed.
func TestFlashbackPartialImages(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a MariaDB server")
	}
	ctx := context.Background()
	s := mariadbtest.Start(t, mariadbtest.Options{})
	const keyed = "(id INT PRIMARY KEY, a INT DEFAULT 5, t TEXT, b BLOB, vc VARCHAR(20) CHARACTER SET utf8mb4)"
	const seed = "(id, a, t, b, vc) VALUES (1, 1, 'one', x'00ff', 'é1'), (2, 2, NULL, x'01', 'é2'), (3, NULL, 'three', NULL, NULL)"
	cases := []struct {
		name, image, table, mistake string
		why                         string   // logged for an exact undo from a partial image; "" for a full one
		refused                     []string // the error's parts, for a refused one
	}{
		// Exact.
		{name: "minimal insert by key", image: "MINIMAL", table: keyed,
			mistake: "INSERT INTO %s (id, t) VALUES (10, 'new'), (11, NULL)",
			why:     "the after image holds the primary key (`id`), which finds the one row the INSERT wrote; the columns it leaves out (`a`, `b`, `vc`)"},
		{name: "minimal update of the key", image: "MINIMAL", table: keyed,
			mistake: "UPDATE %s SET id = id + 100",
			why:     "every column it set is in the before image, and the after image holds the primary key (`id`)"},
		{name: "minimal keyless", image: "MINIMAL", table: "(a INT, t TEXT, vc VARCHAR(20))",
			mistake: "UPDATE %[1]s SET a = a + 1; DELETE FROM %[1]s WHERE t = 'one'; INSERT INTO %[1]s (a) VALUES (9), (9)"},
		{name: "noblob update without blob", image: "NOBLOB", table: keyed,
			mistake: "UPDATE %s SET a = a * 10, vc = 'x'",
			why:     "every column it set is in the before image, and the after image holds the primary key (`id`), which finds the row; the columns the images leave out (`t`, `b`)"},
		{name: "noblob insert without blob", image: "NOBLOB", table: keyed,
			mistake: "INSERT INTO %s (id, a) VALUES (20, 1)",
			why:     "the after image holds the primary key (`id`), which finds the one row the INSERT wrote; the columns it leaves out (`t`, `b`)"},
		{name: "noblob table without blob", image: "NOBLOB", table: "(id INT PRIMARY KEY, a INT DEFAULT 5, vc VARCHAR(20))",
			mistake: "UPDATE %[1]s SET a = 0; DELETE FROM %[1]s WHERE id = 2; INSERT INTO %[1]s (id) VALUES (7)"},
		{name: "noblob keyless", image: "NOBLOB", table: "(a INT, t TEXT, b BLOB)",
			mistake: "UPDATE %[1]s SET t = 'changed'; DELETE FROM %[1]s WHERE a = 1"},
		// MariaDB takes a NOT NULL unique key for the primary key, in the images and the metadata.
		{name: "minimal insert by a unique key", image: "MINIMAL", table: "(id INT NOT NULL, a INT DEFAULT 5, t TEXT, UNIQUE KEY (id))",
			mistake: "INSERT INTO %s (id) VALUES (50)",
			why:     "the after image holds the primary key (`id`), which finds the one row the INSERT wrote; the columns it leaves out (`a`, `t`)"},
		// Refused.
		{name: "minimal update", image: "MINIMAL", table: keyed,
			mistake: "UPDATE %s SET a = 0 WHERE id = 1",
			refused: []string{"the before image of this UPDATE leaves out column `a` (the source logs binlog_row_image=MINIMAL or NOBLOB), which it set"}},
		{name: "minimal delete", image: "MINIMAL", table: keyed,
			mistake: "DELETE FROM %s",
			refused: []string{"the before image of this DELETE leaves out columns `a`, `t`, `b`, `vc`"}},
		{name: "noblob update of a text", image: "NOBLOB", table: keyed,
			mistake: "UPDATE %s SET t = 'x' WHERE id = 2",
			refused: []string{"the before image of this UPDATE leaves out column `t`"}},
		{name: "noblob delete", image: "NOBLOB", table: keyed,
			mistake: "DELETE FROM %s WHERE id = 3",
			refused: []string{"the before image of this DELETE leaves out columns `t`, `b`"}},
	}
	mustScript(t, s, "CREATE DATABASE pi")
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			table := fmt.Sprintf("pi.c%d", i)
			cols := seed
			if !strings.HasPrefix(c.table, keyed) {
				cols = "(a, t) VALUES (1, 'one'), (2, NULL), (1, 'one')"
				if strings.Contains(c.table, "vc") && !strings.Contains(c.table, " t ") {
					cols = "(id, a, vc) VALUES (1, 1, 'é1'), (2, NULL, NULL), (3, 3, 'é3')"
				}
				if strings.Contains(c.table, "UNIQUE") {
					cols = "(id, a, t) VALUES (1, 1, 'one')"
				}
			}
			mustScript(t, s, "CREATE TABLE "+table+" "+c.table+"; INSERT INTO "+table+" "+cols)
			want := snapshot(t, s.DB, table)
			start := masterPos(t, s.DB)
			mustScript(t, s, "SET SESSION binlog_row_image = "+c.image+"; "+fmt.Sprintf(c.mistake, table))
			stop := masterPos(t, s.DB)
			files, err := s.BinlogFiles(ctx)
			if err != nil {
				t.Fatal(err)
			}
			res := runPitr(t, append([]string{"replay", "--flashback", "--start-position", start, "--stop-position", stop, "-t", table}, files...)...)
			if c.refused != nil {
				line := wantFailure(t, res, 1, append([]string{": table " + table + ": "}, c.refused...)...)
				if !strings.Contains(line, "pitr: mysql-bin.") || !strings.Contains(line, "set binlog_row_image=FULL") {
					t.Errorf("the refusal names no position or way out: %s", line)
				}
				if strings.Contains(res.stdout, "BEGIN") || strings.Contains(res.stdout, "SET ") {
					t.Errorf("a refused flashback printed:\n%s", res.stdout)
				}
				return
			}
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			logged := strings.Contains(res.stderr, "undoing row changes from partial row images")
			if c.why == "" && logged || c.why != "" && (!logged || !strings.Contains(res.stderr, c.why)) {
				t.Errorf("stderr does not give the reason %q:\n%s", c.why, res.stderr)
			}
			cmd := s.Client(ctx, "--batch")
			cmd.Stdin = strings.NewReader(res.stdout)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("client: %v: %s\n%s", err, out, res.stdout)
			}
			sameSnapshot(t, table, want, snapshot(t, s.DB, table))
		})
	}
}
