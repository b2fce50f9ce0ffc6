package mariadbtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var binlogMagic = []byte{0xfe, 0x62, 0x69, 0x6e}

// needServer skips with -short (make test-short): the test starts real
// servers. Without -short a missing MariaDB fails the test, never skips it.
func needServer(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real MariaDB server; skipped with -short")
	}
}

func TestServerBinlogs(t *testing.T) {
	needServer(t)
	ctx := context.Background()
	t0 := time.Now()
	s := Start(t, Options{RowMetadata: "FULL"})
	t.Logf("Start took %v (port %d, socket %s)", time.Since(t0), s.Port, s.Socket)

	if s.Port == 3306 {
		t.Fatalf("server on port 3306")
	}
	// Make sure we talk to our own server, not the machine's.
	var datadir string
	var port int
	if err := s.DB.QueryRow("SELECT @@datadir, @@port").Scan(&datadir, &port); err != nil {
		t.Fatal(err)
	}
	if filepath.Clean(datadir) != s.DataDir || port != s.Port {
		t.Fatalf("connected to datadir %q port %d, want %q port %d", datadir, port, s.DataDir, s.Port)
	}

	var meta, image, format string
	if err := s.DB.QueryRow("SELECT @@binlog_row_metadata, @@binlog_row_image, @@binlog_format").Scan(&meta, &image, &format); err != nil {
		t.Fatal(err)
	}
	if meta != "FULL" || image != "FULL" || format != "ROW" {
		t.Fatalf("binlog_row_metadata=%s binlog_row_image=%s binlog_format=%s, want FULL FULL ROW", meta, image, format)
	}

	s.Exec(t, "CREATE DATABASE d")
	s.Exec(t, "CREATE TABLE d.t (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB")
	s.Exec(t, "INSERT INTO d.t VALUES (?, ?), (?, ?)", 1, "one", 2, "two")
	if err := s.FlushBinlogs(ctx); err != nil {
		t.Fatal(err)
	}
	s.Exec(t, "INSERT INTO d.t VALUES (3, 'three')")

	files, err := s.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("BinlogFiles = %v, want >= 2 files", files)
	}
	for i, f := range files {
		if !filepath.IsAbs(f) {
			t.Errorf("%s is not absolute", f)
		}
		if want := fmt.Sprintf("%s.%06d", s.BinlogBase, i+1); f != want {
			t.Errorf("file %d = %s, want %s", i, f, want)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, binlogMagic) {
			t.Errorf("%s does not start with the binlog magic: % x", f, b[:min(len(b), 4)])
		}
	}

	// ExecScript: DELIMITER and comments go through the CLI client.
	err = s.ExecScript(ctx, `-- a comment
/* another */
DELIMITER //
CREATE PROCEDURE d.p() BEGIN INSERT INTO d.t VALUES (4, 'four'); END//
DELIMITER ;
CALL d.p();
`)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.DB.QueryRow("SELECT COUNT(*) FROM d.t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("count = %d, want 4", n)
	}
	if err := s.ExecScript(ctx, "SELECT * FROM d.nope;"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("ExecScript error = %v, want one mentioning the table", err)
	}

	out, err := s.Client(ctx, "-N", "-e", "SELECT @@port").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(out)) != strconv.Itoa(s.Port) {
		t.Fatalf("client reached port %q, want %d", out, s.Port)
	}

	// A second server at the same time, with other settings.
	s2 := Start(t, Options{RowImage: "minimal", RowMetadata: "MINIMAL", MaxBinlogSize: 8192})
	if s2.Port == s.Port || s2.Socket == s.Socket {
		t.Fatalf("second server shares port/socket: %d %s", s2.Port, s2.Socket)
	}
	var size int64
	if err := s2.DB.QueryRow("SELECT @@binlog_row_metadata, @@binlog_row_image, @@max_binlog_size").Scan(&meta, &image, &size); err != nil {
		t.Fatal(err)
	}
	if meta != "MINIMAL" || image != "MINIMAL" || size != 8192 {
		t.Fatalf("second server: %s %s %d, want MINIMAL MINIMAL 8192", meta, image, size)
	}
	if err := s.DB.Ping(); err != nil {
		t.Fatalf("first server died when the second started: %v", err)
	}

	// Stop leaves no process behind and is idempotent.
	pid := s.Pid()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if !processGone(pid) {
		t.Fatalf("mariadbd pid %d still exists after Stop", pid)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	// After Stop the file list comes from the index.
	after, err := s.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) < len(files) || after[0] != files[0] {
		t.Fatalf("BinlogFiles after Stop = %v, before %v", after, files)
	}
	if _, err := os.Stat(s.Socket); err == nil {
		t.Errorf("socket %s still exists after Stop", s.Socket)
	}
}

func TestNoBinlog(t *testing.T) {
	needServer(t)
	s := Start(t, Options{NoBinlog: true, ExtraArgs: []string{"--max-connections=50"}})
	var logBin, maxConn int
	if err := s.DB.QueryRow("SELECT @@log_bin, @@max_connections").Scan(&logBin, &maxConn); err != nil {
		t.Fatal(err)
	}
	if logBin != 0 || maxConn != 50 {
		t.Fatalf("log_bin=%d max_connections=%d, want 0 50", logBin, maxConn)
	}
	if b, _ := findBinaries(); b.tzinfo != "" {
		var ts string
		conn, err := s.DB.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(context.Background(), "SET time_zone = 'Europe/Berlin'"); err != nil {
			t.Fatalf("named time zones not loaded: %v", err)
		}
		if err := conn.QueryRowContext(context.Background(), "SELECT FROM_UNIXTIME(0)").Scan(&ts); err != nil {
			t.Fatal(err)
		}
		if ts != "1970-01-01 01:00:00" {
			t.Fatalf("FROM_UNIXTIME(0) in Europe/Berlin = %s", ts)
		}
	} else {
		t.Log("mariadb-tzinfo-to-sql or /usr/share/zoneinfo missing: named time zones not checked")
	}
	if s.BinlogBase != "" {
		t.Fatalf("BinlogBase = %q with NoBinlog", s.BinlogBase)
	}
	if _, err := s.BinlogFiles(context.Background()); err == nil {
		t.Fatal("BinlogFiles succeeded without binlog")
	}
}

