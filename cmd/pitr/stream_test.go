package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
	"github.com/pitr-tool/pitr/pkg/mysqlconn"
)

// streamSetup writes rows of many types, across a binlog rotation, with fixed timestamps so
// that a transaction's first and last events carry the same time.
const streamSetup = `
SET TIMESTAMP = 1700000000;
CREATE DATABASE shop;
CREATE TABLE shop.t (
  id INT PRIMARY KEY, i8 TINYINT, u64 BIGINT UNSIGNED, d DECIMAL(20,6), f FLOAT, dbl DOUBLE,
  vc VARCHAR(50), bin VARBINARY(20), txt TEXT, bl BLOB, dt DATETIME(6), ts TIMESTAMP(3) NULL,
  dte DATE, tm TIME(2), y YEAR, e ENUM('a','b'), st SET('x','y'), bt BIT(5), j JSON);
CREATE TABLE shop.nokey (a INT, b VARCHAR(10));
INSERT INTO shop.t VALUES (1, -5, 18446744073709551615, -12345.678901, 1.5, 2.25, 'héllo', X'00FF', 'text', X'DEADBEEF',
  '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123', '2024-01-02', '-838:59:59.99', 2024, 'b', 'x,y', b'10101', '{"a": [1, 2.5]}');
INSERT INTO shop.t (id, vc) VALUES (2, 'two'), (3, NULL);
INSERT INTO shop.nokey VALUES (1, 'x'), (1, 'x');
FLUSH BINARY LOGS;
SET TIMESTAMP = 1700000100;
BEGIN; UPDATE shop.t SET vc = 'changed', d = 0.5 WHERE id = 2; DELETE FROM shop.t WHERE id = 3; COMMIT;
DELETE FROM shop.nokey LIMIT 1;
UPDATE shop.t SET j = '{"b": null}', bl = REPEAT('z', 300) WHERE id = 1;
`

