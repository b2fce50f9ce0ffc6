package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

// TestIncidentFromDump is the incident from a logical backup alone: a table is dumped with
// --master-data --gtid, written to, then dropped by mistake while other tables go on. pitr
// rebuilds it in an empty server from the dump (--with-backup-data) and the binlogs (stopping
// before the DROP), and the rebuilt table must equal the table just before the DROP: CHECKSUM
// TABLE and every row in hex.
func TestIncidentFromDump(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB servers")
	}
	// With MINIMAL metadata the column names come from the dump's own CREATE TABLE statements.
	for _, meta := range []string{"FULL", "MINIMAL"} {
		t.Run(meta, func(t *testing.T) { incidentFromDump(t, meta) })
	}
	// MariaDB's default binlog_format logs most of the writes as statements.
	t.Run("MIXED", func(t *testing.T) { incidentFromDump(t, "MIXED") })
}

func incidentFromDump(t *testing.T, meta string) {
	opts := mariadbtest.Options{RowMetadata: meta}
	if meta == "MIXED" {
		opts = mariadbtest.Options{RowMetadata: "NO_LOG", ExtraArgs: []string{"--binlog-format=MIXED"}}
	}
	incidentFromDumpOn(t, opts)
}

func incidentFromDumpOn(t *testing.T, opts mariadbtest.Options) {
	ctx := context.Background()
	src := mariadbtest.Start(t, opts)
	mustScript(t, src, `CREATE DATABASE shop; CREATE DATABASE crm;
CREATE TABLE shop.victim (id INT PRIMARY KEY, amount DECIMAL(12,2), note VARCHAR(200), data MEDIUMBLOB,
  at DATETIME(6), ts TIMESTAMP(3) NULL, f FLOAT, e ENUM('new','paid'), u BIGINT UNSIGNED,
  tm TIME(6), y YEAR, b BIT(10), st SET('a','b','c'), j JSON, g POINT, d DOUBLE, l VARCHAR(20) CHARACTER SET latin1, ti TINYINT,
  dt DATE, c CHAR(5), tx TEXT, bn BINARY(4), mi MEDIUMINT UNSIGNED);
CREATE TABLE shop.other (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(20));
CREATE TABLE crm.people (id INT PRIMARY KEY, name VARCHAR(50));
INSERT INTO shop.victim VALUES (1, 10.50, 'first', X'00FF', '2024-01-01 00:00:00.000001', '2024-01-01 00:00:00.123', 0.1, 'new', 18446744073709551615,
    '-838:59:59.000000', 1901, b'1010101010', 'a,c', '{"k": [1, 2.5, "é"]}', ST_GeomFromText('POINT(1 2)'), 1.7976931348623157e308, _latin1 X'E9', -128, '1000-01-01', 'abc', 'long text 🙂', X'00010203', 16777215),
  (2, -3.25, 'it''s "quoted"', REPEAT(X'AB', 100000), '1999-12-31 23:59:59.999999', NULL, -1.5e10, 'paid', 0,
    '12:00:00.5', 2155, b'0', '', 'null', NULL, -0.0, '', 127, '9999-12-31', '', '', X'FF', 0);
INSERT INTO shop.other (v) VALUES ('a'), ('b');
INSERT INTO crm.people VALUES (1, 'Ann');`)
	dump := filepath.Join(t.TempDir(), "dump.sql")
	out, err := exec.Command("mariadb-dump", "--no-defaults", "-uroot", "--socket="+src.Socket, "--single-transaction",
		"--master-data=2", "--gtid", "--databases", "shop", "crm").Output()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(dump, out, 0o644)
	mustScript(t, src, `INSERT INTO shop.victim (id, amount, note, at, ts, f, u) VALUES (3, 99.99, 'after backup', '2024-02-29 12:00:00', '2024-02-29 12:00:00', 3.25, 7);
ALTER TABLE shop.victim ADD COLUMN added VARCHAR(10) NOT NULL DEFAULT 'def' AFTER note, MODIFY COLUMN ti SMALLINT;
INSERT INTO shop.victim (id, note, added, ti) VALUES (4, 'after alter', 'set', 300);
BEGIN; UPDATE shop.victim SET amount = amount * 2, note = CONCAT(note, ' ✓') WHERE id <= 2; INSERT INTO shop.other (v) VALUES ('c'); COMMIT;
DELETE FROM shop.victim WHERE id = 1;
INSERT INTO crm.people VALUES (2, 'Bob');`)
	wantSum, wantRows := tableRows(t, src.DB, "shop.victim")
	// After the mistake: other tables go on, and a new table of the same name is created and
	// written to; none of that may reach the rebuilt table.
	mustScript(t, src, `DROP TABLE shop.victim; INSERT INTO shop.other (v) VALUES ('after the drop'); INSERT INTO crm.people VALUES (3, 'Cy');
CREATE TABLE shop.victim LIKE shop.other; INSERT INTO shop.victim (v) VALUES ('recreated');`)
	if err := src.FlushBinlogs(ctx); err != nil {
		t.Fatal(err)
	}
	files, err := src.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// The usual way: the whole dump restored, then the binlog replay on top.
	restored := mariadbtest.Start(t, mariadbtest.Options{NoBinlog: true})
	load := restored.Client(ctx)
	load.Stdin = bytes.NewReader(out)
	if msg, err := load.CombinedOutput(); err != nil {
		t.Fatalf("restoring the dump: %v\n%s", err, msg)
	}
	// Statements logged under time_zone SYSTEM need the source's zone: this machine's.
	ro := replayOptions{timezone: "UTC", batch: 1, maxPacket: "64M", tables: []string{"shop.victim"}, sourceTZ: "SYSTEM"}
	ro.incident.fromBackup, ro.incident.stopBeforeDrop = dump, true
	var onTop bytes.Buffer
	if err := runReplay(ctx, ro, &globalOptions{quiet: true}, files, &onTop); err != nil {
		t.Fatal(err)
	}
	apply := restored.Client(ctx)
	apply.Stdin = &onTop
	if msg, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("replaying onto the restored dump: %v\n%s", err, msg)
	}
	if sum, rows := tableRows(t, restored.DB, "shop.victim"); sum != wantSum || strings.Join(rows, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("restored dump + replay differs from the table before the DROP:\nwant %s %v\ngot  %s %v", wantSum, wantRows, sum, rows)
	}

	// From the backup file alone, into an empty server.
	dst := mariadbtest.Start(t, mariadbtest.Options{NoBinlog: true})
	o := replayOptions{timezone: "UTC", batch: 1, maxPacket: "64M", tables: []string{"shop.victim"}, sourceTZ: "SYSTEM"}
	o.incident.fromBackup, o.incident.withData, o.incident.stopBeforeDrop = dump, true, true
	var replay bytes.Buffer
	if err := runReplay(ctx, o, &globalOptions{quiet: true}, files, &replay); err != nil {
		t.Fatal(err)
	}
	cmd := dst.Client(ctx)
	cmd.Stdin = &replay
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("applying: %v\n%s", err, msg)
	}
	gotSum, gotRows := tableRows(t, dst.DB, "shop.victim")
	if gotSum != wantSum || strings.Join(gotRows, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("rebuilt table differs from the table before the DROP:\nwant %s\n%s\ngot  %s\n%s", wantSum, strings.Join(wantRows, "\n"), gotSum, strings.Join(gotRows, "\n"))
	}
	var others int
	dst.DB.QueryRow("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ('shop','crm')").Scan(&others)
	if others != 1 {
		t.Errorf("the target holds %d tables of shop and crm, want only the victim", others)
	}

	// pitr extract alone gives the table as the dump holds it.
	var ex bytes.Buffer
	if err := runExtract(ctx, extractOptions{fromBackup: dump, tables: []string{"crm.people"}}, &ex); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ex.String(), "CREATE TABLE `people`") || !strings.Contains(ex.String(), "'Ann'") || strings.Contains(ex.String(), "victim") {
		t.Errorf("extract crm.people:\n%s", ex.String())
	}
	if err := runExtract(ctx, extractOptions{fromBackup: dump, tables: []string{"crm.nope"}}, &ex); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("extract of a missing table: %v", err)
	}
}

