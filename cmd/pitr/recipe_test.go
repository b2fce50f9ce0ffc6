package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

// readmeRecipe returns the lines of the first code block under "## In an incident" in README.md.
func readmeRecipe(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "## In an incident\n")
	if i < 0 {
		t.Fatal("README.md has no \"## In an incident\" section")
	}
	s = s[i:]
	start := strings.Index(s, "\n```\n")
	if start < 0 {
		t.Fatal("no code block in the incident section")
	}
	s = s[start+5:]
	end := strings.Index(s, "\n```\n")
	if end < 0 {
		t.Fatal("the incident code block does not end")
	}
	return strings.Split(s[:end], "\n")
}

// runPitrIn runs the pitr binary in dir.
func runPitrIn(t *testing.T, dir string, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(pitrBinary(t), args...)
	cmd.Dir = dir
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

var (
	findLine  = regexp.MustCompile(`(?m)^(\S+:\d+)-\d+ .* (?:MASS|STATEMENT) DELETE ` + "`shop`.`member_kr`" + `( \(\d+ rows\))?.*$`)
	findDrop  = regexp.MustCompile(`(?m)^\S+:\d+-\d+ .* DROP TABLE ` + "`shop`.`orders`")
	recipePos = regexp.MustCompile(`^mysql-bin\.\d+:\d+$`)
)

// TestREADMEIncidentRecipe runs the README's incident recipe word for word, as an on-call
// engineer would, on MariaDB 10.11's default binlog_row_metadata=NO_LOG: the binlog has no
// column names, the dump's CREATE TABLE statements name them (no --schema). The dump holds an
// euckr table (member_kr, Korean text) and a table with a foreign key (orders → customers, with
// JSON, DATETIME(3), DECIMAL, Korean text and a utf16 column holding a surrogate pair); after it come writes and an ALTER, then DROP
// TABLE orders and a DELETE of every member_kr row. Into a server restored from the dump, and
// into an empty one with --with-backup-data, both tables must come back byte-identical to the
// moment before their mistake. The only word not taken from the README is the position find
// prints, which the recipe pastes into --stop-position.
func TestREADMEIncidentRecipe(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB servers")
	}
	// MariaDB's defaults are binlog_format=MIXED (most of this DML is then logged as statements)
	// and NO_LOG; ROW is what most production servers are switched to.
	for _, format := range []string{"MIXED", "ROW"} {
		t.Run(format, func(t *testing.T) { incidentRecipe(t, format) })
	}
}