// TestServerSource runs replay and fetch against a server, as a user would.
func TestServerSource(t *testing.T) {
	ctx := context.Background()
	srv := mariadbtest.Start(t, mariadbtest.Options{})
	if err := srv.ExecScript(ctx, streamSetup); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitBinlogCheckpoint(ctx); err != nil { // the setup rotated: let the file settle
		t.Fatal(err)
	}
	srv.Exec(t, "CREATE USER pitr@'%' IDENTIFIED BY 'S3cretPw'; GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO pitr@'%'")
	srv.Exec(t, "CREATE USER nopriv@'%' IDENTIFIED BY 'S3cretPw'")
	files, err := srv.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g := &globalOptions{quiet: true}
	fromSocket := func(o *replayOptions) {
		o.stream.source.Socket, o.stream.source.User = srv.Socket, "root"
		o.apply.noDefaults = true
	}

	t.Run("replay stream equals files", func(t *testing.T) {
		base := replayOptions{timezone: "UTC", batch: 1, maxPacket: "64M"}
		var fromFiles, fromServer bytes.Buffer
		if err := runReplay(ctx, base, g, files, &fromFiles); err != nil {
			t.Fatal(err)
		}
		o := base
		fromSocket(&o)
		if err := runReplay(ctx, o, g, nil, &fromServer); err != nil {
			t.Fatal(err)
		}
		want, got := normalize(fromFiles.String()), normalize(fromServer.String())
		if got != want {
			t.Errorf("streamed replay differs from the files':\n--- files\n%s\n--- stream\n%s", want, got)
		}
		if n := strings.Count(got, "\nCOMMIT;"); n != 12 { // 6 with rows, 3 DDL, 3 account statements
			t.Errorf("%d transactions, want 12:\n%s", n, got)
		}
	})

	t.Run("replay stream from a position, over TCP", func(t *testing.T) {
		start := filepath.Base(files[1]) + ":4"
		base := replayOptions{timezone: "UTC", batch: 1, maxPacket: "64M", startPosition: start, tables: []string{"shop.t"}}
		var fromFiles, fromServer bytes.Buffer
		if err := runReplay(ctx, base, g, files, &fromFiles); err != nil {
			t.Fatal(err)
		}
		o := base
		o.stream.source = connOpts("127.0.0.1", srv.Port, "pitr")
		o.apply.noDefaults = true
		t.Setenv("MYSQL_PWD", "S3cretPw")
		if err := runReplay(ctx, o, g, nil, &fromServer); err != nil {
			t.Fatal(err)
		}
		if got, want := normalize(fromServer.String()), normalize(fromFiles.String()); got != want || !strings.Contains(got, "changed") {
			t.Errorf("streamed replay differs from the files':\n--- files\n%s\n--- stream\n%s", want, got)
		}
	})

	t.Run("replay stream from a GTID", func(t *testing.T) {
		base := replayOptions{timezone: "UTC", batch: 1, maxPacket: "64M"}
		var fromFiles, fromServer bytes.Buffer
		if err := runReplay(ctx, base, g, files, &fromFiles); err != nil {
			t.Fatal(err)
		}
		// Start after the transaction before the UPDATE ... 'changed' one.
		want := normalize(fromFiles.String())
		m := regexp.MustCompile(`(?m)^-- \S+ committed .* GTID 0-1-(\d+) server 1\nBEGIN;\n(?:-- .*\n)*UPDATE .*'changed'`).FindStringSubmatchIndex(want)
		if m == nil {
			t.Fatalf("no UPDATE transaction in:\n%s", want)
		}
		seq, _ := strconv.Atoi(want[m[2]:m[3]])
		o := base
		fromSocket(&o)
		o.stream.startGTID = fmt.Sprintf("0-1-%d", seq-1)
		if err := runReplay(ctx, o, g, nil, &fromServer); err != nil {
			t.Fatal(err)
		}
		if w := fmt.Sprintf("\n-- window start: after the transactions of GTID set 0-1-%d (--start-gtid)\n", seq-1); !strings.Contains(fromServer.String(), w) {
			t.Errorf("the header does not say where the window starts (%q):\n%s", w, fromServer.String())
		}
		got := normalize(fromServer.String())
		if !strings.HasSuffix(got, want[m[0]:]) || strings.Count(got, "\nCOMMIT;") != strings.Count(want[m[0]:], "\nCOMMIT;") {
			t.Errorf("from GTID 0-1-%d:\n%s\nwant the end of:\n%s", seq-1, got, want)
		}

		// From the last GTID there is nothing to replay: the stream must still end, at the
		// server's position, though the server skipped every event on the way.
		var last struct{ Seq int64 }
		if err := srv.DB.QueryRow("SELECT SUBSTRING_INDEX(@@gtid_binlog_pos, '-', -1)").Scan(&last.Seq); err != nil {
			t.Fatal(err)
		}
		o.stream.startGTID = fmt.Sprintf("0-1-%d", last.Seq)
		o.stream.heartbeat = 100 * time.Millisecond
		tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		fromServer.Reset()
		if err := runReplay(tctx, o, g, nil, &fromServer); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(fromServer.String(), "COMMIT") {
			t.Errorf("from the last GTID:\n%s", fromServer.String())
		}
	})

	t.Run("fetch is byte-identical and resumes", func(t *testing.T) {
		dir := t.TempDir()
		o := fetchOptions{to: dir, noDefaults: true}
		o.stream.source.Socket, o.stream.source.User = srv.Socket, "root"
		if err := runFetch(ctx, o, g); err != nil {
			t.Fatal(err)
		}
		// The server's active file has the in-use flag set on disk, and so has the copy.
		sameFiles(t, srv, dir)

		// The active file ends at the next rotation: a rerun continues it, then the next.
		srv.Exec(t, "INSERT INTO shop.nokey VALUES (7, 'seven')")
		if err := srv.FlushBinlogs(ctx); err != nil {
			t.Fatal(err)
		}
		srv.Exec(t, "INSERT INTO shop.nokey VALUES (8, 'eight')")
		if err := runFetch(ctx, o, g); err != nil {
			t.Fatal(err)
		}
		sameFiles(t, srv, dir)

		// A torn event at the end (a fetch killed mid-write) is cut off and fetched again.
		all, _ := srv.BinlogFiles(ctx)
		last := filepath.Join(dir, filepath.Base(all[len(all)-1]))
		f, err := os.OpenFile(last, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
		f.Close()
		srv.Exec(t, "INSERT INTO shop.nokey VALUES (9, 'nine')")
		if err := runFetch(ctx, o, g); err != nil {
			t.Fatal(err)
		}
		sameFiles(t, srv, dir)

		// The saved files replay like the server's own.
		var fromCopy, fromServer bytes.Buffer
		base := replayOptions{timezone: "UTC", batch: 1, maxPacket: "64M"}
		copies, _ := filepath.Glob(filepath.Join(dir, "mysql-bin.*"))
		all, _ = srv.BinlogFiles(ctx)
		if err := runReplay(ctx, base, g, copies, &fromCopy); err != nil {
			t.Fatal(err)
		}
		if err := runReplay(ctx, base, g, all, &fromServer); err != nil {
			t.Fatal(err)
		}
		if normalize(fromCopy.String()) != normalize(fromServer.String()) {
			t.Errorf("replay of the fetched files differs:\n%s\n---\n%s", fromCopy.String(), fromServer.String())
		}
	})

	t.Run("fetch --follow", func(t *testing.T) {
		dir := t.TempDir()
		cmd := exec.Command(pitrBinary(t), "fetch", "--no-defaults", "--follow", "--heartbeat", "200ms",
			"--source-socket", srv.Socket, "--source-user", "root", "--to", dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		srv.Exec(t, "INSERT INTO shop.nokey VALUES (10, 'ten')")
		all, _ := srv.BinlogFiles(ctx)
		active := all[len(all)-1]
		deadline := time.Now().Add(15 * time.Second)
		for {
			want, _ := os.ReadFile(active)
			got, _ := os.ReadFile(filepath.Join(dir, filepath.Base(active)))
			if bytes.Equal(got, want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("--follow did not save the new event: %d of %d bytes\n%s", len(got), len(want), stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		cmd.Process.Signal(os.Interrupt)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
			t.Errorf("after SIGINT: %v, want exit code %d\n%s", err, exitInterrupted, stderr.String())
		}
		sameFiles(t, srv, dir)
	})

	t.Run("errors", func(t *testing.T) {
		// MYSQL_PWD and ~/.my.cnf must not change what these see.
		tcp := []string{"--no-defaults", "--source-host", "127.0.0.1", "--source-port", strconv.Itoa(srv.Port)}
		closed := closedPort(t)
		cases := []struct {
			name string
			args []string
			has  []string
		}{
			{"wrong password", append([]string{"replay", "--source-user", "pitr", "--source-password=Wr0ngPw"}, tcp...),
				[]string{"refused the login", "pitr@127.0.0.1", "--source-password", "MYSQL_PWD", `tried user "pitr" with the password from --source-password`}},
			// The same hint for the target (issue 13): which flags and password sources exist, and what was tried.
			{"wrong target password", []string{"replay", "--no-defaults", "--yes", "--target-host", "127.0.0.1", "--target-port", strconv.Itoa(srv.Port),
				"--target-user", "pitr", "--target-password=Wr0ngPw", filepath.Join(dmlFiles, "mysql-bin.000002")},
				[]string{"refused the login", "pitr@127.0.0.1", "--target-user", "--target-password", "MYSQL_PWD", "--defaults-file", `tried user "pitr" with the password from --target-password`}},
			{"closed port", []string{"fetch", "--no-defaults", "--to", t.TempDir(), "--source-host", "127.0.0.1", "--source-port", closed, "--source-user", "pitr"},
				[]string{"cannot connect", "127.0.0.1:" + closed, "--source-port"}},
			{"no privilege", append([]string{"replay", "--source-user", "nopriv", "--source-password=S3cretPw"}, tcp...),
				[]string{"lacks the privileges", "REPLICATION SLAVE"}},
			{"purged start file", append([]string{"replay", "--source-user", "pitr", "--source-password=S3cretPw", "--start-position", "mysql-bin.000000:4"}, tcp...),
				[]string{"mysql-bin.000000", "not on the source server", "mysql-bin.000001"}},
			{"purged fetch file", append([]string{"fetch", "--to", t.TempDir(), "--from", "mysql-bin.000000", "--source-user", "pitr", "--source-password=S3cretPw"}, tcp...),
				[]string{"mysql-bin.000000", "not on the source server"}},
			{"files and server", append([]string{"replay", "--source-user", "pitr", "x.000001"}, tcp...),
				[]string{"not both"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := runPitr(t, tc.args...)
				code := 1
				if tc.name == "files and server" {
					code = 2
				}
				line := wantFailure(t, res, code, tc.has...)
				if strings.Contains(line, "Wr0ngPw") || strings.Contains(line, "S3cretPw") {
					t.Errorf("the message shows the password: %s", line)
				}
				if res.stdout != "" && !strings.HasPrefix(res.stdout, "--") {
					t.Errorf("stdout: %q", res.stdout)
				}
			})
		}
		// Purged for real: the server no longer has the first file. (A server does not purge a
		// file a replica is reading: wait for the dump threads of the runs above to go.)
		// Nor one whose transactions InnoDB has not yet flushed (its binlog checkpoint lags under
		// load): PURGE then keeps it with a warning, so repeat it until the file is gone.
		waitNoDump(t, srv)
		if err := srv.PurgeBinlogsTo(ctx, filepath.Base(files[1])); err != nil {
			t.Fatal(err)
		}
		res := runPitr(t, append([]string{"replay", "--source-user", "pitr", "--source-password=S3cretPw", "--start-position", filepath.Base(files[0]) + ":4"}, tcp...)...)
		wantFailure(t, res, 1, filepath.Base(files[0]), "not on the source server", "purged")
	})
}

// normalize drops what legitimately differs between a replay of files and of a stream: the
// header naming the source, and the end offset in each transaction's comment (a stream has no
// lookahead, so it names only the start).
func normalize(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		// The source line differs, and a stream also names its server as a schema source.
		if strings.HasPrefix(l, "-- server: ") || frameComment(l) {
			continue
		}
		out = append(out, txnEnd.ReplaceAllString(l, "$1 "))
	}
	return strings.Join(out, "\n")
}

var txnEnd = regexp.MustCompile(`^(-- \S+:\d+)-\d+ `)

// sameFiles checks that dir holds every binlog of the server, byte for byte.
func sameFiles(t *testing.T, srv *mariadbtest.Server, dir string) {
	t.Helper()
	files, err := srv.BinlogFiles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, filepath.Base(f)))
		if err != nil {
			t.Fatal(err)
		}
		if sha256.Sum256(got) != sha256.Sum256(want) {
			t.Errorf("%s: fetched %d bytes (sha256 %x), the server has %d (sha256 %x)", filepath.Base(f),
				len(got), sha256.Sum256(got), len(want), sha256.Sum256(want))
		}
	}
	copies, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(copies) != len(files) {
		t.Errorf("%d files in %s, the server has %d", len(copies), dir, len(files))
	}
}

func closedPort(t *testing.T) string {
	t.Helper()
	// Port 1 (tcpmux) is privileged and unused: nothing listens there.
	return fmt.Sprint(1)
}

func connOpts(host string, port int, user string) mysqlconn.Options {
	return mysqlconn.Options{Host: host, Port: port, User: user}
}

// waitNoDump waits until the server has no binlog dump thread: every stream above closed its
// replication connection.
func waitNoDump(t *testing.T, srv *mariadbtest.Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := srv.DB.QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND = 'Binlog Dump'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d binlog dump threads still run: a stream did not close its connection", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
