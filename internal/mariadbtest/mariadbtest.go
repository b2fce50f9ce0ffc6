package mariadbtest

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Options configure a server. The zero value is a binlogging server with
// binlog_format=ROW, binlog_row_image=FULL and binlog_row_metadata=FULL.
type Options struct {
	RowImage      string   // binlog_row_image: "FULL" (default), "MINIMAL", "NOBLOB"
	RowMetadata   string   // binlog_row_metadata: "FULL" (default), "MINIMAL", "NO_LOG"
	MaxBinlogSize int64    // 0 = server default; otherwise max_binlog_size in bytes (min 4096)
	NoBinlog      bool     // start without --log-bin (a replay target)
	ExtraArgs     []string // appended to mariadbd's command line (so they override the defaults)
}

// Server is a running throwaway mariadbd. DB may be used concurrently; the
// other methods may too, except that nothing may run concurrently with
// Restart (it replaces DB, Port and the process).
type Server struct {
	Dir        string // root temp dir of this instance
	DataDir    string
	Socket     string
	Port       int
	BinlogBase string  // path prefix of binlog files: BinlogBase+".000001", ..., index BinlogBase+".index"; "" with NoBinlog
	DB         *sql.DB // root, over the unix socket, multiStatements=true, parseTime=false, interpolateParams=false

	// ErrorLog is the path of the server's error log (<Dir>/error.log).
	ErrorLog string

	opts    Options
	bins    binaries
	sockDir string // separate short directory holding Socket, removed by Stop; "" if Socket is in Dir

	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has been waited for
	waitErr error         // valid after done is closed

	runArgs []string // extra arguments for the current run only (Restart)

	mu      sync.Mutex // serialises Stop, Kill, Restart
	stopped bool       // Stop or Kill has run since the last (re)start
	stopErr error
}

// maxSocketPath is the longest unix socket path used: sun_path holds 108
// bytes including the terminating NUL; keep a margin for the ".lock" file
// mariadbd creates next to it (that one is a regular file, but stay safe).
const maxSocketPath = 100

// startTimeout bounds how long Launch waits for the server to answer.
const startTimeout = 60 * time.Second

// stopTimeout is how long Stop waits after SIGTERM before SIGKILL.
const stopTimeout = 30 * time.Second

// Start starts a server for a test in tb.TempDir() and registers its Stop
// with tb.Cleanup. It calls tb.Fatalf (never Skip) if MariaDB is not
// installed or the server does not come up; the message includes the tail of
// the server's error log.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	dir := tb.TempDir() // registered first, so removed after Stop has run
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout+3*time.Minute)
	defer cancel()
	s, err := Launch(ctx, dir, opts)
	if err != nil {
		tb.Fatalf("mariadbtest.Start: %v", err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			if lines := s.errorLines(20); lines != "" {
				tb.Logf("mariadbtest: [ERROR] lines of %s:\n%s", s.ErrorLog, lines)
			}
		}
		s.mu.Lock()
		already := s.stopped
		s.mu.Unlock()
		if already { // the test called Stop or Kill itself and saw the result
			s.Stop()
			return
		}
		if err := s.Stop(); err != nil {
			tb.Errorf("mariadbtest: %v", err)
		}
	})
	return s
}

