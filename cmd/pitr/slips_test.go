package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The tests in this file run the pitr binary on the shipped dml fixture for each slip of
// issue 13 that once gave exit 0 and a wrong replay: each must now stop with a message naming
// the fix and the exit code of a bad flag (2), or, where the input is right, say in its output
// what it did.

func dml() []string {
	return []string{filepath.Join(dmlFiles, "mysql-bin.000002"), filepath.Join(dmlFiles, "mysql-bin.000003"), filepath.Join(dmlFiles, "mysql-bin.000004")}
}

// fakeDump writes a dump whose coordinates are mysql-bin.000003:342 with GTIDs up to 0-1-12,
// and whose schema part is extra.
func fakeDump(t *testing.T, extra string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "dump.sql")
	os.WriteFile(p, []byte("-- MariaDB dump 10.19\n-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000003', MASTER_LOG_POS=342;\n-- SET GLOBAL gtid_slave_pos='0-1-12';\n"+extra), 0o644)
	return p
}

// TestSlipFilterMatchesNothing (item 4): a -t, -d or --exclude-table pattern that matches no
// table in the window is an error naming the closest tables seen, for replay (with and without
// --stop-before-drop, which would otherwise never fire) and find.
func TestSlipFilterMatchesNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		has  []string
	}{
		{"table typo", []string{"replay", "-t", "shop.order"}, []string{`-t "shop.order" matches no table in the window`, "closest tables seen: shop.order_items, shop.orders"}},
		{"database typo in -t", []string{"replay", "-t", "shopp.orders", "--stop-before-drop"}, []string{`-t "shopp.orders" matches no table`, "shop.orders"}},
		{"database typo", []string{"replay", "-d", "shopp"}, []string{`-d "shopp" matches no table`, "closest databases seen: shop"}},
		{"exclude typo", []string{"replay", "--exclude-table", "shop.audits"}, []string{`--exclude-table "shop.audits" matches no table`, "shop.audit"}},
		{"one of two", []string{"replay", "-t", "shop.orders", "-t", "crm.customer"}, []string{`-t "crm.customer" matches no table`, "crm.customers"}},
		{"find", []string{"find", "-t", "shop.order"}, []string{`-t "shop.order" matches no table in the window`, "shop.orders"}},
		// In the window, not in the files: crm.customers is written before mysql-bin.000003.
		{"outside the window", []string{"replay", "--start-position", "mysql-bin.000004:4", "-t", "shop.orders"}, []string{`-t "shop.orders" matches no table in the window`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runPitr(t, append(append([]string{tc.args[0], "-q"}, tc.args[1:]...), dml()...)...)
			wantFailure(t, res, exitUsage, tc.has...)
		})
	}
	// A pattern that matches is no error, even when its rows are all filtered out by --only.
	if res := runPitr(t, append([]string{"replay", "-q", "-t", "shop.order*", "--only", "delete"}, dml()...)...); res.code != 0 {
		t.Errorf("a matching pattern: exit %d: %s", res.code, res.stderr)
	}
}

