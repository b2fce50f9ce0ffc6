package restore

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func fixtureFiles(tb testing.TB, name string) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", name, "mysql-bin.[0-9]*"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("fixture %s: no binlog files (%v)", name, err)
	}
	return files
}

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		panic(err)
	}
	return t
}

func mustFilter(tb testing.TB, dbs, tables, exclude, only []string) *Filter {
	tb.Helper()
	f, err := NewFilter(dbs, tables, exclude, only)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// replayFixture runs a whole replay of a fixture into memory.
func replayFixture(tb testing.TB, fixture string, start binlog.Position, cfg Config) ([]byte, Stats, error) {
	tb.Helper()
	src, err := binlog.OpenFiles(fixtureFiles(tb, fixture), binlog.FileOptions{Start: start})
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	var out bytes.Buffer
	sink := NewSQLWriter(&out)
	st, err := Run(context.Background(), src, sink, cfg)
	if cerr := sink.Close(); cerr != nil {
		tb.Fatal(cerr)
	}
	return out.Bytes(), st, err
}

// TestGolden replays the committed fixture binlogs and compares with testdata/<fixture>/<name>.sql
// (and <name>.err for the error a case must end with). go test ./pkg/restore -run TestGolden -update
// rewrites them; review the diff.
func TestGolden(t *testing.T) {
	cases := []struct {
		name    string
		fixture string
		start   binlog.Position
		cfg     Config
	}{
		{name: "all", fixture: "dml"},
		{name: "batch3", fixture: "dml", cfg: Config{Render: RenderOptions{Batch: 3}}},
		{name: "shop_inserts", fixture: "dml", cfg: Config{Filter: mustFilter(t, nil, []string{"shop.order*"}, nil, []string{"insert"})}},
		{name: "crm_db", fixture: "dml", cfg: Config{Filter: mustFilter(t, []string{"crm"}, nil, nil, nil)}},
		{name: "exclude", fixture: "dml", cfg: Config{Filter: mustFilter(t, nil, nil, []string{"shop.*"}, nil)}},
		{name: "window_time", fixture: "dml", cfg: Config{Window: Window{StartTime: utc("2024-01-01 00:02:00"), StopTime: utc("2024-01-01 00:09:00")}}},
		{name: "window_pos", fixture: "dml", start: binlog.Position{File: "mysql-bin.000003", Offset: 342},
			cfg: Config{Window: Window{StopPos: binlog.Position{File: "mysql-bin.000004", Offset: 861}}}},
		{name: "all", fixture: "minimal_image"},
		{name: "all", fixture: "minimal_metadata"}, // the binlog's own CREATE TABLE statements name the columns
		{name: "after_ddl", fixture: "minimal_metadata", start: binlog.Position{File: "mysql-bin.000002", Offset: 1507}},
		{name: "all", fixture: "types"},
		{name: "batch50", fixture: "types", cfg: Config{Render: RenderOptions{Batch: 50}}},
		{name: "with_schema", fixture: "types_minimal", cfg: Config{Schema: mustSchema(t, "types_minimal"), VerifySchema: true}},
	}
	for _, tc := range cases {
		t.Run(tc.fixture+"/"+tc.name, func(t *testing.T) {
			got, _, err := replayFixture(t, tc.fixture, tc.start, tc.cfg)
			base := filepath.Join("..", "..", "testdata", tc.fixture, tc.name)
			gotErr := ""
			if err != nil {
				gotErr = err.Error() + "\n"
			}
			if *update {
				writeGolden(t, base+".sql", got)
				os.Remove(base + ".err")
				if gotErr != "" {
					writeGolden(t, base+".err", []byte(gotErr))
				}
				return
			}
			want, err := os.ReadFile(base + ".sql")
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s.sql; first difference near:\n%s", base, firstDiff(got, want))
			}
			wantErr, _ := os.ReadFile(base + ".err")
			if gotErr != string(wantErr) {
				t.Errorf("error = %q, want %q", gotErr, wantErr)
			}
		})
	}
}

func writeGolden(tb testing.TB, path string, b []byte) {
	tb.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}

func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(0, i-200)
	return "got:  ..." + string(got[lo:min(len(got), i+200)]) + "\nwant: ..." + string(want[lo:min(len(want), i+200)])
}

// TestPrefetchSame: reading and decoding ahead on another goroutine changes nothing in the output.
func TestPrefetchSame(t *testing.T) {
	for _, fx := range []string{"dml", "types", "minimal_image", "minimal_metadata"} {
		for _, batch := range []int{1, 5} {
			cfg := Config{Render: RenderOptions{Batch: batch}, Filter: mustFilter(t, nil, nil, []string{"crm.*"}, nil)}
			want, _, wantErr := replayFixture(t, fx, binlog.Position{}, cfg)
			src, err := binlog.OpenFiles(fixtureFiles(t, fx), binlog.FileOptions{})
			if err != nil {
				t.Fatal(err)
			}
			pf := binlog.NewPrefetcher(src, 3, cfg.Filter.Clone().KeepTable)
			var out bytes.Buffer
			w := NewSQLWriter(&out)
			_, err = Run(context.Background(), pf, w, cfg)
			w.Close()
			pf.Close()
			if !bytes.Equal(out.Bytes(), want) || fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Errorf("%s batch %d: prefetched replay differs (err %v, want %v)", fx, batch, err, wantErr)
			}
		}
	}
}

