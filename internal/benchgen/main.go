// Command benchgen times `pitr replay` against mariadb-binlog on a large row-based binlog. Run it
// with `make bench`.
//
// It starts a throwaway MariaDB (internal/mariadbtest) under -dir and writes a binlog of at least
// -size-mb MiB with binlog_row_image=FULL and binlog_row_metadata=FULL: one bulk transaction of
// -big-rows rows into a wide table of varied column types, many small OLTP transactions (single-row
// INSERT, UPDATE and DELETE by primary key, and multi-statement transactions) over a few tables,
// big UPDATE and DELETE transactions, and a table `small` that gets well under 5% of the rows,
// interleaved with the OLTP traffic. Everything is generated server-side (INSERT ... SELECT from
// the SEQUENCE engine, a stored procedure looping with a commit per iteration), so generation
// takes a few minutes, not an hour. The binlog files are kept in -dir/binlogs with a marker file
// and reused by later runs until -regen (or different generation flags).
//
// Then it runs, -runs times each (3), taking turns, with stdout to /dev/null and a warm page cache:
//
//	A  pitr replay FILES                          (all tables)
//	B  pitr replay -t bench.small FILES           (one small table)
//	C  mariadb-binlog --base64-output=DECODE-ROWS -v FILES   (the reference)
//	D  mariadb-binlog FILES                       (no row decoding)
//	E  pitr replay FIRST-HALF-OF-FILES            (peak memory vs input size)
//
// and prints wall time, MiB/s of binlog input, rows/s (the row total of run A), user and system CPU
// time and peak RSS (the child's own rusage), each the median over the rounds, the ratios to the
// reference (the median of each round's ratio), and whether issue 16's read-side aims are met, and
// writes the same report to -dir/bench-results.txt. It is a report, not a test: nothing fails.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

const mib = 1 << 20

// params are the flags that shape the generated data set; a cached data set is reused only when
// they match.
type params struct {
	SizeMB       int64 `json:"size_mb"`        // grow the binlog to at least this many MiB
	BigRows      int   `json:"big_rows"`       // rows of the bulk insert into `big`
	OLTP         int   `json:"oltp"`           // small OLTP transactions (iterations) before growing
	BinlogSizeMB int64 `json:"binlog_size_mb"` // max_binlog_size in MiB
}

// dataset is the marker file written once a data set is complete.
type dataset struct {
	Params      params    `json:"params"`
	Files       []string  `json:"files"` // base names, in -dir/binlogs, oldest first
	TotalBytes  int64     `json:"total_bytes"`
	Server      string    `json:"server"`
	GeneratedAt time.Time `json:"generated_at"`
	GenSeconds  float64   `json:"generation_seconds"`
	Steps       []step    `json:"steps"`
}

type step struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

const (
	markerName  = "dataset.json"
	resultsName = "bench-results.txt"
	serverDir   = "server"
	binlogDir   = "binlogs"
	smallTable  = "bench.small"
)