// TestSlipBackupTableNotWritten: a table of the backup that the window does not write (its
// mistake, here a DELETE, is its first change after the backup) is no typo: with
// --with-backup-data the output rebuilds it from the dump and stops before the DELETE, exit 0,
// with a warning that the window holds nothing more; without, the replay is empty, a warning. A
// name neither the backup nor the window holds is still refused, naming the closest.
func TestSlipBackupTableNotWritten(t *testing.T) {
	dump := filepath.Join(t.TempDir(), "dump.sql")
	os.WriteFile(dump, []byte("-- MariaDB dump 10.19\n-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000004', MASTER_LOG_POS=4;\n"+
		"--\n-- Current Database: `shop`\n--\n\nUSE `shop`;\n\n--\n-- Table structure for table `audit`\n--\n\n"+
		"DROP TABLE IF EXISTS `audit`;\nCREATE TABLE `audit` (\n  `msg` varchar(100) DEFAULT NULL,\n  `at` int(11) DEFAULT NULL\n);\n\n"+
		"--\n-- Dumping data for table `audit`\n--\n\nLOCK TABLES `audit` WRITE;\nINSERT INTO `audit` VALUES ('order 1',NULL),('after alter',1);\nUNLOCK TABLES;\n"), 0o644)
	window := []string{"replay", "--from-backup", dump, "-t", "shop.audit", "--stop-position", "mysql-bin.000004:342"}
	res := runPitr(t, append(append(window, "--with-backup-data"), dml()...)...)
	if res.code != 0 || !strings.Contains(res.stdout, "INSERT INTO `audit` VALUES ('order 1',NULL),('after alter',1);") ||
		!strings.HasSuffix(res.stdout, "\n-- end: stop position mysql-bin.000004:342: the transaction at mysql-bin.000004:342 ends at mysql-bin.000004:587\n") ||
		!strings.Contains(res.stderr, "the output holds only their rows from the backup") {
		t.Errorf("--with-backup-data: exit %d, want 0, the dump's rows and the stop before the DELETE:\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	res = runPitr(t, append(window, dml()...)...)
	if res.code != 0 || strings.Contains(res.stdout, "BEGIN") || !strings.Contains(res.stderr, "the output changes nothing") {
		t.Errorf("on a restored backup: exit %d, want 0 and an empty replay with a warning:\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	window[4] = "shop.audits"
	res = runPitr(t, append(append(window, "-q"), dml()...)...)
	wantFailure(t, res, exitUsage, `-t "shop.audits" matches no table in the window`, "closest tables seen: shop.audit")
}

// TestSlipPositions (items 5, 6): a bare --stop-position with several files is refused with the
// FILE:POS forms; a path to a given file is accepted as FILE; a start inside a transaction
// names the transaction's start and end; a stop before the start is refused.
func TestSlipPositions(t *testing.T) {
	t.Run("bare stop position", func(t *testing.T) {
		res := runPitr(t, append([]string{"replay", "-q", "--stop-position", "3281"}, dml()...)...)
		wantFailure(t, res, exitUsage, "--stop-position 3281 is ambiguous with 3 binlog files", "--stop-position mysql-bin.000004:3281", "--stop-position mysql-bin.000002:3281")
		res = runPitr(t, append([]string{"find", "-q", "--stop-position", "3281"}, dml()...)...)
		wantFailure(t, res, exitUsage, "ambiguous")
	})
	t.Run("path as the file", func(t *testing.T) {
		byName := runPitr(t, append([]string{"replay", "-q", "--start-position", "mysql-bin.000003:342", "--stop-position", "mysql-bin.000004:904"}, dml()...)...)
		byPath := runPitr(t, append([]string{"replay", "-q", "--start-position", dml()[1] + ":342", "--stop-position", dml()[2] + ":904"}, dml()...)...)
		if byName.code != 0 || byPath.code != 0 || byName.stdout != byPath.stdout || !strings.Contains(byPath.stdout, "-- window start: mysql-bin.000003:342 (--start-position)") {
			t.Errorf("a path to a given file: exit %d %d, outputs differ or lack the window:\n%s\n%s", byName.code, byPath.code, byPath.stderr, byPath.stdout)
		}
		other := copyDML(t, t.TempDir(), "mysql-bin.000003")[0]
		res := runPitr(t, append([]string{"replay", "-q", "--start-position", other + ":342"}, dml()...)...)
		wantFailure(t, res, exitError, "not among the binlogs given")
	})
	for _, cmd := range []string{"replay", "find"} {
		t.Run(cmd+" start inside a transaction", func(t *testing.T) {
			// The transaction at mysql-bin.000002:1888-2689; 2066 is a rows event in it.
			res := runPitr(t, append([]string{cmd, "-q", "--start-position", "mysql-bin.000002:2066"}, dml()...)...)
			wantFailure(t, res, exitUsage, "start position mysql-bin.000002:2066 is inside the transaction that starts at mysql-bin.000002:1888",
				"mysql-bin.000002:2689 (its end)")
			if strings.Contains(res.stderr, "table map") {
				t.Errorf("the message still speaks of table maps: %s", res.stderr)
			}
		})
	}
	t.Run("stop before start", func(t *testing.T) {
		res := runPitr(t, append([]string{"replay", "-q", "--start-position", "mysql-bin.000002:1888", "--stop-position", "mysql-bin.000002:1000"}, dml()...)...)
		wantFailure(t, res, exitUsage, "--stop-position mysql-bin.000002:1000 is not after the start (--start-position) mysql-bin.000002:1888")
		dump := fakeDump(t, "")
		res = runPitr(t, append([]string{"replay", "-q", "--from-backup", dump, "--stop-position", "mysql-bin.000002:1888"}, dml()...)...)
		wantFailure(t, res, exitUsage, "is not after the start (the backup "+dump+") mysql-bin.000003:342")
	})
}

// TestSlipTime (item 7): a date alone is refused, a zone abbreviation gets IANA names, an offset
// works, an inverted time window is refused, an empty one warned about, and the window as
// resolved (times in the zone given and in UTC) is in the SQL header and the stderr summary.
func TestSlipTime(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		has  []string
	}{
		{"date only", []string{"--stop-datetime", "2026-11-29"}, []string{"--stop-datetime", "date without a time", "'2026-11-29 00:00:00'"}},
		{"abbreviation", []string{"--timezone", "KST"}, []string{`unknown time zone "KST"`, "Asia/Seoul", "+09:00"}},
		{"unknown zone", []string{"--timezone", "Mars/Olympus"}, []string{"IANA name"}},
		{"inverted", []string{"--start-datetime", "2024-01-01 00:05:00", "--stop-datetime", "2024-01-01 00:01:00"}, []string{"--start-datetime must be before --stop-datetime"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, cmd := range []string{"replay", "find"} {
				res := runPitr(t, append(append([]string{cmd, "-q"}, tc.args...), dml()...)...)
				wantFailure(t, res, exitUsage, tc.has...)
			}
		})
	}
	t.Run("offset and summary", func(t *testing.T) {
		seoul := runPitr(t, append([]string{"replay", "--timezone", "+09:00", "--start-datetime", "2024-01-01 09:03:00", "--stop-datetime", "2024-01-01 09:10:00"}, dml()...)...)
		utc := runPitr(t, append([]string{"replay", "-q", "--timezone", "UTC", "--start-datetime", "2024-01-01 00:03:00", "--stop-datetime", "2024-01-01 00:10:00"}, dml()...)...)
		if seoul.code != 0 || utc.code != 0 || body(seoul.stdout) != body(utc.stdout) {
			t.Fatalf("+09:00 and UTC windows differ: exit %d %d\n%s", seoul.code, utc.code, seoul.stderr)
		}
		for _, w := range []string{"-- window start time: transactions committed at or after 2024-01-01 09:03:00 +09:00 (+09:00) = 2024-01-01 00:03:00 UTC",
			"-- window stop: at the first transaction committed at or after 2024-01-01 09:10:00 +09:00 (+09:00) = 2024-01-01 00:10:00 UTC"} {
			if !strings.Contains(seoul.stdout, w+"\n") {
				t.Errorf("the header lacks %q:\n%s", w, seoul.stdout)
			}
		}
		if !strings.Contains(seoul.stderr, `msg="replay done"`) || !strings.Contains(seoul.stderr, `window_start="mysql-bin.000002:4 (the start of the first binlog)"`) ||
			!strings.Contains(seoul.stderr, `window_start_time="transactions committed at or after 2024-01-01 09:03:00 +09:00 (+09:00) = 2024-01-01 00:03:00 UTC"`) {
			t.Errorf("the stderr summary lacks the window:\n%s", seoul.stderr)
		}
	})
	t.Run("empty window", func(t *testing.T) {
		res := runPitr(t, append([]string{"replay", "--timezone", "UTC", "--start-datetime", "2030-01-01 00:00:00"}, dml()...)...)
		if res.code != 0 || !strings.Contains(res.stderr, "level=WARN") || !strings.Contains(res.stderr, "the window holds no transaction of the selected tables") {
			t.Errorf("empty window: exit %d, want 0 and a warning:\n%s", res.code, res.stderr)
		}
	})
}

// TestSlipOutputExplainsItself (item 8): the SQL says where its window starts and why it ended,
// also when --from-backup chose the start, and when an error ended it.
func TestSlipOutputExplainsItself(t *testing.T) {
	res := runPitr(t, append([]string{"replay", "-q", "--stop-position", "mysql-bin.000004:904"}, dml()...)...)
	if res.code != 0 || !strings.Contains(res.stdout, "\n-- window start: mysql-bin.000002:4 (the start of the first binlog)\n") ||
		!strings.Contains(res.stdout, "\n-- window stop: before the first transaction that ends after mysql-bin.000004:904\n") ||
		!strings.HasSuffix(res.stdout, "\n-- end: stop position mysql-bin.000004:904: the transaction at mysql-bin.000004:904 ends at mysql-bin.000004:1075\n") {
		t.Errorf("stop position: exit %d\n%s", res.code, res.stdout)
	}
	res = runPitr(t, append([]string{"replay", "-q"}, dml()...)...)
	if !regexp.MustCompile(`\n-- end: the binlogs end at mysql-bin\.000004:\d+; no stop condition was met before\n$`).MatchString(res.stdout) {
		t.Errorf("to the end: the last line does not say so:\n%s", lastSQLComment(res.stdout))
	}
	res = runPitr(t, append([]string{"replay", "-q", "--from-backup", fakeDump(t, ""), "--stop-gtid", "0-1-15"}, dml()...)...)
	for _, w := range []string{"\n-- window start: mysql-bin.000003:342 (the backup ", "\n-- window stop: before GTID 0-1-15\n",
		"\n-- GTIDs skipped: 0-1-12 (the backup holds them)\n", "\n-- end: stop GTID 0-1-15: stopped before the transaction at mysql-bin.000004:"} {
		if !strings.Contains(res.stdout, w) {
			t.Errorf("--from-backup: the output lacks %q:\n%s", w, res.stdout)
		}
	}
	cut := copyDML(t, t.TempDir(), "mysql-bin.000002")[0]
	truncateFile(t, cut, 2630)
	res = runPitr(t, "replay", "-q", cut)
	if res.code != 1 || !strings.HasPrefix(lastSQLComment(res.stdout), "-- end: stopped by an error: mysql-bin.000002:2615: ") {
		t.Errorf("an error: exit %d, last line %q", res.code, lastSQLComment(res.stdout))
	}
}

// TestSlipNoColumnNames (item 1): a table the binlog has no column names for stops the replay
// with the ways out: --schema, --schema-from, binlog_row_metadata=FULL; with --from-backup, it
// also says where pitr looked, or why the backup's statements could not be read.
func TestSlipNoColumnNames(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "minimal_metadata", "mysql-bin.[0-9]*"))
	fixes := []string{"crm.customers", "--schema", "--schema-from", "binlog_row_metadata=FULL"}
	res := runPitr(t, append([]string{"replay", "-q", "--start-position", "mysql-bin.000002:1507"}, files...)...)
	wantFailure(t, res, exitError, fixes...)
	dump := filepath.Join(t.TempDir(), "dump.sql")
	os.WriteFile(dump, []byte("-- MariaDB dump 10.19\n-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000002', MASTER_LOG_POS=1507;\n"+
		"--\n-- Current Database: `crm`\n--\n\nCREATE TABLE `other` (\n  `id` int NOT NULL\n);\n"), 0o644)
	res = runPitr(t, append([]string{"replay", "-q", "--from-backup", dump}, files...)...)
	wantFailure(t, res, exitError, append(fixes, "looked in: the binlog's own table metadata, then "+dump+" (crm.other)")...)
	os.WriteFile(dump, []byte("-- MariaDB dump 10.19\n-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000002', MASTER_LOG_POS=1507;\n"+
		"--\n-- Current Database: `crm`\n--\n\nCREATE TABLE `customers` (\n  `id` int NOT NULL FROBNICATE\n);\n"), 0o644)
	res = runPitr(t, append([]string{"replay", "-q", "--from-backup", dump}, files...)...)
	wantFailure(t, res, exitError, append(fixes, "its CREATE TABLE in "+dump+" cannot be read", "FROBNICATE")...)
}

// TestFindWindow (item 3): find reads the window replay reads.
func TestFindWindow(t *testing.T) {
	all := runPitr(t, append([]string{"find", "-q", "--rows", "1"}, dml()...)...)
	if all.code != 0 || !strings.Contains(all.stdout, "DROP TABLE `shop`.`order_items`") || !strings.Contains(all.stdout, "mysql-bin.000002:1888-2689") {
		t.Fatalf("find without a window: exit %d\n%s", all.code, all.stdout)
	}
	for _, tc := range []struct {
		name      string
		args      []string
		has, lack []string
	}{
		{"start position", []string{"--start-position", "mysql-bin.000003:342"}, []string{"mysql-bin.000003:342-"}, []string{"mysql-bin.000002:"}},
		{"stop position", []string{"--stop-position", "mysql-bin.000004:904"}, []string{"mysql-bin.000002:1888-2689"}, []string{"DROP TABLE"}},
		{"stop gtid", []string{"--stop-gtid", "0-1-17"}, []string{"GTID 0-1-16"}, []string{"DROP TABLE", "GTID 0-1-18"}},
		{"datetimes", []string{"--timezone", "UTC", "--start-datetime", "2024-01-01 00:03:00", "--stop-datetime", "2024-01-01 00:09:00"},
			[]string{"GTID 0-1-9 "}, []string{"GTID 0-1-8 ", "GTID 0-1-15 "}},
		{"from backup", []string{"--from-backup", fakeDump(t, "")}, []string{"GTID 0-1-13 ", "DROP TABLE"}, []string{"GTID 0-1-12 ", "mysql-bin.000002:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runPitr(t, append(append([]string{"find", "-q", "--rows", "1"}, tc.args...), dml()...)...)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			for _, h := range tc.has {
				if !strings.Contains(res.stdout, h) {
					t.Errorf("lacks %q:\n%s", h, res.stdout)
				}
			}
			for _, l := range tc.lack {
				if strings.Contains(res.stdout, l) {
					t.Errorf("holds %q:\n%s", l, res.stdout)
				}
			}
		})
	}
}