// Launch starts a server in dir (created if needed; it should be empty) and
// waits until it answers queries. The caller must call Stop. ctx bounds the
// start-up only; the server keeps running after ctx is done.
//
// The initialised datadir is taken from a cache of pristine datadirs in
// $PITR_MARIADBTEST_CACHE, or else os.UserCacheDir()/pitr-mariadbtest
// (one ~90 MB directory per MariaDB build and install-relevant option set,
// keyed by the binaries' size and mtime, created atomically, safe for
// concurrent test processes). PITR_MARIADBTEST_CACHE=off runs
// mariadb-install-db for every server instead.
func Launch(ctx context.Context, dir string, opts Options) (*Server, error) {
	opts, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	bins, err := findBinaries()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("mariadbtest: %w", err)
	}
	s := &Server{
		Dir:      dir,
		DataDir:  filepath.Join(dir, "data"),
		Socket:   filepath.Join(dir, "mysql.sock"),
		ErrorLog: filepath.Join(dir, "error.log"),
		opts:     opts,
		bins:     bins,
	}
	if !opts.NoBinlog {
		s.BinlogBase = filepath.Join(dir, "binlog", "mysql-bin")
	}
	if len(s.Socket) > maxSocketPath {
		sd, err := os.MkdirTemp("", "mdb")
		if err != nil {
			return nil, fmt.Errorf("mariadbtest: socket dir: %w", err)
		}
		s.sockDir = sd
		s.Socket = filepath.Join(sd, "mysql.sock")
		if len(s.Socket) > maxSocketPath {
			os.RemoveAll(sd)
			return nil, fmt.Errorf("mariadbtest: socket path %q too long even in TMPDIR", s.Socket)
		}
	}
	ok := false
	defer func() {
		if !ok && s.sockDir != "" {
			os.RemoveAll(s.sockDir)
		}
	}()

	if _, err := os.Stat(s.DataDir); err == nil {
		return nil, fmt.Errorf("mariadbtest: %s already exists; Launch needs a fresh directory", s.DataDir)
	}
	for _, d := range []string{filepath.Join(dir, "tmp"), filepath.Dir(s.BinlogBase)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("mariadbtest: %w", err)
		}
	}
	if err := prepareDataDir(ctx, bins, s.DataDir, installArgsFrom(opts.ExtraArgs)); err != nil {
		return nil, err
	}

	// The port is found by binding 127.0.0.1:0 and closing the listener, so
	// another process may grab it before mariadbd does: retry on bind errors.
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		lastErr = s.start(ctx, port)
		if lastErr == nil {
			ok = true
			return s, nil
		}
		if !errors.Is(lastErr, errBind) {
			break
		}
	}
	return nil, lastErr
}

var errBind = errors.New("port already in use")

func (o Options) normalize() (Options, error) {
	o.RowImage = strings.ToUpper(strings.TrimSpace(o.RowImage))
	o.RowMetadata = strings.ToUpper(strings.TrimSpace(o.RowMetadata))
	if o.RowImage == "" {
		o.RowImage = "FULL"
	}
	if o.RowMetadata == "" {
		o.RowMetadata = "FULL"
	}
	switch o.RowImage {
	case "FULL", "MINIMAL", "NOBLOB", "FULL_NODUP":
	default:
		return o, fmt.Errorf("mariadbtest: bad RowImage %q (want FULL, MINIMAL or NOBLOB)", o.RowImage)
	}
	switch o.RowMetadata {
	case "FULL", "MINIMAL", "NO_LOG":
	default:
		return o, fmt.Errorf("mariadbtest: bad RowMetadata %q (want FULL, MINIMAL or NO_LOG)", o.RowMetadata)
	}
	if o.MaxBinlogSize != 0 && o.MaxBinlogSize < 4096 {
		return o, fmt.Errorf("mariadbtest: MaxBinlogSize %d is below the minimum 4096", o.MaxBinlogSize)
	}
	if o.MaxBinlogSize > 1<<30 {
		return o, fmt.Errorf("mariadbtest: MaxBinlogSize %d is above the maximum 1G", o.MaxBinlogSize)
	}
	o.ExtraArgs = append([]string(nil), o.ExtraArgs...)
	return o, nil
}

// freePort returns a currently free TCP port on 127.0.0.1 (never 3306).
func freePort() (int, error) {
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("mariadbtest: finding a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port != 3306 {
			return port, nil
		}
	}
}