func main() {
	pitr := flag.String("pitr", "bin/pitr", "pitr binary to time")
	dir := flag.String("dir", filepath.Join(os.TempDir(), "pitr-bench"), "work `folder`: the throwaway server, the cached binlogs and bench-results.txt")
	regen := flag.Bool("regen", false, "generate the binlogs again even if -dir holds a finished data set")
	var p params
	flag.Int64Var(&p.SizeMB, "size-mb", 320, "grow the binlog to at least this many `MiB`")
	flag.IntVar(&p.BigRows, "big-rows", 1_000_000, "rows of the one bulk INSERT transaction")
	flag.IntVar(&p.OLTP, "oltp", 100_000, "small OLTP transactions before the binlog is grown to -size-mb")
	flag.Int64Var(&p.BinlogSizeMB, "binlog-size-mb", 64, "max_binlog_size in `MiB` (the files rotate at about this size)")
	mbinlog := flag.String("mariadb-binlog", "mariadb-binlog", "the reference decoder")
	genOnly := flag.Bool("gen-only", false, "generate (or find) the data set and stop")
	runs := flag.Int("runs", 3, "rounds of the replay commands, taken in turn; figures are medians")
	flag.Parse()
	if flag.NArg() > 0 || p.SizeMB < 1 || p.BigRows < 1 || p.OLTP < 20 || p.BinlogSizeMB < 1 || p.BinlogSizeMB > 1024 {
		flag.Usage()
		os.Exit(2)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *dir, *pitr, *mbinlog, p, *regen, *genOnly, max(*runs, 1)); err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir, pitr, mbinlog string, p params, regen, genOnly bool, rounds int) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ds, cached, err := findDataset(dir, p)
	if err != nil {
		return err
	}
	if regen || !cached {
		if ds, err = generate(ctx, dir, p); err != nil {
			return err
		}
	} else {
		slog.Info("reusing cached binlogs (-regen to make them again)", "dir", filepath.Join(dir, binlogDir),
			"files", len(ds.Files), "MiB", fmt.Sprintf("%.1f", float64(ds.TotalBytes)/mib), "generated", ds.GeneratedAt.Format(time.RFC3339))
	}
	if genOnly {
		return nil
	}
	if pitr, err = filepath.Abs(pitr); err != nil {
		return err
	}
	if _, err := os.Stat(pitr); err != nil {
		return fmt.Errorf("-pitr: %w (run make build)", err)
	}
	if mbinlog, err = exec.LookPath(mbinlog); err != nil {
		return fmt.Errorf("-mariadb-binlog: %w", err)
	}
	report, err := measureAll(ctx, dir, pitr, mbinlog, ds, cached && !regen, rounds)
	if err != nil {
		return err
	}
	if *applyBench { // apply.go
		more, err := measureApply(ctx, dir, pitr, mbinlog, ds)
		if err != nil {
			return err
		}
		report += more
	}
	out := filepath.Join(dir, resultsName)
	if err := os.WriteFile(out, []byte(report), 0o644); err != nil {
		return err
	}
	fmt.Print(report)
	fmt.Println("written to", out)
	return nil
}

// findDataset reads the marker and checks that it matches p and that every file is still there
// with the recorded total size.
func findDataset(dir string, p params) (dataset, bool, error) {
	var ds dataset
	b, err := os.ReadFile(filepath.Join(dir, markerName))
	if errors.Is(err, os.ErrNotExist) {
		return ds, false, nil
	}
	if err != nil {
		return ds, false, err
	}
	if err := json.Unmarshal(b, &ds); err != nil {
		slog.Warn("unreadable marker; generating again", "file", filepath.Join(dir, markerName), "err", err)
		return ds, false, nil
	}
	if ds.Params != p {
		slog.Info("cached data set was made with other flags; generating again", "cached", ds.Params, "wanted", p)
		return ds, false, nil
	}
	var total int64
	for _, f := range ds.Files {
		st, err := os.Stat(filepath.Join(dir, binlogDir, f))
		if err != nil {
			slog.Warn("cached data set is incomplete; generating again", "err", err)
			return ds, false, nil
		}
		total += st.Size()
	}
	if total != ds.TotalBytes || len(ds.Files) == 0 {
		slog.Warn("cached binlogs changed size; generating again", "marker", ds.TotalBytes, "found", total)
		return ds, false, nil
	}
	return ds, true, nil
}

func (ds dataset) paths(dir string) []string {
	out := make([]string, len(ds.Files))
	for i, f := range ds.Files {
		out[i] = filepath.Join(dir, binlogDir, f)
	}
	return out
}

// ---------------------------------------------------------------------------------------------
// Generation