// TestQuickStartStdout (item 9): the README's quick start, make build && bin/pitr replay ...,
// leaves only SQL on stdout.
func TestQuickStartStdout(t *testing.T) {
	if testing.Short() {
		t.Skip("runs make")
	}
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Fatal(err)
	}
	readme, _ := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if !strings.Contains(string(readme), "make build && bin/pitr replay testdata/dml/mysql-bin.000002") {
		t.Fatal("the README's quick start is not make build && bin/pitr replay ...")
	}
	bin := filepath.Join(t.TempDir(), "pitr")
	cmd := exec.Command(mk, "build", "BIN="+bin)
	cmd.Dir = filepath.Join("..", "..")
	// As typed in a shell: under `make test` the inherited MAKEFLAGS/MAKELEVEL would make this
	// make print "Entering directory", which a user's make never does.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "MAKEFLAGS" && k != "MAKELEVEL" && k != "MFLAGS" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("make build: %v\n%s", err, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("make build wrote to stdout, which the quick start mixes into the SQL: %q", stdout.String())
	}
	if _, err := os.Stat(bin); err != nil {
		t.Error(err)
	}
}

// TestHelpExamples (item 10): each command's --help ends with real examples: every one parses
// with the command's own flags, and the incident recipe's lines are the README's.
func TestHelpExamples(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cmd    string
		min    int
		recipe int // examples that must be lines of the README's incident recipe
	}{{"replay", 2, 2}, {"find", 2, 1}, {"extract", 2, 0}, {"fetch", 2, 0}, {"version", 1, 0}} {
		t.Run(tc.cmd, func(t *testing.T) {
			res := runPitr(t, tc.cmd, "--help")
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			i := strings.LastIndex(res.stdout, "\nExamples:\n")
			if i < 0 {
				t.Fatalf("no Examples section:\n%s", res.stdout)
			}
			var examples []string
			for _, l := range strings.Split(strings.TrimRight(res.stdout[i+len("\nExamples:\n"):], "\n"), "\n") {
				l = strings.TrimSpace(l)
				switch {
				case strings.HasPrefix(l, "pitr "):
					examples = append(examples, l)
				case !strings.HasPrefix(l, "#"):
					t.Errorf("the help does not end with the examples: %q follows them", l)
				}
			}
			if len(examples) < tc.min || len(examples) > 3 {
				t.Errorf("%d examples, want %d to 3", len(examples), tc.min)
			}
			inRecipe := 0
			for _, ex := range examples {
				if strings.Contains(string(readme), "\n"+ex+"\n") {
					inRecipe++
				}
				args := shellWords(ex)
				root := newRootCmd()
				c, rest, err := root.Find(args[1:])
				if err != nil || c.Name() != tc.cmd {
					t.Errorf("%q: %v", ex, err)
					continue
				}
				if err := c.ParseFlags(rest); err != nil {
					t.Errorf("%q does not parse: %v", ex, err)
					continue
				}
				if c.Args != nil {
					if err := c.Args(c, c.Flags().Args()); err != nil {
						t.Errorf("%q: %v", ex, err)
					}
				}
			}
			if inRecipe < tc.recipe {
				t.Errorf("%d of the examples are lines of the README, want %d: %q", inRecipe, tc.recipe, examples)
			}
		})
	}
}