// TestDeterministic: the same input and flags give the same bytes, run after run.
func TestDeterministic(t *testing.T) {
	a, _, _ := replayFixture(t, "types", binlog.Position{}, Config{Render: RenderOptions{Batch: 7}})
	for i := 0; i < 3; i++ {
		b, _, _ := replayFixture(t, "types", binlog.Position{}, Config{Render: RenderOptions{Batch: 7}})
		if !bytes.Equal(a, b) {
			t.Fatal("two replays of the same input differ")
		}
	}
}

func mustGTIDs(tb testing.TB, s string) *binlog.GTIDSet {
	tb.Helper()
	g, err := binlog.ParseGTIDSet(s)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// TestStops covers the incident stops on the dml fixture, whose history ends with DELETE FROM
// shop.audit (0-1-15), a delete in crm (0-1-16), DROP TABLE shop.order_items (0-1-17) and an
// insert after it (0-1-18).
func TestStops(t *testing.T) {
	cases := []struct {
		name      string
		cfg       Config
		wantLast  string // GTID comment of the last transaction written
		wantTxns  int64
		wantStop  string // substring of Stats.StoppedAt
		wantInOut []string
		wantNot   []string
	}{
		{name: "stop before drop", cfg: Config{Window: Window{StopBeforeDrop: true}}, wantTxns: 16,
			wantStop: "stopped before DROP TABLE `shop`.`order_items` (GTID 0-1-17) at mysql-bin.000004:904, committed 2024-01-01 00:11:00 UTC: DROP TABLE",
			wantNot:  []string{"'Dee'"}},
		{name: "drop of an unselected table does not stop", cfg: Config{Window: Window{StopBeforeDrop: true}, Filter: mustFilter(t, []string{"crm"}, nil, nil, nil)},
			wantTxns: 6, wantInOut: []string{"'Dee'"}},
		{name: "stop gtid", cfg: Config{Window: Window{StopGTID: mustGTIDs(t, "0-1-15")}}, wantTxns: 14, wantStop: "stop GTID 0-1-15",
			wantNot: []string{"DELETE FROM `shop`.`audit`"}},
		{name: "skip the mass delete, carry on", cfg: Config{Window: Window{SkipGTIDs: mustGTIDs(t, "0-1-15")}}, wantTxns: 17,
			wantNot: []string{"DELETE FROM `shop`.`audit`"}, wantInOut: []string{"'Dee'", "`id`=3"}},
		{name: "exclude what a backup holds", cfg: Config{Window: Window{ExcludeGTIDs: mustGTIDs(t, "0-1-13")}}, wantTxns: 5,
			wantNot: []string{"'Ann'", "`sku`='B-2'"}, wantInOut: []string{"'Dee'"}},
		{name: "include", cfg: Config{Window: Window{IncludeGTIDs: mustGTIDs(t, "0-1-9")}}, wantTxns: 9,
			wantInOut: []string{"'Ann'"}, wantNot: []string{"'Dee'", "doubled"}},
		{name: "mysql set matches nothing here", cfg: Config{Window: Window{IncludeGTIDs: mustGTIDs(t, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-100")}}, wantTxns: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, st, err := replayFixture(t, "dml", binlog.Position{}, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if st.Transactions != tc.wantTxns {
				t.Errorf("%d transactions, want %d", st.Transactions, tc.wantTxns)
			}
			if tc.wantStop != "" && !strings.Contains(st.StoppedAt, tc.wantStop) || tc.wantStop == "" && st.StoppedAt != "" {
				t.Errorf("stopped %q, want %q", st.StoppedAt, tc.wantStop)
			}
			for _, s := range tc.wantInOut {
				if !strings.Contains(string(out), s) {
					t.Errorf("output lacks %s", s)
				}
			}
			for _, s := range tc.wantNot {
				if strings.Contains(string(out), s) {
					t.Errorf("output has %s", s)
				}
			}
		})
	}
}

func TestRemovalParse(t *testing.T) {
	d := newDDLParser()
	cases := []struct {
		sql  string
		want string
		bad  bool
	}{
		{sql: "DROP TABLE `shop`.`orders` /* generated by server */", want: "DROP TABLE `shop`.`orders`"},
		{sql: "drop table if exists a, other.b", want: "DROP TABLE `cur`.`a` `other`.`b`"},
		{sql: "TRUNCATE t", want: "TRUNCATE TABLE `cur`.`t`"},
		{sql: "DROP DATABASE shop", want: "DROP DATABASE database `shop`"},
		{sql: "RENAME TABLE a TO b, c.d TO c.e", want: "RENAME TABLE `cur`.`a` `c`.`d`"},
		{sql: "ALTER TABLE a RENAME TO b", want: "ALTER TABLE ... RENAME `cur`.`a`"},
		{sql: "ALTER TABLE a ADD COLUMN x INT", want: "ALTER TABLE `cur`.`a`"},
		{sql: "DROP VIEW v", want: ""},
		{sql: "CREATE TABLE a (id INT)", want: ""},
		{sql: "DROP TABLE a WITH SOME MADE UP SYNTAX", bad: true},
	}
	for _, tc := range cases {
		rm, err := d.removal("cur", []byte(tc.sql))
		if tc.bad {
			if err == nil {
				t.Errorf("%q: want an error", tc.sql)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.sql, err)
			continue
		}
		got := ""
		if rm != nil {
			got = rm.Verb
			for _, tr := range rm.Tables {
				got += " " + tr.String()
			}
		}
		if got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.sql, got, tc.want)
		}
	}
}

func mustSchema(tb testing.TB, fixture string) *Catalog {
	tb.Helper()
	c, err := LoadSchema(context.Background(), filepath.Join("..", "..", "testdata", fixture, "schema.sql"))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