// serverArgs is mariadbd's command line.
func (s *Server) serverArgs(port int) []string {
	args := []string{"--no-defaults"} // must be the very first argument
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	args = append(args,
		"--datadir="+s.DataDir,
		"--socket="+s.Socket,
		"--port="+strconv.Itoa(port),
		"--bind-address=127.0.0.1",
		"--pid-file="+filepath.Join(s.Dir, "mariadbd.pid"),
		"--log-error="+s.ErrorLog,
		"--tmpdir="+filepath.Join(s.Dir, "tmp"),
		"--server-id=1",
		"--gtid-domain-id=0",
		"--binlog-format=ROW",
	)
	if s.opts.NoBinlog {
		args = append(args, "--skip-log-bin")
	} else {
		args = append(args,
			"--log-bin="+s.BinlogBase,
			"--binlog-row-image="+s.opts.RowImage,
			"--binlog-row-metadata="+s.opts.RowMetadata,
		)
		if s.opts.MaxBinlogSize > 0 {
			args = append(args, "--max-binlog-size="+strconv.FormatInt(s.opts.MaxBinlogSize, 10))
		}
	}
	args = append(args,
		"--skip-name-resolve",
		"--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_general_ci",
		"--max-allowed-packet=256M",
		"--innodb-buffer-pool-size=64M",
		"--innodb-log-file-size=48M",
		"--innodb-flush-log-at-trx-commit=2",
		"--sync-binlog=0",
		"--innodb-buffer-pool-dump-at-shutdown=OFF",
		"--innodb-buffer-pool-load-at-startup=OFF",
	)
	args = append(args, s.opts.ExtraArgs...)
	return append(args, s.runArgs...)
}

// start runs mariadbd on port and waits until it answers SELECT 1.
func (s *Server) start(ctx context.Context, port int) error {
	// Remember where this attempt's part of the error log begins.
	var logOffset int64
	if st, err := os.Stat(s.ErrorLog); err == nil {
		logOffset = st.Size()
	}
	out, err := os.OpenFile(filepath.Join(s.Dir, "mariadbd.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("mariadbtest: %w", err)
	}
	args := s.serverArgs(port)
	cmd := exec.Command(s.bins.mariadbd, args...)
	cmd.Dir = s.Dir
	cmd.Stdout = out
	cmd.Stderr = out
	setProcAttrs(cmd)

	done := make(chan struct{})
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the *thread* that forked the child exits, and
		// the Go runtime may retire threads. Keep this goroutine, locked to
		// its thread, alive for the whole life of the server.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		s.waitErr = cmd.Wait()
		out.Close()
		close(done)
	}()
	if err := <-started; err != nil {
		out.Close()
		return fmt.Errorf("mariadbtest: starting %s: %w", s.bins.mariadbd, err)
	}
	s.cmd, s.done, s.Port = cmd, done, port

	fail := func(format string, a ...any) error {
		msg := fmt.Sprintf(format, a...)
		s.kill()
		tail := s.logTail(logOffset, 40)
		err := fmt.Errorf("mariadbtest: %s\ncommand: %s %s\n--- %s (tail) ---\n%s",
			msg, s.bins.mariadbd, strings.Join(args, " "), s.ErrorLog, tail)
		if strings.Contains(tail, "Address already in use") || strings.Contains(tail, "Bind on TCP/IP port") {
			err = fmt.Errorf("%w: %w", errBind, err)
		}
		return err
	}

	db, err := sql.Open("mysql", s.DSN(""))
	if err != nil {
		return fail("sql.Open: %v", err)
	}
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		select {
		case <-done:
			db.Close()
			return fail("mariadbd exited during start-up (%v)", s.waitErr)
		case <-ctx.Done():
			db.Close()
			return fail("start-up interrupted: %v (last error: %v)", ctx.Err(), lastErr)
		case <-deadline.C:
			db.Close()
			return fail("mariadbd did not answer within %v (last error: %v)", startTimeout, lastErr)
		case <-tick.C:
		}
		if _, err := os.Stat(s.Socket); err != nil {
			lastErr = err
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var one int
		err := db.QueryRowContext(pctx, "SELECT 1").Scan(&one)
		cancel()
		if err == nil {
			break
		}
		lastErr = err
	}
	s.DB = db
	return nil
}

