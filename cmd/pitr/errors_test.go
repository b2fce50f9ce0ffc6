package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// The tests in this file run the pitr binary as a user does, to check what only a process
// shows: exit codes, stderr, and what is left on stdout and in -o files when a replay fails.

var (
	binDir   string // removed by TestMain
	binOnce  sync.Once
	binPath  string
	binErr   error
	dmlFiles = filepath.Join("..", "..", "testdata", "dml")
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pitr-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// pitrBinary builds the command once per test run.
func pitrBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(binDir, "pitr")
		out, err := exec.Command(goTool, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

type runResult struct {
	code           int
	stdout, stderr string
}

func runPitr(t *testing.T, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(pitrBinary(t), args...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := runResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("running pitr %q: %v", args, err)
	}
	return res
}

// wantFailure checks the exit code and that stderr is exactly one line, "pitr: ...", holding
// every one of the given substrings. It returns that line.
func wantFailure(t *testing.T, res runResult, code int, has ...string) string {
	t.Helper()
	if res.code != code {
		t.Errorf("exit code %d, want %d (stderr: %q)", res.code, code, res.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(res.stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "pitr: ") || !strings.HasSuffix(res.stderr, "\n") {
		t.Errorf("stderr is not one line starting with \"pitr: \":\n%s", res.stderr)
	}
	line := lines[len(lines)-1]
	for _, s := range has {
		if !strings.Contains(res.stderr, s) {
			t.Errorf("stderr %q does not mention %q", res.stderr, s)
		}
	}
	return line
}

// copyDML copies the dml fixture files into dir.
func copyDML(t *testing.T, dir string, names ...string) []string {
	t.Helper()
	var out []string
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dmlFiles, n))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func truncateFile(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

var txnComment = regexp.MustCompile(`(?m)^-- (mysql-bin\.\d+):(\d+)-(\d+) committed `)

// checkWholeTransactions checks that SQL output holds only whole transactions: every BEGIN
// is closed by COMMIT or ROLLBACK before the next, and the counts add up. It returns the number
// of commits and rollbacks.
func checkWholeTransactions(t *testing.T, sql string) (commits, rollbacks int) {
	t.Helper()
	open := false
	for i, line := range strings.Split(sql, "\n") {
		switch {
		case line == "BEGIN;":
			if open {
				t.Errorf("line %d: BEGIN inside a transaction", i+1)
			}
			open = true
		case strings.HasPrefix(line, "COMMIT;"):
			if !open {
				t.Errorf("line %d: COMMIT outside a transaction", i+1)
			}
			open = false
			commits++
		case strings.HasPrefix(line, "ROLLBACK;"):
			if !open {
				t.Errorf("line %d: ROLLBACK outside a transaction", i+1)
			}
			open = false
			rollbacks++
		case strings.HasPrefix(line, "INSERT ") || strings.HasPrefix(line, "UPDATE ") || strings.HasPrefix(line, "DELETE "):
			if !open {
				t.Errorf("line %d: row change outside a transaction: %s", i+1, line)
			}
		}
	}
	if open {
		t.Errorf("output ends inside a transaction:\n%s", sql)
	}
	if begins := strings.Count(sql, "\nBEGIN;\n"); begins != commits+rollbacks {
		t.Errorf("%d BEGIN, %d COMMIT, %d ROLLBACK", begins, commits, rollbacks)
	}
	return commits, rollbacks
}

// body is SQL output without its header comments (which name the files read).
func body(sql string) string {
	var out []string
	for _, l := range strings.Split(sql, "\n") {
		if !frameComment(l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// frameComment reports whether l is a comment of the output's header or of its last line
// (what was read, the window, why it ended), which differ between runs of other windows.
func frameComment(l string) bool {
	for _, p := range []string{"-- pitr ", "-- binlogs: ", "-- window ", "-- GTIDs ", "-- column names from ", "-- foreign_key_checks",
		"-- end: "} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// lastLine is the last line of SQL output, before the comment saying why it ended.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for len(lines) > 1 && frameComment(lines[len(lines)-1]) {
		lines = lines[:len(lines)-1]
	}
	return lines[len(lines)-1]
}

func TestCLIBadInput(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "mysql-bin.000001")
	if err := os.WriteFile(text, []byte("SELECT 1;\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("missing file", func(t *testing.T) {
		missing := filepath.Join(dir, "nope", "mysql-bin.000001")
		res := runPitr(t, "replay", "-q", missing)
		wantFailure(t, res, 1, missing)
		if res.stdout != "" {
			t.Errorf("stdout: %q", res.stdout)
		}
	})
	t.Run("not a binlog", func(t *testing.T) {
		res := runPitr(t, "replay", "-q", text)
		wantFailure(t, res, 1, "mysql-bin.000001:0", "not a binlog")
		if strings.Contains(res.stdout, "BEGIN") {
			t.Errorf("stdout: %q", res.stdout)
		}
	})
	t.Run("a directory", func(t *testing.T) {
		res := runPitr(t, "replay", "-q", dir)
		wantFailure(t, res, 1, "directory")
	})
	t.Run("bad checksum", func(t *testing.T) {
		d := t.TempDir()
		paths := copyDML(t, d, "mysql-bin.000002", "mysql-bin.000003", "mysql-bin.000004")
		b, _ := os.ReadFile(paths[1])
		b[1000] ^= 1 // inside the GTID event at 997
		if err := os.WriteFile(paths[1], b, 0o644); err != nil {
			t.Fatal(err)
		}
		res := runPitr(t, "replay", "-q", paths[0], paths[1], paths[2])
		wantFailure(t, res, 1, "mysql-bin.000003:997:", "checksum")
		checkWholeTransactions(t, res.stdout)
		if !strings.Contains(res.stdout, "-- mysql-bin.000003:342-795 ") || strings.Contains(body(res.stdout), "mysql-bin.000003:997") {
			t.Errorf("want every transaction before mysql-bin.000003:997 and none after:\n%s", res.stdout)
		}
	})
	t.Run("start position not at an event boundary", func(t *testing.T) {
		res := runPitr(t, "replay", "-q", "--start-position", "mysql-bin.000003:343",
			filepath.Join(dmlFiles, "mysql-bin.000002"), filepath.Join(dmlFiles, "mysql-bin.000003"))
		wantFailure(t, res, 1, "mysql-bin.000003:343", "event boundary")
	})
}

// TestCLITruncated replays copies of the dml fixture whose last file ends inside a rows event,
// as a crashed server's log does.
func TestCLITruncated(t *testing.T) {
	// The transaction at mysql-bin.000002:1888 writes three rows events (2166, 2433, 2615): cut
	// inside the third, the rows of the first two have been written when the error comes, so it
	// must end in ROLLBACK.
	t.Run("inside the third rows event of a transaction", func(t *testing.T) {
		dir := t.TempDir()
		paths := copyDML(t, dir, "mysql-bin.000002")
		truncateFile(t, paths[0], 2630)
		res := runPitr(t, "replay", "-q", paths[0])
		wantFailure(t, res, 1, "mysql-bin.000002:2615", "truncated")
		commits, rollbacks := checkWholeTransactions(t, res.stdout)
		if commits != 7 || rollbacks != 1 { // 6 DDL transactions, the insert into crm.customers
			t.Errorf("%d commits and %d rollbacks, want 7 and 1", commits, rollbacks)
		}
		if !strings.HasPrefix(lastLine(res.stdout), "ROLLBACK;") {
			t.Errorf("stdout does not end with ROLLBACK:\n%s", res.stdout)
		}
		cut := res.stdout[strings.LastIndex(res.stdout, "BEGIN;"):]
		if strings.Contains(cut, "COMMIT") || strings.Count(cut, "\nINSERT INTO") != 3 { // the rows of 2166 and 2433
			t.Errorf("cut transaction:\n%s", cut)
		}
	})

	// Three files, the last cut inside the first rows event of its first transaction: nothing
	// of that transaction has been written, everything before it is whole.
	t.Run("inside the first rows event of the last file", func(t *testing.T) {
		dir := t.TempDir()
		paths := copyDML(t, dir, "mysql-bin.000002", "mysql-bin.000003", "mysql-bin.000004")
		truncateFile(t, paths[2], 520) // the Delete_rows event at 495 is 61 bytes
		res := runPitr(t, "replay", "-q", paths[2], paths[0], paths[1])
		wantFailure(t, res, 1, "mysql-bin.000004:495", "truncated")
		commits, _ := checkWholeTransactions(t, res.stdout)
		full := runPitr(t, "replay", "-q", filepath.Join(dmlFiles, "mysql-bin.000002"), filepath.Join(dmlFiles, "mysql-bin.000003"))
		if full.code != 0 {
			t.Fatalf("replay of the intact files: %+v", full)
		}
		if body(res.stdout) != body(full.stdout) || commits != strings.Count(full.stdout, "\nCOMMIT;") {
			t.Errorf("output differs from the replay of the files before the cut one:\n%s", res.stdout)
		}
	})

	t.Run("with -o", func(t *testing.T) {
		dir := t.TempDir()
		paths := copyDML(t, dir, "mysql-bin.000002")
		truncateFile(t, paths[0], 2630)
		out := filepath.Join(dir, "out", "replay.sql")
		if err := os.Mkdir(filepath.Dir(out), 0o755); err != nil {
			t.Fatal(err)
		}
		res := runPitr(t, "replay", "-q", "-o", out, paths[0])
		wantFailure(t, res, 1, "mysql-bin.000002:2615")
		if res.stdout != "" {
			t.Errorf("stdout with -o: %q", res.stdout)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("the -o file must hold the whole transactions before the error: %v", err)
		}
		commits, rollbacks := checkWholeTransactions(t, string(b))
		if commits != 7 || rollbacks != 1 || !strings.Contains(string(b), "-- mysql-bin.000002:1507-1888 ") {
			t.Errorf("-o file has %d commits, %d rollbacks:\n%s", commits, rollbacks, b)
		}
		// Same bytes as stdout would have had.
		stdout := runPitr(t, "replay", "-q", paths[0])
		if stdout.stdout != string(b) {
			t.Errorf("-o file differs from stdout:\n%s\n---\n%s", b, stdout.stdout)
		}
		entries, _ := os.ReadDir(filepath.Dir(out))
		if len(entries) != 1 {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("files left next to the output: %q", names)
		}
	})
}

// TestCLIErrorIsOneLine runs failing replays at the default verbosity: the README promises a
// one-line error, so nothing else may be logged to stderr when a replay fails.
func TestCLIErrorIsOneLine(t *testing.T) {
	dir := t.TempDir()
	cut := copyDML(t, dir, "mysql-bin.000002")[0]
	truncateFile(t, cut, 2630)
	minimal, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "minimal_metadata", "mysql-bin.[0-9]*"))
	cases := []struct {
		name string
		args []string
		has  string
	}{
		{"truncated", []string{cut}, "mysql-bin.000002:2615"},
		{"not a binlog", []string{filepath.Join(dmlFiles, "setup.sql")}, "setup.sql:0"},
		{"minimal metadata", append([]string{"--start-position", "mysql-bin.000002:1507"}, minimal...), "crm.customers"},
		{"start position", []string{"--start-position", "5", filepath.Join(dmlFiles, "mysql-bin.000002")}, "event boundary"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runPitr(t, append([]string{"replay"}, tc.args...)...)
			wantFailure(t, res, 1, tc.has)
		})
	}
}

func TestCLIMinimalMetadata(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "minimal_metadata", "mysql-bin.[0-9]*"))
	if len(files) == 0 {
		t.Fatal("no minimal_metadata fixture")
	}
	// From the first rows transaction: the CREATE TABLE statements before it would name the columns.
	res := runPitr(t, append([]string{"replay", "-q", "--start-position", "mysql-bin.000002:1507"}, files...)...)
	line := wantFailure(t, res, 1, "crm.customers", "binlog_row_metadata")
	if !regexp.MustCompile(`^pitr: mysql-bin\.000002:\d+: `).MatchString(line) {
		t.Errorf("error does not start with the position: %q", line)
	}
	checkWholeTransactions(t, res.stdout)
	if strings.Contains(res.stdout, "BEGIN") {
		t.Errorf("rows written without column names:\n%s", res.stdout)
	}
}

