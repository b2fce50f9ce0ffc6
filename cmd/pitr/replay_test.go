package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func fixture(name string) []string {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", name, "mysql-bin.[0-9]*"))
	return files
}

// TestCLIGolden runs the replay command as a user would, flags and all, and compares stdout with
// testdata/<fixture>/cli_<name>.sql. go test ./cmd/pitr -run TestCLIGolden -update rewrites them.
func TestCLIGolden(t *testing.T) {
	cases := []struct {
		name    string
		fixture string
		opts    func(o *replayOptions)
		args    func() []string
	}{
		{name: "reverse_order", fixture: "dml", args: func() []string {
			f := fixture("dml")
			return []string{f[2], f[0], f[1]} // given in any order, read in sequence
		}},
		{name: "window_berlin", fixture: "dml", opts: func(o *replayOptions) {
			// 01:03 in Berlin (UTC+1 in January) is 00:03 UTC.
			o.timezone, o.startDatetime, o.stopDatetime = "Europe/Berlin", "2024-01-01 01:03:00", "2024-01-01T00:10:00Z"
		}},
		{name: "positions", fixture: "dml", opts: func(o *replayOptions) {
			o.startPosition, o.stopPosition = "mysql-bin.000002:2689", "mysql-bin.000003:1533"
		}},
		// A bare offset with one file: that file (with several it is refused as ambiguous).
		{name: "bare_stop_pos", fixture: "dml", args: func() []string { return fixture("dml")[:1] }, opts: func(o *replayOptions) { o.stopPosition = "3281" }},
		{name: "schema", fixture: "types_minimal", opts: func(o *replayOptions) {
			o.schema, o.tables = filepath.Join("..", "..", "testdata", "types_minimal", "schema.sql"), []string{"fx.gen", "fx.nokey"}
		}},
		{name: "rewrite", fixture: "dml", opts: func(o *replayOptions) {
			o.incident.rewriteDBs, o.incident.rewriteTables = []string{"shop=shop_restore"}, []string{"crm.customers=crm2.cust", "shop.audit=other.audit2"}
		}},
		{name: "stop_before_drop", fixture: "dml", opts: func(o *replayOptions) {
			o.incident.stopBeforeDrop, o.incident.skipGTIDs = true, "0-1-15"
		}},
		{name: "tables_only", fixture: "dml", opts: func(o *replayOptions) {
			o.tables, o.excludeTables, o.only = []string{"shop.*", "crm.customers"}, []string{"shop.audit"}, []string{"update,delete"}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := replayOptions{timezone: "UTC", batch: 1, maxPacket: "64M"}
			if tc.opts != nil {
				tc.opts(&o)
			}
			args := fixture(tc.fixture)
			if tc.args != nil {
				args = tc.args()
			}
			var out bytes.Buffer
			if err := runReplay(context.Background(), o, &globalOptions{quiet: true}, args, &out); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("..", "..", "testdata", tc.fixture, "cli_"+tc.name+".sql")
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
				t.Errorf("stdout differs from %s:\n%s", golden, out.String())
			}
		})
	}
}

func TestOutputFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "replay.sql")
	o := replayOptions{timezone: "UTC", batch: 1, maxPacket: "64M", output: path}
	var stdout bytes.Buffer
	if err := runReplay(context.Background(), o, &globalOptions{quiet: true}, fixture("dml"), &stdout); err != nil {
		t.Fatal(err)
	}
	if stdout.Len() != 0 {
		t.Errorf("with -o, stdout got %d bytes", stdout.Len())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\nCOMMIT;"); n != 18 { // 10 with rows, 8 DDL
		t.Errorf("%s holds %d transactions, want 18", path, n)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestParseDatetime(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in   string
		loc  *time.Location
		want string
		bad  bool
	}{
		{in: "2024-01-01 01:00:00", loc: berlin, want: "2024-01-01T00:00:00Z"},
		{in: "2024-07-01 01:00:00", loc: berlin, want: "2024-06-30T23:00:00Z"},
		{in: "2024-01-01 00:00:00.5", loc: time.UTC, want: "2024-01-01T00:00:00.5Z"},
		{in: "2024-01-01T00:00:00+02:00", loc: time.UTC, want: "2023-12-31T22:00:00Z"},
		{in: "2024-01-01", loc: time.UTC, bad: true}, // a date alone would silently mean midnight
		{in: "2024-01-01 09:30", loc: time.UTC, want: "2024-01-01T09:30:00Z"},
		{in: "yesterday", loc: time.UTC, bad: true},
		{in: "2024-13-01 00:00:00", loc: time.UTC, bad: true},
	}
	for _, tc := range cases {
		got, err := parseDatetime(tc.in, tc.loc)
		if tc.bad {
			if err == nil {
				t.Errorf("parseDatetime(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got.UTC().Format(time.RFC3339Nano) != tc.want {
			t.Errorf("parseDatetime(%q) = %v, %v; want %s", tc.in, got.UTC(), err, tc.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"64M": 64 << 20, "1G": 1 << 30, "512k": 512 << 10, "4096": 4096} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "M", "-1", "1T", "x"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q): want an error", in)
		}
	}
}

// TestRewriteDDL: with --rewrite-*, the DDL of a rewritten table or database is rewritten too.
func TestRewriteDDL(t *testing.T) {
	o := replayOptions{timezone: "UTC", batch: 1, maxPacket: "64M"}
	o.incident.rewriteDBs, o.incident.rewriteTables = []string{"shop=shop_restore"}, []string{"shop.audit=other.audit2"}
	var out bytes.Buffer
	if err := runReplay(context.Background(), o, &globalOptions{quiet: true}, fixture("dml"), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CREATE DATABASE `shop_restore`;", "CREATE TABLE `shop_restore`.`orders` (", "ALTER TABLE `other`.`audit2` ADD COLUMN `at` INT NULL;",
		"DROP TABLE `shop_restore`.`order_items`;", "CREATE DATABASE crm;", "INSERT INTO `other`.`audit2` (`msg`,`at`) VALUES ('after alter',7);"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %s", want)
		}
	}
	// Comments quote the source's statements as they were; the statements must not.
	stmts := regexp.MustCompile(`(?m)^--.*\n`).ReplaceAllString(out.String(), "")
	if strings.Contains(stmts, "`shop`.") || strings.Contains(stmts, "shop.audit") {
		t.Errorf("a shop table is still named:\n%s", out.String())
	}
}