// kill SIGKILLs the process and waits for it (used when start-up fails).
func (s *Server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
	default:
		s.cmd.Process.Kill()
		<-s.done
	}
}

// Pid is the process id of mariadbd.
func (s *Server) Pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Running reports whether the mariadbd process is still alive.
func (s *Server) Running() bool {
	if s.done == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Stop shuts the server down gracefully (SIGTERM, which mariadbd handles
// like SHUTDOWN) and waits for the process to exit, sending SIGKILL after
// 30s. It closes DB. It is idempotent: later calls return the first result
// (until Restart). It returns an error if the server had died by itself
// before Stop, failed on shutdown, or had to be killed.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		s.stopErr = s.stop()
		s.stopped = true
		s.removeSockDir()
	}
	return s.stopErr
}

// Kill ends mariadbd with SIGKILL, like a crash (InnoDB recovers on
// Restart; the last binlog file is left as the crash left it), and waits for
// it. It closes DB. A later Stop returns nil.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	if s.DB != nil {
		s.DB.Close()
	}
	s.kill()
	s.stopped, s.stopErr = true, nil
	s.removeSockDir()
}

// Restart stops the server if it is running (gracefully), then starts it
// again on the same datadir, binlogs, socket and (if still free) port,
// and waits until it answers. DB is replaced by a new pool (the old one is
// closed). Options can not be changed; extraArgs are appended to the
// original command line for this run only.
func (s *Server) Restart(ctx context.Context, extraArgs ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		err := s.stop()
		s.stopped = true
		if err != nil {
			return fmt.Errorf("mariadbtest: Restart: stopping: %w", err)
		}
	}
	if s.sockDir != "" {
		if err := os.MkdirAll(s.sockDir, 0o700); err != nil {
			return fmt.Errorf("mariadbtest: Restart: %w", err)
		}
	}
	s.runArgs = extraArgs
	defer func() { s.runArgs = nil }()
	port := s.Port
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = s.start(ctx, port); err == nil {
			s.stopped, s.stopErr = false, nil
			return nil
		}
		if !errors.Is(err, errBind) {
			break
		}
		if port, err = freePort(); err != nil {
			break
		}
	}
	s.removeSockDir()
	return err
}

func (s *Server) removeSockDir() {
	if s.sockDir != "" {
		os.RemoveAll(s.sockDir)
	}
}

// stop does the work of Stop; the caller holds mu.
func (s *Server) stop() error {
	if s.DB != nil {
		s.DB.Close()
	}
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	select {
	case <-s.done:
		return fmt.Errorf("mariadbd (pid %d) had already exited: %v\n--- %s (tail) ---\n%s",
			s.cmd.Process.Pid, s.waitErr, s.ErrorLog, s.logTail(0, 30))
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.cmd.Process.Kill()
	}
	t := time.NewTimer(stopTimeout)
	defer t.Stop()
	select {
	case <-s.done:
		if s.waitErr != nil {
			return fmt.Errorf("mariadbd (pid %d) exited with %v on shutdown\n--- %s (tail) ---\n%s",
				s.cmd.Process.Pid, s.waitErr, s.ErrorLog, s.logTail(0, 30))
		}
		return nil
	case <-t.C:
		s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("mariadbd (pid %d) did not shut down within %v; killed\n--- %s (tail) ---\n%s",
			s.cmd.Process.Pid, stopTimeout, s.ErrorLog, s.logTail(0, 30))
	}
}

// DSN is a go-sql-driver/mysql DSN for root over the unix socket, with
// database db ("" for none), multiStatements=true, parseTime=false,
// interpolateParams=false.
func (s *Server) DSN(db string) string {
	cfg := mysql.NewConfig()
	cfg.User = "root"
	cfg.Net = "unix"
	cfg.Addr = s.Socket
	cfg.DBName = db
	cfg.MultiStatements = true
	cfg.ParseTime = false
	cfg.InterpolateParams = false
	return cfg.FormatDSN()
}

