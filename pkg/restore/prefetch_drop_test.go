package restore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// TestPrefetchDropSame: a prefetching reader that drops the rows events of the tables a filter
// leaves out (unread past their checksums) gives the same output, summary and error as a plain
// reader, with every filter kind, and a start or a stop position at every event of the fixtures
// (a start after the DDL leaves only table maps to say which tables the window holds).
func TestPrefetchDropSame(t *testing.T) {
	filters := []struct {
		name                       string
		dbs, tables, exclude, only []string
	}{
		{name: "-t crm.*", tables: []string{"crm.*"}},
		{name: "-d shop", dbs: []string{"shop"}},
		{name: "--exclude-table crm.*", exclude: []string{"crm.*"}},
		{name: "-t *.orders --only insert", tables: []string{"*.orders"}, only: []string{"insert"}},
		{name: "-d nosuchdb", dbs: []string{"nosuchdb"}},
	}
	for _, fx := range []string{"dml", "types", "minimal_image", "minimal_metadata", "types_minimal"} {
		files := fixtureFiles(t, fx)
		var at []binlog.Position
		src, err := binlog.OpenFiles(files, binlog.FileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for {
			ev, err := src.Next(context.Background())
			if err != nil {
				if err != io.EOF {
					t.Fatal(err)
				}
				break
			}
			at = append(at, ev.Pos)
		}
		src.Close()
		for _, f := range filters {
			for i := 0; i < 2*len(at); i++ {
				var start, stop binlog.Position
				if i < len(at) {
					stop = at[i]
				} else {
					start = at[i-len(at)]
				}
				cfg := Config{Filter: mustFilter(t, f.dbs, f.tables, f.exclude, f.only), Window: Window{StopPos: stop, Start: start}}
				want, wantSt, wantErr := replayFixture(t, fx, start, cfg)

				cfg.Filter = mustFilter(t, f.dbs, f.tables, f.exclude, f.only)
				src, err := binlog.OpenFiles(files, binlog.FileOptions{Start: start})
				if err != nil {
					t.Fatal(err)
				}
				drop := cfg.Filter.Clone()
				pf := binlog.StartPrefetch(src, binlog.PrefetchOptions{Depth: 2, Decode: drop.KeepTable,
					Drop: func(tm *binlog.TableMap) bool { return !drop.KeepTable(tm) }})
				var out bytes.Buffer
				w := NewSQLWriter(&out)
				st, err := Run(context.Background(), pf, w, cfg)
				w.Close()
				pf.Close()
				if !bytes.Equal(out.Bytes(), want) || fmt.Sprint(err) != fmt.Sprint(wantErr) || fmt.Sprintf("%+v", st) != fmt.Sprintf("%+v", wantSt) {
					t.Errorf("%s, %s, start %s, stop %s: replay with dropped rows differs\nerr %v\nwant %v\nstats %+v\nwant  %+v\n%s",
						fx, f.name, start, stop, err, wantErr, st, wantSt, firstDiff(out.Bytes(), want))
				}
			}
		}
	}
}
