package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
	"github.com/pitr-tool/pitr/pkg/binlog"
	"github.com/pitr-tool/pitr/pkg/mysqlconn"
	"github.com/pitr-tool/pitr/pkg/restore"
)

// The apply tests replay a source server's binlog into fresh targets, through the pitr binary
// as a user runs it, and compare the targets with the source.

const (
	applyUser     = "pitr_applier"
	applyPassword = "Zq7-unlikely-Pw-%4711" // must never show in any output
	applyTxns     = 40000                   // source transactions of the workload
)

const applySchema = `CREATE DATABASE app;
CREATE TABLE app.t_pk (id INT PRIMARY KEY, v INT NOT NULL, s VARCHAR(40), d DATETIME(3), b BLOB);
CREATE TABLE app.t_nopk (k INT, note VARCHAR(20))`

// applyWorkload writes one source transaction per iteration: inserts into both tables, and now
// and then an update or a delete. t_nopk has no key and gets duplicate rows: a transaction
// applied twice shows there.
const applyWorkload = `CREATE PROCEDURE app.gen(n INT)
BEGIN
  DECLARE i INT DEFAULT 1;
  WHILE i <= n DO
    START TRANSACTION;
    INSERT INTO app.t_pk VALUES (i, i, CONCAT('row ', i, ' ''q'' é'), '2024-01-01 00:00:00.123' + INTERVAL i SECOND, IF(i % 3 = 0, UNHEX('00FF27'), NULL));
    INSERT INTO app.t_nopk VALUES (i % 50, CONCAT('n', i % 4));
    IF i % 7 = 0 THEN UPDATE app.t_pk SET v = v + 1000 WHERE id = i - 5; END IF;
    IF i % 11 = 0 THEN DELETE FROM app.t_nopk WHERE k = (i - 3) % 50 LIMIT 1; END IF;
    IF i % 13 = 0 THEN DELETE FROM app.t_pk WHERE id = i - 9; END IF;
    COMMIT;
    SET i = i + 1;
  END WHILE;
END`

var (
	applySrcOnce  sync.Once
	applySrc      *mariadbtest.Server
	applySrcFiles []string
	applySrcErr   error
)

// TestApply shares one source server (and its binlogs) among its subtests.
func TestApply(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB servers")
	}
	pitrBinary(t)
	src := mariadbtest.Start(t, mariadbtest.Options{MaxBinlogSize: 1 << 20})
	ctx := context.Background()
	if err := src.ExecScript(ctx, applySchema+";\nDELIMITER //\n"+applyWorkload+"//\nDELIMITER ;\n"); err != nil {
		t.Fatal(err)
	}
	if err := src.FlushBinlogs(ctx); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	src.Exec(t, "CALL app.gen(?)", applyTxns)
	files := src.WrittenBinlogs(t) // after the schema, before the empty file in use
	t.Logf("source: %d transactions in %d binlog files in %v", applyTxns, len(files), time.Since(began).Round(time.Millisecond))
	a := &applyFixture{src: src, files: files}
	t.Run("dry run equals apply", func(t *testing.T) { a.testDryRun(t, 1) })
	t.Run("dry run equals parallel apply", func(t *testing.T) { a.testDryRun(t, 4) })
	t.Run("crash", a.testCrash)
	t.Run("conflict", a.testConflict)
	t.Run("lost connection", a.testLostConnection)
	t.Run("target crash", a.testTargetCrash)
	t.Run("credentials", a.testCredentials)
	t.Run("pipe", a.testPipe)
}

type applyFixture struct {
	src   *mariadbtest.Server
	files []string
}

// newTarget starts an empty target with the schema and a non-root user.
func newTarget(t *testing.T, extra ...string) *mariadbtest.Server {
	t.Helper()
	s := mariadbtest.Start(t, mariadbtest.Options{NoBinlog: true, ExtraArgs: extra})
	s.Exec(t, applySchema+";\nCREATE USER '"+applyUser+"'@'%' IDENTIFIED BY '"+applyPassword+"';\nGRANT ALL ON *.* TO '"+applyUser+"'@'%'")
	return s
}

// targetArgs reach s over TCP as the test user; the password comes from MYSQL_PWD.
func targetArgs(s *mariadbtest.Server, more ...string) []string {
	args := []string{"replay", "--no-defaults", "--target-host=127.0.0.1", "--target-port=" + strconv.Itoa(s.Port),
		"--target-user=" + applyUser}
	return append(args, more...)
}

