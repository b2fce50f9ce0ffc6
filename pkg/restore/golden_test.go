package restore

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
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
		{name: "all", fixture: "minimal_metadata"},
		{name: "all", fixture: "types"},
		{name: "batch50", fixture: "types", cfg: Config{Render: RenderOptions{Batch: 50}}},
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