// shellWords splits a command line as sh would for these examples: single quotes, and
// nothing after a redirection or a pipe.
func shellWords(s string) []string {
	var out []string
	var w strings.Builder
	in, quoted := false, false
	for _, r := range s + " " {
		switch {
		case r == '\'':
			in, quoted = !in, true
		case r == ' ' && !in:
			if w.Len() > 0 || quoted {
				if t := w.String(); t == ">" || t == "|" {
					return out
				}
				out = append(out, w.String())
			}
			w.Reset()
			quoted = false
		default:
			w.WriteRune(r)
		}
	}
	return out
}

// TestCorpusNote (item 12): make test says once whether the binlog corpus is there, found
// beside the checkout or a parent folder without naming a machine's path, and .ci/run names
// no absolute path outside the system's own.
func TestCorpusNote(t *testing.T) {
	if testing.Short() {
		t.Skip("runs make")
	}
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	checkout := filepath.Join(base, "ci", "wt", "pitr")
	os.MkdirAll(checkout, 0o755)
	os.WriteFile(filepath.Join(checkout, "Makefile"), makefile, 0o644)
	note := func() string {
		cmd := exec.Command(mk, "-s", "corpus-note")
		cmd.Dir = checkout
		for _, e := range os.Environ() {
			if !strings.HasPrefix(e, "PITR_CORPUS=") {
				cmd.Env = append(cmd.Env, e)
			}
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make corpus-note: %v\n%s", err, out)
		}
		return string(out)
	}
	if got := note(); !strings.HasPrefix(got, "note: no binlog corpus") || strings.Count(got, "\n") != 1 {
		t.Errorf("without a corpus: %q", got)
	}
	corpus := filepath.Join(base, "ci", "shared", "corpus")
	os.MkdirAll(corpus, 0o755)
	if got := note(); got != "binlog corpus: "+corpus+" (decoded by TestCorpus)\n" {
		t.Errorf("with a corpus beside a parent folder: %q", got)
	}
	ci, err := os.ReadFile(filepath.Join("..", "..", ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range regexp.MustCompile(`(?:^|[\s"'=:])(/[^\s"':;]+)`).FindAllStringSubmatch(string(ci), -1) {
		p := w[1]
		if !strings.HasPrefix(p, "/usr/") && !strings.HasPrefix(p, "/bin/") && !strings.HasPrefix(p, "/dev/") {
			t.Errorf(".ci/run names the absolute path %s", p)
		}
	}
}

// TestSlipForeignKeys: the dump's foreign keys of the kept tables. Replaying on a restored
// backup, a key to a table the filter leaves out is a warning naming the -t to add (its rows
// written after the backup would be missing, and the target refuses references to them); with
// --with-backup-data, which loads with foreign_key_checks=0, a cascading key between rebuilt
// tables is refused: the binlog does not hold the rows a cascade changes.
func TestSlipForeignKeys(t *testing.T) {
	dump := fakeDump(t, "--\n-- Current Database: `shop`\n--\n\n"+
		"CREATE TABLE `orders` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,\n  `customer` int(11) NOT NULL,\n  `total` decimal(12,2) NOT NULL,\n"+
		"  `note` varchar(100) DEFAULT NULL,\n  `created` datetime(6) NOT NULL,\n  PRIMARY KEY (`id`),\n"+
		"  CONSTRAINT `fk_c` FOREIGN KEY (`customer`) REFERENCES `crm`.`customers` (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n"+
		"CREATE TABLE `order_items` (\n  `order_id` int(11) NOT NULL,\n  `sku` varchar(20) NOT NULL,\n  `qty` int(11) NOT NULL,\n"+
		"  PRIMARY KEY (`order_id`,`sku`),\n  CONSTRAINT `fk_o` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`) ON DELETE CASCADE ON UPDATE NO ACTION\n) ENGINE=InnoDB;\n")
	res := runPitr(t, append([]string{"replay", "--from-backup", dump, "-t", "shop.orders"}, dml()...)...)
	if res.code != 0 || !strings.Contains(res.stderr, "level=WARN") || !strings.Contains(res.stderr, "table=shop.orders references=crm.customers") ||
		!strings.Contains(res.stderr, `add="-t crm.customers"`) {
		t.Errorf("a key to a table left out: exit %d, want 0 and a warning naming -t crm.customers:\n%s", res.code, res.stderr)
	}
	res = runPitr(t, append([]string{"replay", "--from-backup", dump, "-t", "shop.orders", "-t", "crm.customers"}, dml()...)...)
	if res.code != 0 || strings.Contains(res.stderr, "foreign key") {
		t.Errorf("both tables kept: exit %d, want no warning:\n%s", res.code, res.stderr)
	}
	res = runPitr(t, append([]string{"replay", "-q", "--from-backup", dump, "--with-backup-data", "-t", "shop.orders", "-t", "shop.order_items"}, dml()...)...)
	wantFailure(t, res, exitUsage, "foreign_key_checks=0", "ON DELETE CASCADE", "shop.order_items", "shop.orders", "without --with-backup-data")
	if res.stdout != "" {
		t.Errorf("refused, yet wrote: %q", res.stdout)
	}
}