// Exec runs query on DB and fails the test (tb.Fatalf, with the query in the
// message) on error.
func (s *Server) Exec(tb testing.TB, query string, args ...any) {
	tb.Helper()
	if _, err := s.DB.Exec(query, args...); err != nil {
		tb.Fatalf("mariadbtest: Exec(%s): %v", abbrev(query, 2000), err)
	}
}

// Client returns `mariadb --no-defaults -uroot --socket=... --protocol=SOCKET
// --default-character-set=utf8mb4 args...`, ready to run; the caller sets
// Stdin, Stdout, ... . The context kills the client, not the server.
func (s *Server) Client(ctx context.Context, args ...string) *exec.Cmd {
	all := []string{
		"--no-defaults", // must be first
		"-uroot",
		"--socket=" + s.Socket,
		"--protocol=SOCKET", // never fall back to TCP (and so never to 3306)
		"--default-character-set=utf8mb4",
	}
	all = append(all, args...)
	cmd := exec.CommandContext(ctx, s.bins.client, all...)
	cmd.Dir = s.Dir
	return cmd
}

// ExecScript runs a multi-statement SQL script through the mariadb command
// line client in --batch mode, so that DELIMITER, comments and client
// commands work as in a .sql file. The error includes the client's stderr.
// The client stops at the first failing statement.
func (s *Server) ExecScript(ctx context.Context, script string) error {
	cmd := s.Client(ctx, "--batch")
	cmd.Stdin = strings.NewReader(script)
	var stderr bytes.Buffer
	cmd.Stdout = nil // discard
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("mariadbtest: ExecScript (%s): %v: %s",
			abbrev(script, 200), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// FlushBinlogs runs FLUSH BINARY LOGS, so the current binlog file is closed
// (complete, with its rotate event) and a new one is started.
func (s *Server) FlushBinlogs(ctx context.Context) error {
	if _, err := s.DB.ExecContext(ctx, "FLUSH BINARY LOGS"); err != nil {
		return fmt.Errorf("mariadbtest: FLUSH BINARY LOGS: %w", err)
	}
	return s.WaitBinlogCheckpoint(ctx)
}

// WrittenBinlogs closes the current binlog file and returns the files after the first: what a
// test wrote after flushing once past the server's start-up events, without the new, empty
// last file.
func (s *Server) WrittenBinlogs(tb testing.TB) []string {
	tb.Helper()
	ctx := context.Background()
	if err := s.FlushBinlogs(ctx); err != nil {
		tb.Fatal(err)
	}
	files, err := s.BinlogFiles(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) < 3 {
		tb.Fatalf("mariadbtest: binlog files %q: want the start-up one, those written, and the new one", files)
	}
	return files[1 : len(files)-1]
}

// WaitBinlogCheckpoint waits for the Binlog_checkpoint event that names the newest file. The server
// writes it into that file once InnoDB has made the older file's transactions durable, at a
// moment of its own choosing; a test that compares files or positions after a rotation would
// otherwise race it (43 bytes more, or not, depending on load).
func (s *Server) WaitBinlogCheckpoint(ctx context.Context) error {
	files, err := s.BinlogFiles(ctx)
	if err != nil || len(files) == 0 {
		return err
	}
	newest := filepath.Base(files[len(files)-1])
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		rows, err := s.DB.QueryContext(ctx, "SHOW BINLOG EVENTS IN '"+newest+"'")
		if err != nil {
			return fmt.Errorf("mariadbtest: SHOW BINLOG EVENTS: %w", err)
		}
		last := ""
		for rows.Next() {
			var logName, typ, info sql.NullString
			var pos, serverID, end sql.NullInt64
			if err := rows.Scan(&logName, &pos, &typ, &serverID, &end, &info); err != nil {
				rows.Close()
				return err
			}
			if typ.String == "Binlog_checkpoint" {
				last = info.String
			}
		}
		rows.Close()
		if last == newest {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mariadbtest: no Binlog_checkpoint for %s after FLUSH BINARY LOGS (last names %q)", newest, last)
		}
	}
}

// BinlogFiles returns the absolute paths of all binlog files, oldest first,
// from SHOW BINARY LOGS (or, once the server is stopped, from the index
// file). It does not flush: the last file is the one being written.
func (s *Server) BinlogFiles(ctx context.Context) ([]string, error) {
	if s.BinlogBase == "" {
		return nil, errors.New("mariadbtest: server runs without binary log (NoBinlog)")
	}
	if !s.Running() {
		return s.binlogFilesFromIndex()
	}
	rows, err := s.DB.QueryContext(ctx, "SHOW BINARY LOGS")
	if err != nil {
		return nil, fmt.Errorf("mariadbtest: SHOW BINARY LOGS: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var files []string
	for rows.Next() {
		vals := make([]any, len(cols))
		var name sql.NullString
		vals[0] = &name
		for i := 1; i < len(vals); i++ {
			vals[i] = new(sql.RawBytes)
		}
		if err := rows.Scan(vals...); err != nil {
			return nil, err
		}
		files = append(files, filepath.Join(filepath.Dir(s.BinlogBase), name.String))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return files, nil
}

// PurgeBinlogsTo runs PURGE BINARY LOGS TO name until the server has let go of every older
// file. A server keeps, with only a warning, a file whose transactions InnoDB has not yet
// flushed (its binlog checkpoint lags under load) or that a replica is reading, so one PURGE
// is not enough for a test that needs the file gone.
func (s *Server) PurgeBinlogsTo(ctx context.Context, name string) error {
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := s.DB.ExecContext(ctx, "PURGE BINARY LOGS TO '"+name+"'"); err != nil {
			return fmt.Errorf("mariadbtest: PURGE BINARY LOGS TO %s: %w", name, err)
		}
		left, err := s.BinlogFiles(ctx)
		if err != nil {
			return err
		}
		if len(left) > 0 && filepath.Base(left[0]) == name {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mariadbtest: the server keeps %s after PURGE BINARY LOGS TO %s", filepath.Base(left[0]), name)
		}
	}
}

func (s *Server) binlogFilesFromIndex() ([]string, error) {
	f, err := os.Open(s.BinlogBase + ".index")
	if err != nil {
		return nil, fmt.Errorf("mariadbtest: %w", err)
	}
	defer f.Close()
	var files []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if !filepath.IsAbs(line) {
			line = filepath.Join(s.DataDir, line)
		}
		files = append(files, filepath.Clean(line))
	}
	return files, sc.Err()
}

// ErrorLogTail returns the last n lines of the server's error log.
func (s *Server) ErrorLogTail(n int) string { return s.logTail(0, n) }

// logTail returns the last n lines of the error log from offset on, or of
// mariadbd's stdout/stderr when the error log has nothing.
func (s *Server) logTail(offset int64, n int) string {
	b, _ := os.ReadFile(s.ErrorLog)
	if offset > int64(len(b)) {
		offset = 0
	}
	b = b[offset:]
	if len(bytes.TrimSpace(b)) == 0 {
		o, _ := os.ReadFile(filepath.Join(s.Dir, "mariadbd.out"))
		if len(bytes.TrimSpace(o)) == 0 {
			return "(empty)"
		}
		return tailLines(string(o), n)
	}
	return tailLines(string(b), n)
}

// errorLines returns up to n lines of the error log that contain [ERROR].
func (s *Server) errorLines(n int) string {
	b, err := os.ReadFile(s.ErrorLog)
	if err != nil {
		return ""
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "[ERROR]") {
			out = append(out, l)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return strings.Join(out, "\n")
}

func abbrev(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