func incidentRecipe(t *testing.T, format string) {
	recipe := readmeRecipe(t)
	ctx := context.Background()
	src := mariadbtest.Start(t, mariadbtest.Options{RowMetadata: "NO_LOG", ExtraArgs: []string{"--binlog-format=" + format}})
	mustScript(t, src, `CREATE DATABASE shop;
CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL);
CREATE TABLE shop.orders (id INT PRIMARY KEY AUTO_INCREMENT, customer INT NOT NULL, doc JSON, at DATETIME(3) NOT NULL,
  note VARCHAR(100), total DECIMAL(10,2), memo VARCHAR(40) CHARACTER SET utf16, CONSTRAINT fk_customer FOREIGN KEY (customer) REFERENCES shop.customers (id));
CREATE TABLE shop.member_kr (id INT PRIMARY KEY, name VARCHAR(30) NOT NULL, city VARCHAR(30), joined DATE, points INT UNSIGNED) DEFAULT CHARSET=euckr;
INSERT INTO shop.customers VALUES (1, '김민수'), (2, 'Ann');
INSERT INTO shop.orders (customer, doc, at, note, total, memo) VALUES (1, '{"items": ["사과", 2]}', '2026-11-29 01:00:00.123', '첫 주문', 10.50, '메모 𝄞'),
  (2, NULL, '2026-11-29 01:01:00.5', 'second', 99.99, 'ASCII in utf16');
INSERT INTO shop.member_kr SELECT seq, CONCAT('회원', seq), IF(seq % 2, '서울', '부산'), '2026-01-01' + INTERVAL seq DAY, 4000000000 + seq FROM shop.seq_1_to_150;`)
	dump, err := exec.Command("mariadb-dump", "--no-defaults", "-uroot", "--socket="+src.Socket,
		"--single-transaction", "--master-data=2", "--gtid", "--databases", "shop").Output()
	if err != nil {
		t.Fatal(err)
	}
	dumpOrdersSum, dumpOrders := tableRows(t, src.DB, "shop.orders")
	dumpMemberSum, dumpMember := tableRows(t, src.DB, "shop.member_kr")
	mustScript(t, src, `INSERT INTO shop.customers VALUES (3, '이영희');
INSERT INTO shop.orders (customer, doc, at, note, total, memo) VALUES (3, '{"gift": true}', '2026-11-29 02:00:00.001', '선물', 5.00, '🎁 선물');
ALTER TABLE shop.orders ADD COLUMN status ENUM('new','paid','sent') NOT NULL DEFAULT 'new' AFTER note;
UPDATE shop.orders SET status = 'paid', note = CONCAT(note, ' ✓'), memo = CONCAT(memo, ' ✓') WHERE id <= 2;
INSERT INTO shop.orders (customer, doc, at, note, status, total) VALUES (1, JSON_OBJECT('k', '값'), '2026-11-29 02:30:00.999', NULL, 'sent', 0.01);
UPDATE shop.member_kr SET city = '대구' WHERE id IN (3, 4);
DELETE FROM shop.member_kr WHERE id = 150;
INSERT INTO shop.member_kr VALUES (151, '새회원', NULL, '2026-11-29', 0);`)
	wantOrdersSum, wantOrders := tableRows(t, src.DB, "shop.orders")
	mustScript(t, src, `DROP TABLE shop.orders;
INSERT INTO shop.customers VALUES (4, 'after the drop');
UPDATE shop.member_kr SET name = '마지막' WHERE id = 1;`)
	wantMemberSum, wantMember := tableRows(t, src.DB, "shop.member_kr")
	mustScript(t, src, `DELETE FROM shop.member_kr; INSERT INTO shop.customers VALUES (5, 'later');`)
	if err := src.FlushBinlogs(ctx); err != nil {
		t.Fatal(err)
	}

	// The working folder of the recipe: the dump, and a binlog folder as a server with the
	// default log-bin writes it (files and an .index of ./ names, so that mysql-bin.* names both).
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "dump.sql"), dump, 0o644); err != nil {
		t.Fatal(err)
	}
	binlogs, _ := filepath.Glob(src.BinlogBase + ".[0-9]*")
	var index strings.Builder
	for _, f := range binlogs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(work, filepath.Base(f)), b, 0o644)
		index.WriteString("./" + filepath.Base(f) + "\n")
	}
	os.WriteFile(filepath.Join(work, "mysql-bin.index"), []byte(index.String()), 0o644)

	restored := mariadbtest.Start(t, mariadbtest.Options{NoBinlog: true})
	load := restored.Client(ctx)
	load.Stdin = bytes.NewReader(dump)
	if msg, err := load.CombinedOutput(); err != nil {
		t.Fatalf("restoring the dump: %v\n%s", err, msg)
	}
	empty := mariadbtest.Start(t, mariadbtest.Options{NoBinlog: true})

	target := restored
	var deleteAt string
	ran := map[string]int{}
	for _, line := range recipe {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "# or"):
			target = empty // "or, without restoring the backup: ... in an empty server"
		case strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "pitr "):
			if strings.ContainsAny(line, `'"\`) {
				t.Fatalf("the recipe line %q quotes: this test splits on spaces", line)
			}
			var args []string
			for _, w := range strings.Fields(line)[1:] {
				switch {
				case w == "mysql-bin.*":
					m, _ := filepath.Glob(filepath.Join(work, w))
					for _, f := range m {
						args = append(args, filepath.Base(f))
					}
				case recipePos.MatchString(w):
					if deleteAt == "" {
						t.Fatalf("%q: find has not named the DELETE yet", line)
					}
					args = append(args, deleteAt)
				default:
					args = append(args, w)
				}
			}
			res := runPitrIn(t, work, args...)
			if res.code != 0 {
				t.Fatalf("%s: exit code %d\n%s", line, res.code, res.stderr)
			}
			ran[args[0]]++
			if args[0] == "find" {
				// A DELETE logged as rows is counted; one logged as a statement is listed as it is.
				for _, m := range findLine.FindAllStringSubmatch(res.stdout, -1) {
					if m[2] == " (150 rows)" || m[2] == "" && strings.HasSuffix(m[0], ": DELETE FROM shop.member_kr") {
						deleteAt = m[1]
					}
				}
				if deleteAt == "" || !findDrop.MatchString(res.stdout) {
					t.Fatalf("%s: no DROP TABLE of shop.orders and DELETE of the 150 rows of shop.member_kr:\n%s", line, res.stdout)
				}
			} else {
				checkRecipeOutput(t, line, filepath.Join(work, args[len(args)-1]))
			}
		case strings.HasPrefix(line, "mariadb < "):
			for _, part := range strings.Split(line, "&&") {
				file, ok := strings.CutPrefix(strings.TrimSpace(part), "mariadb < ")
				if !ok {
					t.Fatalf("recipe line %q: want mariadb < FILE && ...", line)
				}
				f, err := os.Open(filepath.Join(work, file))
				if err != nil {
					t.Fatal(err)
				}
				cmd := target.Client(ctx)
				cmd.Stdin = f
				msg, err := cmd.CombinedOutput()
				f.Close()
				if err != nil {
					t.Fatalf("%s (%s): %v\n%s", line, file, err, msg)
				}
			}
			ran["mariadb"]++
		default:
			t.Fatalf("recipe line %q: neither a comment, pitr nor mariadb", line)
		}
	}
	if ran["find"] != 1 || ran["replay"] != 4 || ran["mariadb"] != 2 {
		t.Fatalf("the recipe ran %v; want one find, four replays and two mariadb lines", ran)
	}
	for _, s := range []struct {
		name string
		srv  *mariadbtest.Server
	}{{"restored from the dump", restored}, {"empty, --with-backup-data", empty}} {
		if sum, rows := tableRows(t, s.srv.DB, "shop.orders"); sum != wantOrdersSum || strings.Join(rows, "\n") != strings.Join(wantOrders, "\n") {
			t.Errorf("%s: shop.orders differs from before the DROP:\nwant %s\n%s\ngot  %s\n%s", s.name, wantOrdersSum, strings.Join(wantOrders, "\n"), sum, strings.Join(rows, "\n"))
		}
		if sum, rows := tableRows(t, s.srv.DB, "shop.member_kr"); sum != wantMemberSum || strings.Join(rows, "\n") != strings.Join(wantMember, "\n") {
			t.Errorf("%s: shop.member_kr differs from before the DELETE: want %s, got %s (%d rows, want %d)", s.name, wantMemberSum, sum, len(rows), len(wantMember))
		}
	}
	t.Logf("compared shop.orders (%d rows, CHECKSUM %s) and shop.member_kr (%d rows, CHECKSUM %s)", len(wantOrders), wantOrdersSum, len(wantMember), wantMemberSum)
	var tables int
	empty.DB.QueryRow("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop'").Scan(&tables)
	if tables != 2 {
		t.Errorf("the empty server holds %d tables of shop, want only orders and member_kr", tables)
	}

	// pitr extract alone, into an empty server, one client run per table: each runs on its own
	// (it sets the dump's session, relaxes foreign keys, and leaves no @OLD_ variable unset).
	t.Run("extract", func(t *testing.T) {
		empty.Exec(t, "DROP DATABASE shop")
		for _, tc := range []struct {
			table, sum string
			rows       []string
		}{{"shop.orders", dumpOrdersSum, dumpOrders}, {"shop.member_kr", dumpMemberSum, dumpMember}} {
			res := runPitrIn(t, work, "extract", "--from-backup", "dump.sql", "-t", tc.table)
			if res.code != 0 {
				t.Fatalf("extract %s: exit %d: %s", tc.table, res.code, res.stderr)
			}
			if !strings.Contains(res.stdout, "foreign_key_checks=0") || strings.Contains(res.stdout, "@OLD_TIME_ZONE */") {
				t.Errorf("extract %s: header does not say it relaxes foreign keys, or the dump's trailer is copied:\n%.2000s", tc.table, res.stdout)
			}
			cmd := empty.Client(ctx)
			cmd.Stdin = strings.NewReader(res.stdout)
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("extract %s into an empty server: %v\n%s", tc.table, err, msg)
			}
			if sum, rows := tableRows(t, empty.DB, tc.table); sum != tc.sum || strings.Join(rows, "\n") != strings.Join(tc.rows, "\n") {
				t.Errorf("extract %s differs from the table at the dump: want %s, got %s", tc.table, tc.sum, sum)
			}
		}
	})

	// The same replay applied with --target: the summary shows the window --from-backup chose,
	// not "from the start".
	t.Run("apply summary", func(t *testing.T) {
		empty.Exec(t, "DROP DATABASE shop")
		load := empty.Client(ctx)
		load.Stdin = bytes.NewReader(dump)
		if msg, err := load.CombinedOutput(); err != nil {
			t.Fatalf("restoring the dump: %v\n%s", err, msg)
		}
		args := []string{"replay", "--from-backup", "dump.sql", "-t", "shop.orders", "-t", "shop.customers", "--stop-before-drop", "--no-defaults",
			"--target-socket", empty.Socket, "--target-user", "root", "--yes", "--no-checkpoint"}
		m, _ := filepath.Glob(filepath.Join(work, "mysql-bin.[0-9]*"))
		for _, f := range m {
			args = append(args, filepath.Base(f))
		}
		// A typo in a filter stops the apply before it writes (the counting pass sees it).
		typo := append([]string{"replay", "-q", "--from-backup", "dump.sql", "-t", "shop.order", "--stop-before-drop", "--no-defaults",
			"--target-socket", empty.Socket, "--target-user", "root", "--no-checkpoint"}, args[len(args)-len(m):]...)
		typoRes := runPitrIn(t, work, typo...)
		wantFailure(t, typoRes, exitUsage, `-t "shop.order" matches no table in the window`, "shop.orders")
		res := runPitrIn(t, work, args...)
		if res.code != 0 {
			t.Fatalf("apply: exit %d\n%s", res.code, res.stderr)
		}
		backupPos := regexp.MustCompile(`range: +window start: mysql-bin\.000001:\d+ \(the backup dump\.sql\)`)
		if !backupPos.MatchString(res.stderr) || strings.Contains(res.stderr, "from the start") ||
			!strings.Contains(res.stderr, "window stop: before the first DROP, TRUNCATE or RENAME of a kept table") ||
			!strings.Contains(res.stderr, "GTIDs skipped: 0-1-") {
			t.Errorf("the apply summary does not show the backup's window:\n%s", res.stderr)
		}
		if sum, rows := tableRows(t, empty.DB, "shop.orders"); sum != wantOrdersSum || strings.Join(rows, "\n") != strings.Join(wantOrders, "\n") {
			t.Errorf("applied shop.orders differs from before the DROP: want %s, got %s", wantOrdersSum, sum)
		}
	})
}

// checkRecipeOutput checks what a replay of the recipe wrote: the header names the window the
// backup set and where the column names come from, and the last line says why it ended.
func checkRecipeOutput(t *testing.T, line, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	out := string(b)
	want := []string{"-- window start: mysql-bin.000001:", " (the backup dump.sql)\n", "-- GTIDs skipped: 0-1-", "(the backup holds them)",
		"-- column names from the binlog's own table metadata, then dump.sql ("}
	if strings.Contains(line, "--with-backup-data") {
		want = append(want, "-- foreign_key_checks=0 for the whole output", "-- pitr extract: ", "SET foreign_key_checks=0;")
	}
	if strings.Contains(line, "--stop-before-drop") {
		want = append(want, "-- window stop: before the first DROP", "\n-- end: stopped before DROP TABLE `shop`.`orders`")
	} else {
		want = append(want, "-- window stop: before the first transaction that ends after mysql-bin.000001:", "\n-- end: stop position mysql-bin.000001:")
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s: the output does not hold %q:\n%.3000s", line, w, out)
		}
	}
	if !strings.HasPrefix(lastSQLComment(out), "-- end: ") {
		t.Errorf("%s: the output does not end with the reason it ended: %q", line, lastSQLComment(out))
	}
}

func lastSQLComment(out string) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	return lines[len(lines)-1]
}