// schema is run first. Session time zone UTC so TIMESTAMP arithmetic never meets a DST gap.
const schema = `
SET time_zone = '+00:00';
CREATE DATABASE bench;
USE bench;
-- Wide table for the bulk insert, the big updates and the big deletes.
CREATE TABLE big (
  id      BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  qty     INT NOT NULL,
  amount  DECIMAL(12,2) NOT NULL,
  score   DOUBLE NOT NULL,
  name    VARCHAR(64) CHARACTER SET utf8mb4 NOT NULL,
  created DATETIME(6) NOT NULL,
  seen    TIMESTAMP NOT NULL DEFAULT '2000-01-01 00:00:00',
  status  ENUM('new','paid','shipped','cancelled','returned') NOT NULL,
  tag     VARBINARY(16) NOT NULL,
  payload BLOB NULL,
  ref     INT NULL
) ENGINE=InnoDB;
-- OLTP tables.
CREATE TABLE orders (
  id       BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  customer INT NOT NULL,
  total    DECIMAL(10,2) NOT NULL,
  state    ENUM('open','paid','shipped','closed') NOT NULL DEFAULT 'open',
  note     VARCHAR(64) CHARACTER SET utf8mb4 NULL,
  updated  DATETIME(6) NOT NULL
) ENGINE=InnoDB;
CREATE TABLE accounts (
  id      INT NOT NULL PRIMARY KEY,
  balance DECIMAL(14,2) NOT NULL,
  version INT NOT NULL,
  owner   VARCHAR(32) CHARACTER SET utf8mb4 NOT NULL,
  touched TIMESTAMP(6) NULL
) ENGINE=InnoDB;
-- The table a filtered replay asks for: a trickle of rows among the OLTP traffic.
CREATE TABLE small (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  k  INT NOT NULL,
  v  VARCHAR(32) CHARACTER SET utf8mb4 NOT NULL,
  at DATETIME NOT NULL
) ENGINE=InnoDB;
INSERT INTO accounts (id, balance, version, owner) SELECT seq, 1000, 0, CONCAT('owner-', seq) FROM seq_1_to_10000;

DELIMITER //
-- oltp(n, base): n iterations, one or a few small transactions each (autocommit = one
-- transaction per statement outside START TRANSACTION ... COMMIT). Per 20 iterations: 6 single
-- inserts, 5 account updates, 3 order updates, 2 order deletes, 4 multi-statement transactions
-- (2 of which also insert into small); every 100th account update also updates a row of small.
CREATE PROCEDURE oltp(IN n INT, IN base INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  DECLARE r INT;
  DECLARE a INT;
  DECLARE x INT;
  DECLARE oid BIGINT DEFAULT 0;
  SELECT COALESCE(MAX(id), 0) INTO oid FROM orders;
  WHILE i < n DO
    SET x = base + i;
    SET r = x MOD 20;
    SET a = 1 + (x * 7919) MOD 10000;
    IF r < 6 THEN
      INSERT INTO orders (customer, total, state, note, updated)
        VALUES (a, (x MOD 100000) / 100, 'open', IF(r = 0, NULL, CONCAT('order ', x, IF(r = 3, ' – größe', ''))), NOW(6));
      SET oid = LAST_INSERT_ID();
    ELSEIF r < 11 THEN
      UPDATE accounts SET balance = balance + 1.50, version = version + 1, touched = NOW(6) WHERE id = a;
      IF x MOD 100 = 7 THEN
        UPDATE small SET v = CONCAT('upd ', x) WHERE id = 1 + (x MOD 97);
      END IF;
    ELSEIF r < 14 THEN
      UPDATE orders SET state = ELT(1 + r MOD 4, 'open', 'paid', 'shipped', 'closed'), total = total + 0.25, updated = NOW(6)
        WHERE id = oid - (x MOD 5);
    ELSEIF r < 16 THEN
      DELETE FROM orders WHERE id = oid - 5 - (x MOD 3);
    ELSE
      START TRANSACTION;
      INSERT INTO orders (customer, total, state, note, updated) VALUES (a, 10.00, 'paid', CONCAT('transfer ', x), NOW(6));
      SET oid = LAST_INSERT_ID();
      UPDATE accounts SET balance = balance - 10, version = version + 1 WHERE id = a;
      UPDATE accounts SET balance = balance + 10, version = version + 1 WHERE id = 1 + a MOD 10000;
      IF r >= 18 THEN
        INSERT INTO small (k, v, at) VALUES (x, CONCAT('s', x), NOW());
      END IF;
      COMMIT;
    END IF;
    SET i = i + 1;
  END WHILE;
END//
DELIMITER ;
`

