package binlog

import (
	"compress/gzip"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

const u1 = "3e11fa47-71ca-11e1-9e33-c80aa9429562"

func TestReadBackup(t *testing.T) {
	cases := []struct {
		name, file, text string
		kind, start      string
		gtid             *GTID // a GTID the backup must hold
		bad              string
	}{
		{name: "mysqldump 5.7", file: "dump.sql", text: "-- MySQL dump 10.13\n--\nSET @@GLOBAL.GTID_PURGED='" + u1 + ":1-5';\n\n--\n-- Position to start replication or point-in-time recovery from\n--\n\n-- CHANGE MASTER TO MASTER_LOG_FILE='binlog.000002', MASTER_LOG_POS=154;\nCREATE TABLE t (a int);\nINSERT INTO t VALUES (1),('-- CHANGE MASTER TO MASTER_LOG_FILE=''x.1'', MASTER_LOG_POS=9');\n",
			kind: "mysqldump", start: "binlog.000002:154", gtid: &GTID{GNO: 5}},
		{name: "mysqldump 8 source-data, multi-line GTID set", file: "dump.sql", text: "-- MySQL dump 10.13  Distrib 8.0.36\nSET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '" + u1 + ":1-3,\n55778904-0299-11f1-b1b8-4ef0c4956feb:1-9';\nCHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000007', SOURCE_LOG_POS=4721;\n",
			kind: "mysqldump", start: "binlog.000007:4721", gtid: &GTID{GNO: 3}},
		{name: "mariadb-dump --gtid, deferred GTID", file: "dump.sql", text: "/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump 10.19\n-- CHANGE MASTER TO MASTER_USE_GTID=slave_pos;\n-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=823;\nINSERT INTO t VALUES (1);\n-- SET GLOBAL gtid_slave_pos='0-1-3';\n",
			kind: "mysqldump", start: "mysql-bin.000001:823", gtid: &GTID{MariaDB: true, Domain: 0, ServerID: 1, Seq: 3}},
		{name: "dump.sql.gz", file: "dump.sql.gz", text: "-- MySQL dump\nCHANGE MASTER TO MASTER_LOG_FILE='b.000003', MASTER_LOG_POS=4;\n", kind: "mysqldump", start: "b.000003:4"},
		{name: "xtrabackup", file: "xtrabackup_binlog_info", text: "mysql-bin.000002\t1234\t" + u1 + ":1-10,\n55778904-0299-11f1-b1b8-4ef0c4956feb:1-2\n", kind: "xtrabackup", start: "mysql-bin.000002:1234", gtid: &GTID{GNO: 10}},
		{name: "mariabackup", file: "xtrabackup_binlog_info", text: "mysql-bin.000003\t385\t0-1-17\n", kind: "xtrabackup", start: "mysql-bin.000003:385", gtid: &GTID{MariaDB: true, ServerID: 1, Seq: 17}},
		{name: "mydumper old", file: "metadata", text: "Started dump at: 2024-01-01 00:00:00\nSHOW MASTER STATUS:\n\tLog: mysql-bin.000004\n\tPos: 1001\n\tGTID:0-1-42\n\nFinished dump at: 2024-01-01 00:00:01\n", kind: "mydumper", start: "mysql-bin.000004:1001", gtid: &GTID{MariaDB: true, ServerID: 1, Seq: 42}},
		{name: "mydumper ini", file: "metadata", text: "# Started dump at: 2024-01-01 00:00:00\n[config]\nquote_character = BACKTICK\n\n[master]\n# Channel_Name = ''\nFile = binlog.000009\nPosition = 157\nExecuted_Gtid_Set = " + u1 + ":1-77\n\n[`db`.`t`]\nreal_table_name=t\n", kind: "mydumper", start: "binlog.000009:157", gtid: &GTID{GNO: 77}},
		{name: "mysqlsh", file: "@.json", text: `{"dumper": "mysqlsh Ver 8.0.33", "binlogFile": "binlog.000012", "binlogPosition": 2981, "gtidExecuted": "` + u1 + `:1-12"}`, kind: "mysqlsh", start: "binlog.000012:2981", gtid: &GTID{GNO: 12}},
		{name: "dump without master-data", file: "dump.sql", text: "-- MySQL dump 10.13\nCREATE TABLE t (a int);\n", bad: "--master-data"},
		{name: "ambiguous dump", file: "dump.sql", text: "-- MySQL dump\n-- CHANGE MASTER TO MASTER_LOG_FILE='a.000001', MASTER_LOG_POS=4;\nCHANGE MASTER TO MASTER_LOG_FILE='b.000001', MASTER_LOG_POS=9;\n", bad: "--dump-slave"},
		{name: "not a dump", file: "notes.txt", text: "hello\n", bad: "not a mysqldump"},
		{name: "empty xtrabackup info", file: "xtrabackup_binlog_info", text: "\n", bad: "FILE POSITION"},
		{name: "mysqlsh without binlog", file: "@.json", text: `{"dumper": "x"}`, bad: "binlogFile"},
		{name: "mydumper without master", file: "metadata", text: "Started dump at: x\nFinished dump at: y\n", bad: "names no binlog file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.file)
			data := []byte(tc.text)
			if strings.HasSuffix(tc.file, ".gz") {
				f, _ := os.Create(path)
				zw := gzip.NewWriter(f)
				zw.Write(data)
				zw.Close()
				f.Close()
			} else if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			b, err := ReadBackup(path)
			if tc.bad != "" {
				if err == nil || !errors.Is(err, ErrBackup) || !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("err = %v, want ErrBackup mentioning %q", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Kind != tc.kind || b.Start.String() != tc.start {
				t.Errorf("got %s at %s, want %s at %s", b.Kind, b.Start, tc.kind, tc.start)
			}
			if tc.gtid != nil {
				g := *tc.gtid
				if !g.MariaDB {
					g.SID, _ = parseUUID(u1)
				}
				if !b.GTIDs.Contains(g) {
					t.Errorf("backup GTIDs %q lack %s", b.GTIDs, g)
				}
			}
		})
	}
	// A folder is searched for the metadata files.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "xtrabackup_binlog_info"), []byte("mysql-bin.000001\t4\n"), 0o644)
	if b, err := ReadBackup(dir); err != nil || b.Start.String() != "mysql-bin.000001:4" {
		t.Errorf("folder: %v, %v", b, err)
	}
	if _, err := ReadBackup(t.TempDir()); err == nil || !strings.Contains(err.Error(), "xtrabackup_binlog_info") {
		t.Errorf("empty folder: %v", err)
	}
}

// TestReadBackupRealDump: a real mariadb-dump --master-data=2 --gtid names the position that
// SHOW MASTER STATUS gave at the backup, and the GTID position.
func TestReadBackupRealDump(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a MariaDB server")
	}
	ctx := context.Background()
	s := mariadbtest.Start(t, mariadbtest.Options{})
	if err := s.ExecScript(ctx, "CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v MEDIUMTEXT); INSERT INTO d.t VALUES (1, REPEAT('x', 100000)), (2, 'CHANGE MASTER TO MASTER_LOG_FILE=''evil.000001'', MASTER_LOG_POS=1;');"); err != nil {
		t.Fatal(err)
	}
	var file, pos, doDB, ignoreDB, gtidPos string
	if err := s.DB.QueryRow("SHOW MASTER STATUS").Scan(&file, &pos, &doDB, &ignoreDB); err != nil {
		t.Fatal(err)
	}
	if err := s.DB.QueryRow("SELECT @@gtid_binlog_pos").Scan(&gtidPos); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mariadb-dump", "--no-defaults", "-uroot", "--socket="+s.Socket, "--single-transaction",
		"--master-data=2", "--gtid", "--databases", "d").Output()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dump.sql")
	os.WriteFile(path, out, 0o644)
	b, err := ReadBackup(path)
	if err != nil {
		t.Fatal(err)
	}
	if b.Start.String() != file+":"+pos {
		t.Errorf("start %s, want %s:%s", b.Start, file, pos)
	}
	if b.GTIDs.String() != gtidPos {
		t.Errorf("GTIDs %q, want %q", b.GTIDs, gtidPos)
	}
}
