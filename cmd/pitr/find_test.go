package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFindGolden: pitr find on the fixtures, compared with testdata/<fixture>/find*.txt. The
// minimal_metadata fixture has no column names; find must not need them.
func TestFindGolden(t *testing.T) {
	cases := []struct {
		fixture, name string
		opts          findOptions
	}{
		{"dml", "find", findOptions{rows: 1}},
		{"dml", "find_audit", findOptions{rows: 1, tables: []string{"shop.audit"}}},
		{"minimal_metadata", "find", findOptions{rows: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.fixture+"/"+tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := runFind(context.Background(), tc.opts, &globalOptions{quiet: true}, fixture(tc.fixture), &out); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("..", "..", "testdata", tc.fixture, tc.name+".txt")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("output differs from %s:\n%s", golden, out.String())
			}
		})
	}
}

// TestFindStopPosition: the start of the DROP that find reports, given to replay as
// --stop-position, stops the replay just before the DROP and after everything else.
func TestFindStopPosition(t *testing.T) {
	var out bytes.Buffer
	if err := runFind(context.Background(), findOptions{rows: 1000, json: true}, &globalOptions{quiet: true}, fixture("dml"), &out); err != nil {
		t.Fatal(err)
	}
	var found []struct {
		Start, What string
	}
	if err := json.Unmarshal(out.Bytes(), &found); err != nil {
		t.Fatal(err)
	}
	stop := ""
	for _, f := range found {
		if f.What == "DROP TABLE" {
			stop = f.Start
		}
	}
	if stop == "" {
		t.Fatalf("find reported no DROP TABLE: %s", out.String())
	}
	var byPos, byDrop bytes.Buffer
	o := replayOptions{timezone: "UTC", batch: 1, maxPacket: "64M", stopPosition: stop}
	if err := runReplay(context.Background(), o, &globalOptions{quiet: true}, fixture("dml"), &byPos); err != nil {
		t.Fatal(err)
	}
	o = replayOptions{timezone: "UTC", batch: 1, maxPacket: "64M"}
	o.incident.stopBeforeDrop = true
	if err := runReplay(context.Background(), o, &globalOptions{quiet: true}, fixture("dml"), &byDrop); err != nil {
		t.Fatal(err)
	}
	if body(byPos.String()) != body(byDrop.String()) || strings.Count(byPos.String(), "COMMIT;") != 16 { // 9 with rows, 7 DDL
		t.Errorf("--stop-position %s and --stop-before-drop differ, or not 16 transactions:\n%s\n----\n%s", stop, byPos.String(), byDrop.String())
	}
}

// TestFromBackup: --from-backup starts at the dump's position and skips what its GTID position
// already holds, even where the position alone would replay it (0-1-10 and 0-1-12 start after
// the position but are in the backup).
func TestFromBackup(t *testing.T) {
	dump := filepath.Join(t.TempDir(), "dump.sql")
	os.WriteFile(dump, []byte("-- MariaDB dump 10.19\n-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000003', MASTER_LOG_POS=342;\nINSERT INTO t VALUES (1);\n-- SET GLOBAL gtid_slave_pos='0-1-12';\n"), 0o644)
	var out bytes.Buffer
	o := replayOptions{timezone: "UTC", batch: 1, maxPacket: "64M"}
	o.incident.fromBackup = dump
	if err := runReplay(context.Background(), o, &globalOptions{quiet: true}, fixture("dml"), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	// 0-1-13 to 0-1-18, the DROP TABLE (0-1-17) among them.
	if strings.Count(got, "COMMIT;") != 6 || strings.Contains(got, "GTID 0-1-12 ") || !strings.Contains(got, "GTID 0-1-13 ") || !strings.Contains(got, "DROP TABLE") {
		t.Errorf("want the 6 transactions after 0-1-12:\n%s", got)
	}
	o.startPosition = "mysql-bin.000003:342"
	if err := runReplay(context.Background(), o, &globalOptions{quiet: true}, fixture("dml"), &out); exitCode(err) != exitUsage {
		t.Errorf("--from-backup with --start-position: %v, want a usage error", err)
	}
	o.startPosition, o.incident.fromBackup = "", filepath.Join(t.TempDir(), "missing.sql")
	if err := runReplay(context.Background(), o, &globalOptions{quiet: true}, fixture("dml"), &out); err == nil || !strings.Contains(err.Error(), "missing.sql") {
		t.Errorf("missing backup: %v", err)
	}
}