// bulkInsert is the one big transaction: %d rows from the SEQUENCE engine.
const bulkInsert = `
SET time_zone = '+00:00';
USE bench;
INSERT INTO big
SELECT seq,
       seq MOD 100000 - 50000,
       ((seq * 7919) MOD 100000000 - 50000000) / 100,
       seq / 7.0 + SIN(seq),
       CONCAT(ELT(1 + seq MOD 6, 'alpha', 'Grüße', 'Ωmega', '日本語', 'emoji 😀', 'plain'), ' #', seq),
       TIMESTAMP('2024-01-01') + INTERVAL (seq * 1000003) MICROSECOND,
       FROM_UNIXTIME(1700000000 + seq * 3),
       ELT(1 + seq MOD 5, 'new', 'paid', 'shipped', 'cancelled', 'returned'),
       SUBSTR(UNHEX(SHA1(seq)), 1, 1 + seq MOD 16),
       IF(seq MOD 10 = 0, NULL, REPEAT(CHAR(65 + seq MOD 26), seq MOD 40)),
       IF(seq MOD 3 = 0, NULL, seq * 2)
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_%d) AS s;
`

func generate(ctx context.Context, dir string, p params) (dataset, error) {
	ds := dataset{Params: p}
	for _, name := range []string{markerName, resultsName, serverDir, binlogDir} {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return ds, err
		}
	}
	t0 := time.Now()
	opts := mariadbtest.Options{
		RowImage:      "FULL",
		RowMetadata:   "FULL",
		MaxBinlogSize: p.BinlogSizeMB * mib,
		ExtraArgs: []string{
			"--innodb-buffer-pool-size=2G",
			"--innodb-log-file-size=1G",
			"--innodb-log-buffer-size=64M",
			"--innodb-flush-log-at-trx-commit=0",
			"--innodb-doublewrite=0",
			"--binlog-cache-size=1M",
		},
	}
	slog.Info("starting throwaway MariaDB", "dir", filepath.Join(dir, serverDir))
	srv, err := mariadbtest.Launch(ctx, filepath.Join(dir, serverDir), opts)
	if err != nil {
		return ds, err
	}
	defer srv.Stop()
	if err := srv.DB.QueryRowContext(ctx, "SELECT VERSION()").Scan(&ds.Server); err != nil {
		return ds, err
	}

	size := func() (int64, error) {
		files, err := srv.BinlogFiles(ctx)
		if err != nil {
			return 0, err
		}
		var n int64
		for _, f := range files {
			st, err := os.Stat(f)
			if err != nil {
				return 0, err
			}
			n += st.Size()
		}
		return n, nil
	}
	runStep := func(name, script string) error {
		t := time.Now()
		if err := srv.ExecScript(ctx, script); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		d := time.Since(t)
		ds.Steps = append(ds.Steps, step{Name: name, Seconds: d.Seconds()})
		n, err := size()
		if err != nil {
			return err
		}
		slog.Info("step done", "step", name, "seconds", fmt.Sprintf("%.1f", d.Seconds()),
			"binlog_MiB", fmt.Sprintf("%.1f", float64(n)/mib))
		return nil
	}
	use := "SET time_zone = '+00:00'; USE bench;\n"
	oltp := func(n, base int) error {
		return runStep(fmt.Sprintf("oltp %d", n), fmt.Sprintf("%sCALL oltp(%d, %d);\n", use, n, base))
	}

	if err := runStep("schema", schema); err != nil {
		return ds, err
	}
	base := 0
	// OLTP before, between and after the big transactions, so the big ones sit mid-stream.
	half, quarter := p.OLTP/2, p.OLTP/4
	if err := oltp(half, base); err != nil {
		return ds, err
	}
	base += half
	if err := runStep(fmt.Sprintf("bulk insert %d rows", p.BigRows), fmt.Sprintf(bulkInsert, p.BigRows)); err != nil {
		return ds, err
	}
	if err := oltp(quarter, base); err != nil {
		return ds, err
	}
	base += quarter
	// Half the rows updated, in five transactions; then a fifth deleted, in two.
	chunk := (p.BigRows + 4) / 5
	for lo := 1; lo <= p.BigRows; lo += chunk {
		q := fmt.Sprintf(`%sUPDATE big SET amount = amount + 1.25, score = score * 1.5,
  status = ELT(1 + (id + 1) MOD 5, 'new', 'paid', 'shipped', 'cancelled', 'returned'),
  ref = IF(ref IS NULL, id, NULL), name = CONCAT(name, '*'), seen = seen + INTERVAL 1 HOUR
  WHERE id BETWEEN %d AND %d AND id MOD 2 = 1;
`, use, lo, lo+chunk-1)
		if err := runStep(fmt.Sprintf("update ids %d-%d", lo, lo+chunk-1), q); err != nil {
			return ds, err
		}
	}
	mid := p.BigRows / 2
	for _, cond := range []string{fmt.Sprintf("id <= %d", mid), fmt.Sprintf("id > %d", mid)} {
		q := fmt.Sprintf("%sDELETE FROM big WHERE id MOD 5 = 0 AND %s;\n", use, cond)
		if err := runStep("delete "+cond, q); err != nil {
			return ds, err
		}
	}
	rest := p.OLTP - half - quarter
	if err := oltp(rest, base); err != nil {
		return ds, err
	}
	base += rest

	// Grow to the wanted size: an update of 100k ids of big (one transaction) and 10k more OLTP
	// iterations per round.
	for round := 0; ; round++ {
		n, err := size()
		if err != nil {
			return ds, err
		}
		if n >= p.SizeMB*mib {
			break
		}
		if round == 200 {
			return ds, fmt.Errorf("binlog still %d MiB after %d growth rounds", n/mib, round)
		}
		lo := 1 + (round*100_000)%p.BigRows
		q := fmt.Sprintf("%sUPDATE big SET score = score + 1, amount = amount - 0.01, seen = seen + INTERVAL 1 SECOND WHERE id BETWEEN %d AND %d;\n",
			use, lo, lo+99_999)
		if err := runStep(fmt.Sprintf("grow: update ids %d-%d", lo, lo+99_999), q); err != nil {
			return ds, err
		}
		if err := oltp(10_000, base); err != nil {
			return ds, err
		}
		base += 10_000
	}

	var counts [4]int64
	if err := srv.DB.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM bench.big), (SELECT COUNT(*) FROM bench.orders),
		(SELECT COUNT(*) FROM bench.accounts), (SELECT COUNT(*) FROM bench.small)`).Scan(&counts[0], &counts[1], &counts[2], &counts[3]); err != nil {
		return ds, err
	}
	slog.Info("final table sizes", "big", counts[0], "orders", counts[1], "accounts", counts[2], "small", counts[3])

	if err := srv.FlushBinlogs(ctx); err != nil {
		return ds, err
	}
	files, err := srv.BinlogFiles(ctx)
	if err != nil {
		return ds, err
	}
	files = files[:len(files)-1] // the last one is the empty file the flush opened
	if err := srv.Stop(); err != nil {
		return ds, err
	}
	if err := os.MkdirAll(filepath.Join(dir, binlogDir), 0o755); err != nil {
		return ds, err
	}
	for _, f := range files {
		dst := filepath.Join(dir, binlogDir, filepath.Base(f))
		if err := os.Rename(f, dst); err != nil {
			return ds, err
		}
		st, err := os.Stat(dst)
		if err != nil {
			return ds, err
		}
		ds.Files = append(ds.Files, filepath.Base(f))
		ds.TotalBytes += st.Size()
	}
	// The datadir (over a GiB with the InnoDB log) is not needed any more.
	if err := os.RemoveAll(filepath.Join(dir, serverDir)); err != nil {
		return ds, err
	}
	ds.GeneratedAt = time.Now().UTC()
	ds.GenSeconds = time.Since(t0).Seconds()
	b, err := json.MarshalIndent(ds, "", "  ")
	if err != nil {
		return ds, err
	}
	if err := os.WriteFile(filepath.Join(dir, markerName), append(b, '\n'), 0o644); err != nil {
		return ds, err
	}
	slog.Info("binlogs generated", "files", len(ds.Files), "MiB", fmt.Sprintf("%.1f", float64(ds.TotalBytes)/mib),
		"seconds", fmt.Sprintf("%.1f", ds.GenSeconds))
	return ds, nil
}

// ---------------------------------------------------------------------------------------------
// Measurement

type result struct {
	label  string
	argv   []string
	bytes  int64 // binlog input
	wall   time.Duration
	user   time.Duration
	sys    time.Duration
	rssKiB int64
	exit   int
	stderr string
}

// measure runs argv once with stdout to /dev/null and returns its wall time and rusage.
func measure(ctx context.Context, label string, inputBytes int64, argv []string) (result, error) {
	r := result{label: label, argv: argv, bytes: inputBytes}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return r, err
	}
	defer null.Close()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout = null
	cmd.Stderr = &stderr
	slog.Info("running", "run", label, "cmd", shortCmd(argv))
	t := time.Now()
	err = cmd.Run()
	r.wall = time.Since(t)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return r, fmt.Errorf("%s: %w", label, err)
	}
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	st := cmd.ProcessState
	r.exit = st.ExitCode()
	if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
		r.user = time.Duration(ru.Utime.Nano())
		r.sys = time.Duration(ru.Stime.Nano())
		r.rssKiB = ru.Maxrss // KiB on Linux
	}
	r.stderr = stderr.String()
	slog.Info("finished", "run", label, "wall", r.wall.Round(time.Millisecond), "exit", r.exit)
	if r.exit != 0 {
		slog.Warn("non-zero exit", "run", label, "stderr", lastLines(r.stderr, 5))
	}
	return r, nil
}

var doneRE = regexp.MustCompile(`\b(transactions|inserted|updated|deleted)=(\d+)`)

// replayCounts reads pitr's final "replay done" log line.
func replayCounts(stderr string) (map[string]int64, bool) {
	for _, line := range strings.Split(stderr, "\n") {
		if !strings.Contains(line, "replay done") {
			continue
		}
		m := map[string]int64{}
		for _, g := range doneRE.FindAllStringSubmatch(line, -1) {
			n, _ := strconv.ParseInt(g[2], 10, 64)
			m[g[1]] = n
		}
		return m, len(m) == 4
	}
	return nil, false
}

// warm reads every file once so that all runs see the same (warm) page cache.
func warm(files []string) error {
	buf := make([]byte, 4*mib)
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return err
		}
		_, err = io.CopyBuffer(io.Discard, fh, buf)
		fh.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func sizeOf(files []string) int64 {
	var n int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			n += st.Size()
		}
	}
	return n
}

// median returns the middle of xs (the mean of the two middle ones for an even count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// medianResult is rs with each figure the median over the rounds, and a non-zero exit if any.
func medianResult(rs []result) result {
	m := rs[0]
	var wall, user, sys, rss []float64
	for _, r := range rs {
		wall, user, sys = append(wall, float64(r.wall)), append(user, float64(r.user)), append(sys, float64(r.sys))
		rss = append(rss, float64(r.rssKiB))
		if r.exit != 0 && m.exit == 0 {
			m.exit, m.stderr = r.exit, r.stderr
		}
	}
	m.wall, m.user, m.sys = time.Duration(median(wall)), time.Duration(median(user)), time.Duration(median(sys))
	m.rssKiB = int64(median(rss))
	return m
}

func measureAll(ctx context.Context, dir, pitr, mbinlog string, ds dataset, cached bool, rounds int) (string, error) {
	files := ds.paths(dir)
	halfFiles := files[:max(1, len(files)/2)]
	total, halfBytes := sizeOf(files), sizeOf(halfFiles)
	if err := warm(files); err != nil {
		return "", err
	}
	runs := []struct {
		label string
		bytes int64
		argv  []string
	}{
		{"A pitr replay (all tables)", total, append([]string{pitr, "replay"}, files...)},
		{"B pitr replay -t " + smallTable, total, append([]string{pitr, "replay", "-t", smallTable}, files...)},
		{"C mariadb-binlog -v (DECODE-ROWS)", total, append([]string{mbinlog, "--base64-output=DECODE-ROWS", "-v"}, files...)},
		{"D mariadb-binlog (no -v)", total, append([]string{mbinlog}, files...)},
		{fmt.Sprintf("E pitr replay, first %d of %d files", len(halfFiles), len(files)), halfBytes, append([]string{pitr, "replay"}, halfFiles...)},
	}
	// The commands take turns, round after round, so that a machine busier in one stretch
	// slows all of them; ratios are taken within a round, then their median.
	// Each timed run follows an untimed one of the same command (as farm-bench's warm-up): on
	// this VM a sub-second command started after a pause ran up to twice as long as the same
	// command run back to back (the CPU ramping up, not the command), which swamped the
	// filtered replay's figure; the seconds-long commands barely move.
	all := make([][]result, len(runs))
	for round := 0; round < rounds; round++ {
		for i, r := range runs {
			if _, err := measure(ctx, r.label+" (warm-up)", r.bytes, r.argv); err != nil {
				return "", err
			}
			m, err := measure(ctx, r.label, r.bytes, r.argv)
			if err != nil {
				return "", err
			}
			all[i] = append(all[i], m)
		}
	}
	var res []result
	for _, rs := range all {
		res = append(res, medianResult(rs))
	}
	a, b, e := res[0], res[1], res[4]
	cpu := func(r result) float64 { return (r.user + r.sys).Seconds() }
	// paired is the median over the rounds of x's figure over y's.
	paired := func(x, y int, f func(result) float64) float64 {
		var q []float64
		for k := range all[x] {
			if d := f(all[y][k]); d > 0 {
				q = append(q, f(all[x][k])/d)
			}
		}
		return median(q)
	}
	wallOf := func(r result) float64 { return r.wall.Seconds() }
	rssOf := func(r result) float64 { return float64(r.rssKiB) }
	countsA, okA := replayCounts(a.stderr)
	countsB, _ := replayCounts(b.stderr)
	countsE, _ := replayCounts(e.stderr)
	rowsAll := countsA["inserted"] + countsA["updated"] + countsA["deleted"]
	rowsHalf := countsE["inserted"] + countsE["updated"] + countsE["deleted"]

	var sb strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&sb, "pitr replay benchmark, %s, host %s, %d CPUs, %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), host, runtime.NumCPU(), runtime.Version())
	gen := fmt.Sprintf("generated in %.0f s", ds.GenSeconds)
	if cached {
		gen = fmt.Sprintf("cached; generated %s in %.0f s", ds.GeneratedAt.Format("2006-01-02 15:04 UTC"), ds.GenSeconds)
	}
	fmt.Fprintf(&sb, "data set: %d binlog files, %.1f MiB, %s, %s, row image FULL, row metadata FULL (%s)\n",
		len(files), float64(total)/mib, ds.Server, gen, filepath.Join(dir, binlogDir))
	if okA {
		fmt.Fprintf(&sb, "rows (from run A): %d = %d inserted + %d updated + %d deleted, in %d transactions\n",
			rowsAll, countsA["inserted"], countsA["updated"], countsA["deleted"], countsA["transactions"])
	} else {
		fmt.Fprintf(&sb, "rows: pitr's \"replay done\" line not found in run A's stderr; rows/s left out\n")
	}
	if c := countsB; len(c) == 4 {
		small := c["inserted"] + c["updated"] + c["deleted"]
		fmt.Fprintf(&sb, "%s: %d rows (%d inserted, %d updated, %d deleted) in %d transactions = %.2f%% of all rows\n",
			smallTable, small, c["inserted"], c["updated"], c["deleted"], c["transactions"], 100*float64(small)/float64(max(rowsAll, 1)))
	}
	fmt.Fprintf(&sb, "each command ran %d times, in turn with the others, each timed run right after an untimed warm-up run of the same command; figures are medians, ratios the median of each round's ratio; stdout to /dev/null, page cache warm; MiB = 2^20 bytes; CPU and peak RSS from the child's rusage\n", rounds)
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		// Other work on the machine inflates wall times (not CPU times); say how busy it was.
		fmt.Fprintf(&sb, "load average before the runs: %s\n", strings.Join(strings.Fields(string(la))[:3], " "))
	}
	sb.WriteString("\n")

	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\twall s\tMiB/s\tk rows/s\tuser s\tsys s\tcpu/wall\tpeak RSS MiB\texit\t")
	for i, r := range res {
		rows := rowsAll
		if i == 4 {
			rows = rowsHalf
		}
		secs := r.wall.Seconds()
		rowsPS := "-"
		if rows > 0 {
			rowsPS = fmt.Sprintf("%.0f", float64(rows)/secs/1000)
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.1f\t%s\t%.2f\t%.2f\t%.2f\t%.1f\t%d\t\n", r.label+" ", secs, float64(r.bytes)/mib/secs, rowsPS,
			r.user.Seconds(), r.sys.Seconds(), (r.user+r.sys).Seconds()/secs, float64(r.rssKiB)/1024, r.exit)
	}
	tw.Flush()

	ratio := func(x, y float64) string {
		if y == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", x/y)
	}
	two := func(x float64) string { return fmt.Sprintf("%.2f", x) }
	fmt.Fprintf(&sb, "\nratios pitr / mariadb-binlog -v (C); below 1 means pitr is faster or smaller:\n")
	tw = tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\twall\tcpu\tpeak RSS\t")
	fmt.Fprintf(tw, "A/C (all tables) \t%s\t%s\t%s\t\n", two(paired(0, 2, wallOf)), two(paired(0, 2, cpu)), two(paired(0, 2, rssOf)))
	fmt.Fprintf(tw, "B/C (-t %s) \t%s\t%s\t%s\t\n", smallTable, two(paired(1, 2, wallOf)), two(paired(1, 2, cpu)), two(paired(1, 2, rssOf)))
	fmt.Fprintf(tw, "A/D (vs no -v) \t%s\t%s\t%s\t\n", two(paired(0, 3, wallOf)), two(paired(0, 3, cpu)), two(paired(0, 3, rssOf)))
	tw.Flush()

	// Issue 16's aims for the read side, checked against this run's figures.
	metOr := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	bc, ac := paired(1, 2, wallOf), paired(0, 2, wallOf)
	flat := float64(a.rssKiB) / float64(max(e.rssKiB, 1))
	fmt.Fprintf(&sb, "\naims (issue 16, read side):\n")
	fmt.Fprintf(&sb, "  filtered replay (B) at least 20 times as fast as mariadb-binlog -v: %.1f times (wall; cpu %.1f times): %s\n",
		1/bc, 1/paired(1, 2, cpu), metOr(bc <= 1.0/20))
	fmt.Fprintf(&sb, "  unfiltered replay (A) no slower than on 2026-11-29 (0.68 of mariadb-binlog -v's wall): %.2f: %s\n", ac, metOr(ac <= 0.68))
	fmt.Fprintf(&sb, "  peak RSS under 100 MB: A %.1f MiB, B %.1f MiB: %s\n", float64(a.rssKiB)/1024, float64(b.rssKiB)/1024,
		metOr(a.rssKiB*1024 < 100e6 && b.rssKiB*1024 < 100e6))
	fmt.Fprintf(&sb, "  peak RSS flat as the input grows (all files vs the first half, at most 1.25): %.2f for %.2f times the input: %s\n",
		flat, float64(total)/float64(max(halfBytes, 1)), metOr(flat <= 1.25))
	fmt.Fprintf(&sb, "\nmemory flatness: pitr peak RSS %.1f MiB over the first %d files (%.1f MiB) vs %.1f MiB over all %d (%.1f MiB): ratio %s for %s times the input\n",
		float64(e.rssKiB)/1024, len(halfFiles), float64(halfBytes)/mib, float64(a.rssKiB)/1024, len(files), float64(total)/mib,
		ratio(float64(a.rssKiB), float64(e.rssKiB)), ratio(float64(total), float64(halfBytes)))
	for _, r := range res {
		if r.exit != 0 {
			fmt.Fprintf(&sb, "\n%s exited %d; stderr tail:\n%s\n", r.label, r.exit, lastLines(r.stderr, 10))
		}
	}
	fmt.Fprintf(&sb, "\ncommands (FILES = %s):\n", strings.Join(ds.Files, " "))
	for _, r := range res {
		fmt.Fprintf(&sb, "  %s: %s > /dev/null\n", r.label[:1], shortCmd(r.argv))
	}
	if len(ds.Steps) > 0 {
		fmt.Fprintf(&sb, "\ngeneration steps:\n")
		for _, s := range ds.Steps {
			fmt.Fprintf(&sb, "  %6.1f s  %s\n", s.Seconds, s.Name)
		}
	}
	return sb.String(), nil
}

// shortCmd prints argv with the binlog file list abbreviated.
func shortCmd(argv []string) string {
	var out []string
	nfiles := 0
	for _, a := range argv {
		if strings.Contains(filepath.Base(a), "-bin.") {
			nfiles++
			continue
		}
		out = append(out, a)
	}
	if nfiles > 0 {
		out = append(out, fmt.Sprintf("FILES(%d)", nfiles))
	}
	return strings.Join(out, " ")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