func TestBadOptions(t *testing.T) {
	for _, o := range []Options{{RowImage: "ALL"}, {RowMetadata: "YES"}, {MaxBinlogSize: 100}} {
		if _, err := Launch(context.Background(), t.TempDir(), o); err == nil {
			t.Errorf("Launch(%+v) succeeded", o)
		}
	}
}

// TestStartFailureReportsLog checks that a server that cannot start yields
// an error carrying its error log.
func TestStartFailureReportsLog(t *testing.T) {
	needServer(t)
	_, err := Launch(context.Background(), t.TempDir(), Options{ExtraArgs: []string{"--no-such-option-xyz"}})
	if err == nil {
		t.Fatal("Launch succeeded with a bogus option")
	}
	t.Logf("expected error:\n%v", err)
	if !strings.Contains(err.Error(), "no-such-option-xyz") {
		t.Fatalf("error does not show the error log: %v", err)
	}
}

func TestLongDirSocket(t *testing.T) {
	needServer(t)
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 60), strings.Repeat("e", 60))
	s, err := Launch(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if strings.HasPrefix(s.Socket, dir) || len(s.Socket) > maxSocketPath {
		t.Fatalf("socket %s should be outside the long dir", s.Socket)
	}
	sockDir := filepath.Dir(s.Socket)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sockDir); !os.IsNotExist(err) {
		t.Fatalf("socket dir %s not removed: %v", sockDir, err)
	}
}

func TestStartTiming(t *testing.T) {
	needServer(t)
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		s := Start(t, Options{})
		d := time.Since(t0)
		t1 := time.Now()
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
		t.Logf("start %d: %v, stop: %v", i, d, time.Since(t1))
	}
}

// TestServerDiesWithParent kills (SIGKILL) a process that launched a server
// and checks that the server goes away too.
func TestServerDiesWithParent(t *testing.T) {
	needServer(t)
	if os.Getenv("MARIADBTEST_HELPER_DIR") != "" {
		t.Skip("helper process")
	}
	dir := t.TempDir()
	setSubreaper(true)
	defer setSubreaper(false)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperLaunch$", "-test.v")
	cmd.Env = append(os.Environ(), "MARIADBTEST_HELPER_DIR="+dir)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	pid := 0
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "SERVERPID "); ok {
			pid, _ = strconv.Atoi(p)
			break
		}
	}
	if pid == 0 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("helper did not report a server pid")
	}
	if processGone(pid) {
		t.Fatalf("server %d not running", pid)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	deadline := time.Now().Add(15 * time.Second)
	for !processGone(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("server pid %d survived its parent", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// It may be a zombie child of ours now (we are its subreaper); collect
	// it, which is possible once all its threads have exited.
	for i := 0; i < 100 && !reap(pid); i++ {
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHelperLaunch(t *testing.T) {
	dir := os.Getenv("MARIADBTEST_HELPER_DIR")
	if dir == "" {
		t.Skip("only run as a helper process by TestServerDiesWithParent")
	}
	s, err := Launch(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("SERVERPID %d\n", s.Pid())
	os.Stdout.Sync()
	time.Sleep(10 * time.Minute) // until killed
	s.Stop()
}

// TestPortInUse checks that a bind failure is recognised (Launch then retries
// with another port; here ExtraArgs pins the busy port, so it gives up).
func TestPortInUse(t *testing.T) {
	needServer(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	_, err = Launch(context.Background(), t.TempDir(), Options{ExtraArgs: []string{"--port=" + strconv.Itoa(port)}})
	if !errors.Is(err, errBind) {
		t.Fatalf("Launch on a busy port: %v, want errBind", err)
	}
}

func TestKillRestart(t *testing.T) {
	needServer(t)
	ctx := context.Background()
	s := Start(t, Options{})
	s.Exec(t, "CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY); INSERT INTO d.t VALUES (1)")
	before, err := s.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pid := s.Pid()
	s.Kill()
	if !processGone(pid) {
		t.Fatalf("pid %d alive after Kill", pid)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop after Kill: %v", err)
	}
	if err := s.Restart(ctx, "--max-connections=77"); err != nil {
		t.Fatal(err)
	}
	var n, maxConn int
	if err := s.DB.QueryRow("SELECT COUNT(*), @@max_connections FROM d.t").Scan(&n, &maxConn); err != nil {
		t.Fatal(err)
	}
	if n != 1 || maxConn != 77 {
		t.Fatalf("after restart: %d rows, max_connections %d; want 1, 77", n, maxConn)
	}
	after, err := s.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before)+1 {
		t.Fatalf("binlogs before %v, after restart %v: want one more", before, after)
	}
	// Graceful restart too.
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.DB.QueryRow("SELECT @@max_connections").Scan(&maxConn); err != nil {
		t.Fatal(err)
	}
	if maxConn == 77 {
		t.Fatal("Restart's extra args persisted")
	}
}