func mustScript(tb testing.TB, s *mariadbtest.Server, script string) {
	tb.Helper()
	if err := s.ExecScript(context.Background(), script); err != nil {
		tb.Fatal(err)
	}
}

// tableRows returns CHECKSUM TABLE and every row with each column in hex, in a stable order.
func tableRows(tb testing.TB, db *sql.DB, table string) (string, []string) {
	tb.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	conn.ExecContext(ctx, "SET time_zone='+00:00'")
	var name string
	var sum sql.NullString
	if err := conn.QueryRowContext(ctx, "CHECKSUM TABLE "+table).Scan(&name, &sum); err != nil {
		tb.Fatal(err)
	}
	schema, tbl, _ := strings.Cut(table, ".")
	rows, err := conn.QueryContext(ctx, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=? AND TABLE_NAME=? ORDER BY ORDINAL_POSITION", schema, tbl)
	if err != nil {
		tb.Fatal(err)
	}
	var cols []string
	for rows.Next() {
		var c string
		rows.Scan(&c)
		cols = append(cols, fmt.Sprintf("IFNULL(HEX(CAST(`%s` AS BINARY)), 'NULL')", c))
	}
	rows.Close()
	rs, err := conn.QueryContext(ctx, "SELECT CONCAT_WS('|', "+strings.Join(cols, ",")+") r FROM "+table+" ORDER BY r")
	if err != nil {
		tb.Fatal(err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var r string
		rs.Scan(&r)
		out = append(out, r)
	}
	return sum.String, out
}

// TestIncidentMassDelete: a DELETE without WHERE empties a table. pitr find names the
// transaction; replaying from the backup (xtrabackup- and mydumper-style metadata written from
// the server's own coordinates, the data restored from a dump taken at the same moment) up to
// it, by position and by GTID, gives the table as it was just before.
func TestIncidentMassDelete(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB servers")
	}
	ctx := context.Background()
	src := mariadbtest.Start(t, mariadbtest.Options{})
	mustScript(t, src, `CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(30), price DECIMAL(8,2));
INSERT INTO shop.items VALUES (1, 'a', 1.00), (2, 'b', 2.00), (3, 'c', 3.00);`)
	// The backup: data from a dump, coordinates as xtrabackup and mydumper record them.
	data, err := exec.Command("mariadb-dump", "--no-defaults", "-uroot", "--socket="+src.Socket, "--single-transaction",
		"--master-data=2", "--gtid", "--databases", "shop").Output()
	if err != nil {
		t.Fatal(err)
	}
	var file, pos, doDB, ignoreDB, gtid string
	if err := src.DB.QueryRow("SHOW MASTER STATUS").Scan(&file, &pos, &doDB, &ignoreDB); err != nil {
		t.Fatal(err)
	}
	src.DB.QueryRow("SELECT @@gtid_binlog_pos").Scan(&gtid)
	dir := t.TempDir()
	xb := filepath.Join(dir, "xtrabackup_binlog_info")
	os.WriteFile(xb, []byte(file+"\t"+pos+"\t"+gtid+"\n"), 0o644)
	mydumper := filepath.Join(dir, "metadata")
	os.WriteFile(mydumper, []byte("Started dump at: 2024-01-01 00:00:00\nSHOW MASTER STATUS:\n\tLog: "+file+"\n\tPos: "+pos+"\n\tGTID:"+gtid+"\n\nFinished dump at: 2024-01-01 00:00:01\n"), 0o644)

	mustScript(t, src, `INSERT INTO shop.items VALUES (4, 'd', 4.00); UPDATE shop.items SET price = price + 10 WHERE id = 2; DELETE FROM shop.items WHERE id = 3;`)
	wantSum, wantRows := tableRows(t, src.DB, "shop.items")
	mustScript(t, src, `DELETE FROM shop.items; INSERT INTO shop.items VALUES (9, 'after', 9.00);`)
	src.FlushBinlogs(ctx)
	files, err := src.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}

	var found bytes.Buffer
	if err := runFind(ctx, findOptions{rows: 2, json: true, tables: []string{"shop.items"}}, &globalOptions{quiet: true}, files, &found); err != nil {
		t.Fatal(err)
	}
	var list []struct{ Start, What, GTID string }
	if err := json.Unmarshal(found.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	var mass struct{ Start, What, GTID string }
	for _, f := range list {
		if f.What == "MASS DELETE" {
			mass = f
		}
	}
	if mass.Start == "" || mass.GTID == "" {
		t.Fatalf("find did not name the mass delete: %s", found.String())
	}

	for _, tc := range []struct {
		name   string
		backup string
		stop   func(o *replayOptions)
	}{
		{"xtrabackup, by position", xb, func(o *replayOptions) { o.stopPosition = mass.Start }},
		{"mydumper, by GTID", mydumper, func(o *replayOptions) { o.incident.stopGTID = mass.GTID }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := mariadbtest.Start(t, mariadbtest.Options{NoBinlog: true})
			restore := dst.Client(ctx)
			restore.Stdin = bytes.NewReader(data)
			if msg, err := restore.CombinedOutput(); err != nil {
				t.Fatalf("restoring the dump: %v\n%s", err, msg)
			}
			o := replayOptions{timezone: "UTC", batch: 1, maxPacket: "64M", tables: []string{"shop.items"}}
			o.incident.fromBackup = tc.backup
			tc.stop(&o)
			var replay bytes.Buffer
			if err := runReplay(ctx, o, &globalOptions{quiet: true}, files, &replay); err != nil {
				t.Fatal(err)
			}
			cmd := dst.Client(ctx)
			cmd.Stdin = &replay
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("applying: %v\n%s", err, msg)
			}
			gotSum, gotRows := tableRows(t, dst.DB, "shop.items")
			if gotSum != wantSum || strings.Join(gotRows, "\n") != strings.Join(wantRows, "\n") {
				t.Errorf("want %s %v, got %s %v", wantSum, wantRows, gotSum, gotRows)
			}
		})
	}
}