func TestCLIUsageErrors(t *testing.T) {
	f := filepath.Join(dmlFiles, "mysql-bin.000002")
	cases := []struct {
		name string
		args []string
		has  []string
	}{
		{"bad start position", []string{"replay", "--start-position", "x:y", f}, []string{"--start-position", "x:y"}},
		{"bad stop position", []string{"replay", "--stop-position", ":5", f}, []string{"--stop-position"}},
		{"batch 0", []string{"replay", "--batch", "0", f}, []string{"--batch"}},
		{"batch not a number", []string{"replay", "--batch", "many", f}, []string{"--batch"}},
		{"only foo", []string{"replay", "--only", "foo", f}, []string{"--only", "foo"}},
		{"stop datetime garbage", []string{"replay", "--stop-datetime", "garbage", f}, []string{"--stop-datetime", "garbage"}},
		{"start datetime garbage", []string{"replay", "--start-datetime", "2024-13-45", f}, []string{"--start-datetime"}},
		{"start after stop", []string{"replay", "--start-datetime", "2024-01-02 00:00:00", "--stop-datetime", "2024-01-01 00:00:00", f}, []string{"--start-datetime", "--stop-datetime"}},
		{"unknown time zone", []string{"replay", "--timezone", "Nowhere/Zone", f}, []string{"--timezone", "Nowhere/Zone"}},
		{"table without a dot", []string{"replay", "-t", "nodot", f}, []string{"--table", "nodot"}},
		{"exclude-table without a dot", []string{"replay", "--exclude-table", "nodot", f}, []string{"--exclude-table", "nodot"}},
		{"bad max packet", []string{"replay", "--max-allowed-packet", "12Q", f}, []string{"--max-allowed-packet"}},
		{"unknown flag", []string{"replay", "--bogus", f}, []string{"--bogus"}},
		{"unknown shorthand", []string{"replay", "-Z", f}, []string{"-Z"}},
		{"no files", []string{"replay"}, []string{"binlog file"}},
		{"unknown command", []string{"replya", f}, []string{"replya"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runPitr(t, tc.args...)
			wantFailure(t, res, 2, tc.has...)
			if res.stdout != "" {
				t.Errorf("stdout: %q", res.stdout)
			}
		})
	}
}