// pitrCmd is the pitr binary with MYSQL_PWD set and no terminal.
func pitrCmd(t *testing.T, ctx context.Context, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.CommandContext(ctx, pitrBinary(t), args...)
	cmd.Env = append(os.Environ(), "TZ=UTC", "MYSQL_PWD="+applyPassword, "HOME="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

// runApplyPitr runs pitr to its end; no output may show the password.
func runApplyPitr(t *testing.T, args ...string) runResult {
	t.Helper()
	cmd, stdout, stderr := pitrCmd(t, context.Background(), args...)
	err := cmd.Run()
	res := runResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("running pitr: %v", err)
	}
	noPassword(t, res.stdout, res.stderr)
	return res
}

func noPassword(t *testing.T, outs ...string) {
	t.Helper()
	for _, o := range outs {
		if strings.Contains(o, applyPassword) {
			t.Fatalf("output shows the password:\n%s", o)
		}
	}
}

// sameData compares the replayed tables of two servers: CHECKSUM TABLE and row counts.
func sameData(t *testing.T, want, got *mariadbtest.Server) {
	t.Helper()
	for _, tbl := range []string{"app.t_pk", "app.t_nopk"} {
		w, g := tableSum(t, want.DB, tbl), tableSum(t, got.DB, tbl)
		if w != g {
			t.Errorf("%s: source %s, target %s", tbl, w, g)
		}
	}
}

func tableSum(t *testing.T, db *sql.DB, tbl string) string {
	t.Helper()
	var name string
	var sum, n int64
	if err := db.QueryRow("CHECKSUM TABLE "+tbl).Scan(&name, &sum); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT COUNT(*) FROM " + tbl).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("checksum %d, %d rows", sum, n)
}

type ckRow struct{ file, pos, gtid, commit string }

func checkpointRow(t *testing.T, s *mariadbtest.Server) ckRow {
	t.Helper()
	var r ckRow
	var commit sql.NullString
	err := s.DB.QueryRow("SELECT binlog_file, binlog_pos, gtid, source_commit FROM pitr.checkpoint").Scan(&r.file, &r.pos, &r.gtid, &commit)
	if err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	r.commit = commit.String
	return r
}

// testDryRun: the dry run prints exactly what the apply sends. With several threads, the
// target transactions each worker sent (less those rolled back to be run again), taken in the
// order of their COMMITs, must be the dry run's, in its order.
func (a *applyFixture) testDryRun(t *testing.T, threads int) {
	t.Parallel()
	applied, piped := newTarget(t), newTarget(t)
	applied.Exec(t, "SET GLOBAL log_output='TABLE', GLOBAL general_log=1")

	res := runApplyPitr(t, append(targetArgs(applied, "--yes", "--threads="+strconv.Itoa(threads)), a.files...)...)
	if res.code != 0 || res.stdout != "" {
		t.Fatalf("apply: exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stderr, "apply done") || !strings.Contains(res.stderr, fmt.Sprintf("transactions=%d", applyTxns)) {
		t.Errorf("no final summary on stderr:\n%s", res.stderr)
	}
	applied.Exec(t, "SET GLOBAL general_log=0")

	dry := runApplyPitr(t, append(targetArgs(piped, "--dry-run"), a.files...)...)
	if dry.code != 0 {
		t.Fatalf("dry run: exit %d: %s", dry.code, dry.stderr)
	}
	var n int64
	if err := piped.DB.QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='pitr'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("the dry run wrote to the target (%d pitr tables, %v)", n, err)
	}
	cl := piped.Client(context.Background(), "--batch")
	cl.Stdin = strings.NewReader(dry.stdout)
	if out, err := cl.CombinedOutput(); err != nil {
		t.Fatalf("mariadb < dry run: %v: %s", err, out)
	}
	sameData(t, a.src, applied)
	sameData(t, applied, piped)
	if ca, cp := checkpointRow(t, applied), checkpointRow(t, piped); ca != cp {
		t.Errorf("checkpoints differ: apply %+v, dry run piped %+v", ca, cp)
	}

	// Byte for byte: what the server was sent is what the dry run printed (less its comments;
	// several statements go in one query, joined by ";\n").
	var want strings.Builder
	for _, line := range strings.SplitAfter(dry.stdout, "\n") {
		if !strings.HasPrefix(line, "-- ") {
			want.WriteString(line)
		}
	}
	rows, err := applied.DB.Query("SELECT thread_id, CONVERT(argument USING utf8mb4) FROM mysql.general_log WHERE command_type='Query' AND user_host LIKE '" + applyUser + "%'")
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	queries := 0
	open := map[int64]*strings.Builder{} // per session: its target transaction so far
	sessions := map[int64]string{}       // per session: what it sent before its first BEGIN
	for rows.Next() {
		var id int64
		var q string
		if err := rows.Scan(&id, &q); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(q, "SELECT ") || strings.HasPrefix(q, "DO RELEASE_LOCK") { // the checkpoint, locks, keys and max_allowed_packet reads
			continue
		}
		queries++
		if threads == 1 {
			got.WriteString(q + ";\n")
			continue
		}
		b := open[id]
		if b == nil {
			if !strings.HasPrefix(q, "BEGIN") {
				sessions[id] += q + ";\n"
				continue
			}
			b = new(strings.Builder)
			open[id] = b
		}
		b.WriteString(q + ";\n")
		switch {
		case q == "ROLLBACK":
			b.Reset() // run again later
		case strings.HasSuffix(q, "COMMIT"):
			if got.Len() == 0 {
				for _, s := range sessions {
					if strings.Contains(s, "CREATE TABLE IF NOT EXISTS `pitr`") {
						got.WriteString(s)
					}
				}
			}
			got.WriteString(b.String())
			b.Reset()
		}
	}
	if threads > 1 && len(sessions) != threads {
		t.Errorf("%d sessions wrote, want %d", len(sessions), threads)
	}
	if got.String() != want.String() {
		g, w := got.String(), want.String()
		i := 0
		for i < len(g) && i < len(w) && g[i] == w[i] {
			i++
		}
		t.Fatalf("the target was sent other bytes than the dry run printed, from byte %d:\nsent:    %.300q\nprinted: %.300q", i, g[i:], w[i:])
	}
	t.Logf("%d statements in %d queries", strings.Count(want.String(), ";\n"), queries)

	// Run again: it resumes after the checkpoint and applies nothing.
	again := runApplyPitr(t, append(targetArgs(applied, "--yes"), a.files...)...)
	if again.code != 0 || !strings.Contains(again.stderr, "resuming after") || !strings.Contains(again.stderr, "transactions=0") {
		t.Errorf("rerun: exit %d, stderr:\n%s", again.code, again.stderr)
	}
	dry = runApplyPitr(t, append(targetArgs(applied, "--dry-run"), a.files...)...)
	if strings.Contains(dry.stdout, "BEGIN") || !strings.Contains(dry.stdout, "-- the target's checkpoint: resuming after") {
		t.Errorf("dry run after the apply:\n%.2000s", dry.stdout)
	}
	sameData(t, a.src, applied)
}

// testCrash kills pitr with SIGKILL at random moments, then lets a last run finish.
func (a *applyFixture) testCrash(t *testing.T) {
	t.Parallel()
	tgt := newTarget(t)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	t.Logf("seed %d", seed)
	args := append(targetArgs(tgt, "--yes", "--threads=3"), a.files...)
	var positions []string
	kills := 0
	for trial := 0; trial < 12; trial++ {
		cmd, stdout, stderr := pitrCmd(t, context.Background(), args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Once the run has committed something (a busy machine may take a while to get
		// there), at a random moment soon after: 12 runs stay inside the apply, each resuming
		// where the last was killed.
		prev := ""
		if len(positions) > 0 {
			prev = positions[len(positions)-1]
		}
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			var pos string
			tgt.DB.QueryRow("SELECT CONCAT(binlog_file, ':', binlog_pos) FROM pitr.checkpoint").Scan(&pos)
			if pos != prev {
				break
			}
		}
		time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
		cmd.Process.Kill() // SIGKILL
		err := cmd.Wait()
		noPassword(t, stdout.String(), stderr.String())
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == -1 {
			kills++
		} else if err != nil {
			t.Fatalf("trial %d: %v\n%s", trial, err, stderr.String())
		}
		var pos string
		tgt.DB.QueryRow("SELECT CONCAT(binlog_file, ':', binlog_pos) FROM pitr.checkpoint").Scan(&pos)
		positions = append(positions, pos)
	}
	t.Logf("%d runs killed; checkpoints after each: %v", kills, positions)
	if kills < 10 {
		t.Errorf("only %d of 12 runs were killed before they finished", kills)
	}
	res := runApplyPitr(t, args...)
	if res.code != 0 || !strings.Contains(res.stderr, "resuming after") {
		t.Fatalf("final run: exit %d\n%s", res.code, res.stderr)
	}
	sameData(t, a.src, tgt)
}

// testConflict pre-inserts a row the replay will insert: the run stops there, naming the
// position and the server error, keeps what came before, and a rerun after the fix finishes.
func (a *applyFixture) testConflict(t *testing.T) {
	t.Parallel()
	tgt := newTarget(t)
	const conflictID = 500
	tgt.Exec(t, "INSERT INTO app.t_pk (id, v) VALUES (?, -1)", conflictID)
	// The password as a flag this time (visible in ps, so discouraged, but it must not leak either).
	args := append(targetArgs(tgt, "--yes", "--target-password="+applyPassword), a.files...)
	res := runApplyPitr(t, args...)
	if res.code != 3 {
		t.Fatalf("exit %d, want 3\n%s", res.code, res.stderr)
	}
	for _, want := range []string{"Duplicate entry '500'", "statement: INSERT INTO `app`.`t_pk`",
		"transactions were committed", "run the same command again to resume after it"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
		}
	}
	if !regexp.MustCompile(`pitr: .*mysql-bin\.\d{6}:\d+: .*GTID 0-1-\d+`).MatchString(res.stderr) {
		t.Errorf("stderr does not name file:pos and GTID:\n%s", res.stderr)
	}
	ck := checkpointRow(t, tgt)
	if !strings.Contains(res.stderr, "checkpoint is "+ck.file+":"+ck.pos) {
		t.Errorf("stderr does not name the checkpoint %s:%s:\n%s", ck.file, ck.pos, res.stderr)
	}
	var after, before int64
	tgt.DB.QueryRow("SELECT COUNT(*) FROM app.t_pk WHERE id > ?", conflictID).Scan(&after)
	tgt.DB.QueryRow("SELECT COUNT(*) FROM app.t_pk WHERE id < ?", conflictID).Scan(&before)
	if after != 0 || before == 0 {
		t.Errorf("t_pk: %d rows before the conflicting one, %d after it", before, after)
	}
	// The failing transaction is the 500th; the checkpoint is a few before it (those that
	// shared its target transaction were rolled back with it), and the count says how many.
	seq, _ := strconv.Atoi(ck.gtid[strings.LastIndexByte(ck.gtid, '-')+1:])
	m := regexp.MustCompile(`\(GTID 0-1-(\d+)\): Error 1062`).FindStringSubmatch(res.stderr)
	if m == nil {
		t.Fatalf("the error names no GTID:\n%s", res.stderr)
	}
	failed, _ := strconv.Atoi(m[1])
	if committed := conflictID - (failed - seq); seq >= failed || failed-seq > 200 ||
		!strings.Contains(res.stderr, fmt.Sprintf("; %d transactions were committed", committed)) {
		t.Errorf("failed at GTID %d, checkpoint %s, %d rows before: want %d transactions committed:\n%s", failed, ck.gtid, before, committed, res.stderr)
	}
	tgt.Exec(t, "DELETE FROM app.t_pk WHERE id = ?", conflictID)
	res = runApplyPitr(t, args...)
	if res.code != 0 || !strings.Contains(res.stderr, "resuming after "+ck.file+":"+ck.pos) {
		t.Fatalf("rerun: exit %d\n%s", res.code, res.stderr)
	}
	sameData(t, a.src, tgt)

	// A failure before anything was committed is exit code 1.
	tgt2 := newTarget(t)
	tgt2.Exec(t, "INSERT INTO app.t_pk (id, v) VALUES (1, -1)")
	res = runApplyPitr(t, append(targetArgs(tgt2, "--yes"), a.files...)...)
	if res.code != 1 || !strings.Contains(res.stderr, "Duplicate entry '1'") {
		t.Errorf("conflict in the first transaction: exit %d\n%s", res.code, res.stderr)
	}
}

// testLostConnection kills pitr's session on the target a few times; it reconnects and finishes.
func (a *applyFixture) testLostConnection(t *testing.T) {
	t.Parallel()
	tgt := newTarget(t)
	cmd, stdout, stderr := pitrCmd(t, context.Background(), append(targetArgs(tgt, "--yes", "--threads=3"), a.files...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	killed := 0
	deadline := time.Now().Add(60 * time.Second)
loop:
	for killed < 3 && time.Now().Before(deadline) {
		select {
		case <-done:
			t.Fatalf("pitr finished before its connection was killed 3 times (%d)\n%s", killed, stderr.String())
		case <-time.After(300 * time.Millisecond):
		}
		// Kill only once the apply is under way (the checkpoint row exists).
		var n int
		if err := tgt.DB.QueryRow("SELECT COUNT(*) FROM pitr.checkpoint").Scan(&n); err != nil || n == 0 {
			continue
		}
		var id int64
		if err := tgt.DB.QueryRow("SELECT id FROM information_schema.processlist WHERE user = ? LIMIT 1", applyUser).Scan(&id); err != nil {
			continue
		}
		if _, err := tgt.DB.Exec(fmt.Sprintf("KILL %d", id)); err == nil {
			killed++
		}
		continue loop
	}
	err := <-done
	noPassword(t, stdout.String(), stderr.String())
	if err != nil {
		t.Fatalf("pitr: %v\n%s", err, stderr.String())
	}
	if strings.Count(stderr.String(), "reconnecting") < 1 || !strings.Contains(stderr.String(), "reconnects=") {
		t.Errorf("stderr does not tell of reconnecting:\n%s", stderr.String())
	}
	sameData(t, a.src, tgt)
}

// testTargetCrash kills the target server (SIGKILL) during the apply and starts it again: pitr
// reconnects once it is back and finishes.
func (a *applyFixture) testTargetCrash(t *testing.T) {
	t.Parallel()
	tgt := newTarget(t)
	cmd, stdout, stderr := pitrCmd(t, context.Background(), append(targetArgs(tgt, "--yes"), a.files...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		var n int
		if err := tgt.DB.QueryRow("SELECT COUNT(*) FROM pitr.checkpoint").Scan(&n); err == nil && n > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("pitr ended before the target crashed: %v\n%s", err, stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	tgt.Kill()
	time.Sleep(500 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := tgt.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	err := <-done
	noPassword(t, stdout.String(), stderr.String())
	if err != nil || !strings.Contains(stderr.String(), "reconnecting") || !strings.Contains(stderr.String(), "resuming after") {
		t.Fatalf("pitr: %v\n%s", err, stderr.String())
	}
	sameData(t, a.src, tgt)
}

// testCredentials: a wrong password fails without showing it, and so does a wrong user.
func (a *applyFixture) testCredentials(t *testing.T) {
	t.Parallel()
	tgt := newTarget(t)
	cmd, stdout, stderr := pitrCmd(t, context.Background(), append(targetArgs(tgt, "--yes", "--target-password=wrong-"+applyPassword), a.files...)...)
	err := cmd.Run()
	noPassword(t, stdout.String(), stderr.String())
	if err == nil || !strings.Contains(stderr.String(), "Access denied") || !strings.Contains(stderr.String(), applyUser+"@127.0.0.1:") {
		t.Errorf("wrong password: %v\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), "wrong-") {
		t.Errorf("the wrong password shows:\n%s", stderr.String())
	}
	// A defaults file and the socket.
	cnf := t.TempDir() + "/my.cnf"
	os.WriteFile(cnf, []byte("[client]\nuser="+applyUser+"\npassword=\""+applyPassword+"\"\nsocket="+tgt.Socket+"\n"), 0o600)
	cmd, stdout, stderr = pitrCmd(t, context.Background(), append([]string{"replay", "--defaults-file=" + cnf, "--target-user=" + applyUser, "--dry-run"}, a.files...)...)
	cmd.Env = append(cmd.Env, "MYSQL_PWD=")
	err = cmd.Run()
	noPassword(t, stdout.String(), stderr.String())
	if err != nil || !strings.Contains(stdout.String(), "COMMIT;") {
		t.Errorf("defaults file: %v\n%s", err, stderr.String())
	}
}

func TestShowProgress(t *testing.T) {
	var p restore.Progress
	var out syncBuffer
	sz := fileSizes(fixture("dml"))
	files := fixture("dml")
	stop := showProgress(&out, 10*time.Millisecond, false, &p, sz, binlog.Position{}, time.Now())
	p.Transactions.Add(3)
	p.Rows.Add(7)
	p.SetPosition(binlog.Position{File: filepath.Base(files[1]), Offset: 100})
	time.Sleep(50 * time.Millisecond)
	stop()
	got := out.String()
	want := fmt.Sprintf("progress: %s of %s (", mb(sz.before[filepath.Base(files[1])]+100), mb(sz.total))
	// No ETA 50 ms in: TestProgressLine has when it shows.
	if !strings.Contains(got, want) || !strings.Contains(got, "txn/s") || strings.Contains(got, "ETA") {
		t.Errorf("progress lines:\n%s\nwant %q", got, want)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestConnFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want mysqlconn.Options
		ask  bool
	}{
		{name: "fields", args: []string{"--target-host=db", "--target-port=3307", "--target-user=ann", "--target-tls=required"},
			want: mysqlconn.Options{Host: "db", Port: 3307, User: "ann", TLS: "required"}},
		{name: "bare password asks", args: []string{"--target-socket=/s", "--target-password"}, ask: true,
			want: mysqlconn.Options{Socket: "/s", Password: askPassword}},
		{name: "uri", args: []string{"--target=mysql://ann@db:3310"}, want: mysqlconn.Options{URI: "mysql://ann@db:3310"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var o applyOptions
			fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
			o.AddFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if o.target != tc.want || !o.enabled() {
				t.Errorf("got %+v", o.target)
			}
			if tc.ask && !isTerminal(os.Stdin) {
				_, err := resolveConn(o.target, "", true, nil) // stdin is no terminal in tests
				if err == nil || !strings.Contains(err.Error(), "needs a terminal") {
					t.Errorf("bare --target-password without a terminal: %v", err)
				}
			}
		})
	}
}

// testPipe: stdin and compressed archives apply as files do. A pipe is read once, so a rerun
// resumes after the checkpoint from the same input, and what needs a second pass (the
// tables the replay writes, against the target's triggers) or a search (a checkpoint the input
// does not hold) stops before anything is written.
func (a *applyFixture) testPipe(t *testing.T) {
	t.Parallel()
	first, err := os.ReadFile(a.files[0])
	if err != nil {
		t.Fatal(err)
	}
	stdin := func(tgt *mariadbtest.Server, more ...string) runResult {
		cmd, stdout, stderr := pitrCmd(t, context.Background(), append(targetArgs(tgt, more...), "-")...)
		cmd.Stdin = bytes.NewReader(first)
		err := cmd.Run()
		res := runResult{stdout: stdout.String(), stderr: stderr.String()}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			res.code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return res
	}
	tgt := newTarget(t)
	res := stdin(tgt, "--yes", "--checkpoint-name=p")
	if res.code != 0 {
		t.Fatalf("stdin: exit %d\n%s", res.code, res.stderr)
	}
	ck := checkpointRow(t, tgt)
	if ck.file != "stdin" {
		t.Errorf("checkpoint %+v, want one in stdin", ck)
	}
	sum := tableSum(t, tgt.DB, "app.t_pk")
	res = stdin(tgt, "--yes", "--checkpoint-name=p")
	if res.code != 0 || !strings.Contains(res.stderr, "resuming after stdin:"+ck.pos) || !strings.Contains(res.stderr, "transactions=0") {
		t.Errorf("rerun: exit %d\n%s", res.code, res.stderr)
	}
	if got := tableSum(t, tgt.DB, "app.t_pk"); got != sum {
		t.Errorf("the rerun changed app.t_pk: %s, then %s", sum, got)
	}

	tgt.Exec(t, "CREATE TRIGGER app.trg BEFORE INSERT ON app.t_pk FOR EACH ROW SET NEW.v = NEW.v")
	res = stdin(tgt, "--yes", "--checkpoint-name=p2")
	wantFailure(t, res, exitError, "`app`.`trg` ON `app`.`t_pk`", "reading a pipe", "--allow-triggers")
	if got := tableSum(t, tgt.DB, "app.t_pk"); got != sum {
		t.Errorf("a refused run changed app.t_pk")
	}

	dir := t.TempDir()
	var gz []string
	for _, f := range a.files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		gz = append(gz, writeFile(t, dir, filepath.Base(f)+".gz", buf.String()))
	}
	whole := newTarget(t)
	res = runApplyPitr(t, append(targetArgs(whole, "--yes", "--checkpoint-name=gz"), gz...)...)
	if res.code != 0 {
		t.Fatalf("archives: exit %d\n%s", res.code, res.stderr)
	}
	sameData(t, a.src, whole)
	res = stdin(whole, "--yes", "--checkpoint-name=gz")
	wantFailure(t, res, exitError, "the target's checkpoint "+filepath.Base(a.files[len(a.files)-1]), "is not in -", "--checkpoint-name")
}
