package restore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// callSink records what a Sink is handed, one line a call.
type callSink struct{ calls []string }

func (s *callSink) Session(_ context.Context, stmts []string) error {
	s.calls = append(s.calls, "session "+strings.Join(stmts, ";"))
	return nil
}
func (s *callSink) Begin(_ context.Context, tx TxnInfo) error {
	s.calls = append(s.calls, fmt.Sprintf("begin %s undo=%v end=%s", tx.GTID, tx.Undo, tx.End))
	return nil
}
func (s *callSink) Write(_ context.Context, stmt []byte) error {
	s.calls = append(s.calls, "write "+string(stmt))
	return nil
}
func (s *callSink) WriteRows(_ context.Context, stmt []byte, c RowCheck) error {
	s.calls = append(s.calls, fmt.Sprintf("rows %d %d %s", c.Rows, c.Where, stmt))
	return nil
}
func (s *callSink) Commit(_ context.Context, sum TxnSummary) error {
	s.calls = append(s.calls, fmt.Sprintf("commit %d/%d/%d", sum.Inserts, sum.Updates, sum.Deletes))
	return nil
}
func (s *callSink) Rollback(context.Context) error { s.calls = append(s.calls, "rollback"); return nil }
func (s *callSink) Close() error                   { return nil }

// TestSpillReverse writes transactions of statements of many lengths (some longer than a read
// block, some rolled back) and reads them back with blocks of several sizes: every statement
// comes back whole, transactions and statements newest first.
func TestSpillReverse(t *testing.T) {
	ctx := context.Background()
	for _, block := range []int64{1, 7, 64, 1000, spillBlock} {
		t.Run(fmt.Sprint(block), func(t *testing.T) {
			s, err := newSpillSink(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.block = block
			s.Session(ctx, []string{"SET a=1"})
			var want []string
			want = append(want, "session SET a=1")
			var txns [][]string
			for tx := 0; tx < 20; tx++ {
				info := TxnInfo{GTID: fmt.Sprintf("0-1-%d", tx), Start: binlog.Position{File: "f", Offset: int64(tx * 10)}}
				s.Begin(ctx, info)
				var calls []string
				calls = append(calls, fmt.Sprintf("begin %s undo=true end=f:%d", info.GTID, tx*10+9))
				var stmts []string
				for i := 0; i < tx*3; i++ {
					st := fmt.Sprintf("S%d.%d %s", tx, i, strings.Repeat("x", (tx*37+i*101)%3000))
					s.WriteRows(ctx, []byte(st), RowCheck{Rows: 1, Where: i})
					stmts = append(stmts, fmt.Sprintf("rows 1 %d %s", i, st))
				}
				if tx%5 == 4 {
					s.Rollback(ctx) // never committed on the source: nothing to undo
					continue
				}
				s.Commit(ctx, TxnSummary{End: binlog.Position{File: "f", Offset: int64(tx*10 + 9)}, Inserts: 1, Updates: 2, Deletes: 3})
				slices.Reverse(stmts)
				calls = append(calls, stmts...)
				calls = append(calls, "commit 3/2/1")
				txns = append(txns, calls)
			}
			slices.Reverse(txns)
			for _, c := range txns {
				want = append(want, c...)
			}
			var got callSink
			n, _, err := s.replay(ctx, &got, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(len(txns)) {
				t.Errorf("%d transactions, want %d", n, len(txns))
			}
			if !slices.Equal(got.calls, want) {
				for i := range want {
					if i >= len(got.calls) || got.calls[i] != want[i] {
						t.Fatalf("call %d: got %.80q, want %.80q (%d calls, want %d)", i, got.calls[min(i, len(got.calls)-1)], want[i], len(got.calls), len(want))
					}
				}
				t.Fatalf("%d calls, want %d", len(got.calls), len(want))
			}
		})
	}
}

// TestKeyRunsJoin joins two sets of row keys through runs of several sizes (down to one key a
// run, and compaction after every few runs) and a filter of several sizes (down to 64 bits, so
// that almost every later key passes it): the keys both sides hold are found exactly, each once,
// with the smallest tag the later side gave it, however the keys are spread over runs.
func TestKeyRunsJoin(t *testing.T) {
	tm := &binlog.TableMap{Schema: "db", Table: "t", Columns: []binlog.Column{{Name: "id"}, {Name: "v"}}, PrimaryKey: []int{0}}
	keyless := &binlog.TableMap{Schema: "db", Table: "u", Columns: []binlog.Column{{Name: "a"}, {Name: "b"}}}
	img := func(tm *binlog.TableMap, i int) []binlog.Value {
		return []binlog.Value{{Kind: binlog.ValInt, Text: []byte(fmt.Sprint(i))}, {Kind: binlog.ValString, Text: []byte(strings.Repeat("v", i%7))}}
	}
	for _, c := range []struct {
		limit, max int
		bits       uint64
	}{{1, 3, 64}, {50, 2, 64}, {200, 4, 1 << 10}, {keyRunBytes, keyRunsMax, keyFilterB}} {
		t.Run(fmt.Sprint(c.limit, "/", c.max, "/", c.bits), func(t *testing.T) {
			win, later := newKeyRuns(t.TempDir()), newKeyRuns(t.TempDir())
			defer win.Close()
			defer later.Close()
			win.limit, win.max, later.limit, later.max = c.limit, c.max, c.limit, c.max
			f := newKeyFilter(c.bits)
			want := map[string]uint64{}
			inWin := map[string]bool{}
			// The window changes ids 0, 3, 6, ... of both tables, some twice.
			for i := 0; i < 600; i += 3 {
				for _, m := range []*binlog.TableMap{tm, keyless} {
					k := appendRowKey(nil, m, img(m, i))
					inWin[string(k)] = true
					f.add(k)
					if err := win.add(k, 0); err != nil {
						t.Fatal(err)
					}
					if i%2 == 0 {
						win.add(k, 0)
					}
				}
			}
			// Three later transactions change every 2nd, 3rd and 4th id: many ids in more than one.
			for n := uint64(1); n <= 3; n++ {
				for i := 0; i < 900; i += int(n) + 1 {
					for _, m := range []*binlog.TableMap{tm, keyless} {
						k := appendRowKey(nil, m, img(m, i))
						if !f.mayHold(k) {
							if inWin[string(k)] {
								t.Fatalf("the filter holds back %d of the window", i)
							}
							continue
						}
						// Tags descend as the transactions go on: the join must keep the smallest.
						tag := 10 - n
						if w, ok := want[string(k)]; inWin[string(k)] && (!ok || tag < w) {
							want[string(k)] = tag
						}
						if err := later.add(k, tag); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			wm, err := win.merge()
			if err != nil {
				t.Fatal(err)
			}
			lm, err := later.merge()
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]uint64{}
			err = joinKeys(wm, lm, func(key []byte, tag uint64) error {
				if _, dup := got[string(key)]; dup {
					t.Errorf("key %q joined twice", key)
				}
				got[string(key)] = tag
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 || len(got) != len(want) {
				t.Fatalf("%d keys joined, want %d", len(got), len(want))
			}
			for k, tag := range want {
				if got[k] != tag {
					t.Errorf("key %q: tag %d, want %d", k, got[k], tag)
				}
				name, err := keyTable([]byte(k))
				if err != nil || (name != "db.t" && name != "db.u") {
					t.Errorf("key %q: table %q, %v", k, name, err)
				}
			}
		})
	}
}

// TestRowKeyDescribe reads back a row key for a conflict report: the primary key's columns, or
// every column of a keyless table, as literals.
func TestRowKeyDescribe(t *testing.T) {
	tm := &binlog.TableMap{Schema: "db", Table: "t", Columns: []binlog.Column{{Name: "a"}, {Name: "id"}}, PrimaryKey: []int{1}}
	img := []binlog.Value{{Kind: binlog.ValString, Text: []byte("x'y")}, {Kind: binlog.ValInt, Text: []byte("-7")}}
	fb := &flashbackState{}
	if got := fb.describeKey(appendRowKey(nil, tm, img), tm); got != "(`id`=-7)" {
		t.Errorf("keyed: %s", got)
	}
	tm.PrimaryKey = nil
	if got := fb.describeKey(appendRowKey(nil, tm, img), tm); got != "(`a`=X'782779', `id`=-7)" {
		t.Errorf("keyless: %s", got)
	}
}

// TestFlashbackImages covers the partial images no MariaDB table logs with full metadata (its
// keyless tables get full images): without a primary key pitr knows of, or with an after image
// lacking part of it, an INSERT or UPDATE is refused, naming the missing columns.
func TestFlashbackImages(t *testing.T) {
	v := func(s string) binlog.Value { return binlog.Value{Kind: binlog.ValInt, Text: []byte(s)} }
	abs := binlog.Value{Kind: binlog.ValAbsent}
	cols := []binlog.Column{{Name: "id"}, {Name: "k2"}, {Name: "a"}, {Name: "g", Generated: true}}
	pk := &binlog.TableMap{Schema: "db", Table: "t", Columns: cols, PrimaryKey: []int{0, 1}}
	nopk := &binlog.TableMap{Schema: "db", Table: "t", Columns: cols}
	for _, c := range []struct {
		name          string
		tm            *binlog.TableMap
		kind          binlog.RowsKind
		before, after []binlog.Value
		why, err      string
	}{
		{"full insert", nopk, binlog.Insert, nil, []binlog.Value{v("1"), v("2"), v("3"), abs}, "", ""},
		{"insert by key", pk, binlog.Insert, nil, []binlog.Value{v("1"), v("2"), abs, abs}, "primary key (`id`, `k2`)", ""},
		{"insert without key", nopk, binlog.Insert, nil, []binlog.Value{v("1"), v("2"), abs, abs}, "", "after image of this INSERT leaves out column `a` (the source logs binlog_row_image=MINIMAL or NOBLOB), and pitr knows no primary key"},
		{"insert with part of the key", pk, binlog.Insert, nil, []binlog.Value{v("1"), abs, v("3"), abs}, "", "leaves out column `k2`"},
		{"update lacking the key after", pk, binlog.Update, []binlog.Value{v("1"), v("2"), v("3"), abs}, []binlog.Value{abs, abs, v("4"), abs}, "", "after image of this UPDATE leaves out columns `id`, `k2`"},
		{"update from a full after image", nopk, binlog.Update, []binlog.Value{v("1"), v("2"), v("3"), abs}, []binlog.Value{v("1"), v("2"), v("4"), abs}, "", ""},
		{"update, before partial", nopk, binlog.Update, []binlog.Value{v("1"), abs, v("3"), abs}, []binlog.Value{v("1"), v("2"), v("4"), abs}, "", "before image of this UPDATE leaves out column `k2`"},
		{"delete", pk, binlog.Delete, []binlog.Value{v("1"), v("2"), abs, abs}, nil, "", "before image of this DELETE leaves out column `a`"},
	} {
		why, err := flashbackImages(c.tm, c.kind, c.before, c.after)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.err)
		}
		if c.why == "" && why != "" || !strings.Contains(why, c.why) {
			t.Errorf("%s: why %q, want %q", c.name, why, c.why)
		}
	}
}

// TestInsertFold folds single-row inverse INSERTs as --batch does: up to batch rows and the
// statement limit, only the same table and columns, never an UPDATE or DELETE, and reads the
// prefix by its quoted identifiers, whatever they hold.
func TestInsertFold(t *testing.T) {
	odd := "INSERT INTO `d`.`t``x` (`a`,`) VALUES (`) VALUES ("
	for _, c := range []struct{ stmt, prefix string }{
		{"INSERT INTO `d`.`t` (`a`,`b`) VALUES (1,'x')", "INSERT INTO `d`.`t` (`a`,`b`) VALUES "},
		{odd + "1,2)", odd[:len(odd)-1]},
		{"INSERT INTO `d`.`t` (`a`) VALUES (1", ""},
		{"UPDATE `d`.`t` SET `a`=1 WHERE `a`<=>2 LIMIT 1", ""},
		{"INSERT INTO `d`.`t` (`a) VALUES (1)", ""},
	} {
		p := insertPrefix([]byte(c.stmt))
		if c.prefix == "" && p != -1 || c.prefix != "" && (p < 0 || c.stmt[:p] != c.prefix) {
			t.Errorf("%q: prefix %d, want %q", c.stmt, p, c.prefix)
		}
	}
	var got []string
	write := func(stmt []byte, c RowCheck, _ bool) error {
		got = append(got, fmt.Sprintf("%d %s", c.Rows, stmt))
		return nil
	}
	f := insertFold{batch: 3, limit: 55}
	for _, s := range []string{
		"INSERT INTO `d`.`t` (`a`) VALUES (1)", "INSERT INTO `d`.`t` (`a`) VALUES (2)", "INSERT INTO `d`.`t` (`a`) VALUES (3)",
		"INSERT INTO `d`.`t` (`a`) VALUES (4)", "INSERT INTO `d`.`u` (`a`) VALUES (5)", "INSERT INTO `d`.`u` (`b`) VALUES (6)",
		"DELETE FROM `d`.`u` WHERE `a`<=>7 LIMIT 1", "INSERT INTO `d`.`u` (`b`) VALUES (8)", "INSERT INTO `d`.`u` (`b`) VALUES ('9999999999')",
		"INSERT INTO `d`.`u` (`b`) VALUES (10)",
	} {
		if err := f.add([]byte(s), RowCheck{Rows: 1}, true, write); err != nil {
			t.Fatal(err)
		}
	}
	f.flush(write)
	want := []string{
		"3 INSERT INTO `d`.`t` (`a`) VALUES (1),(2),(3)", "1 INSERT INTO `d`.`t` (`a`) VALUES (4)", "1 INSERT INTO `d`.`u` (`a`) VALUES (5)",
		"1 INSERT INTO `d`.`u` (`b`) VALUES (6)", "1 DELETE FROM `d`.`u` WHERE `a`<=>7 LIMIT 1", "2 INSERT INTO `d`.`u` (`b`) VALUES (8),('9999999999')",
		"1 INSERT INTO `d`.`u` (`b`) VALUES (10)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("folded:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestSameImages: an inverse UPDATE whose before image holds the same bytes as the row it finds
// changes nothing, so ROW_COUNT() cannot check it; any difference in a column it sets can.
func TestSameImages(t *testing.T) {
	tm := &binlog.TableMap{Columns: []binlog.Column{{Name: "id"}, {Name: "a"}, {Name: "g", Generated: true}}}
	v := func(s string) binlog.Value { return binlog.Value{Kind: binlog.ValString, Text: []byte(s)} }
	abs := binlog.Value{Kind: binlog.ValAbsent}
	for _, c := range []struct {
		before, after []binlog.Value
		same          bool
	}{
		{[]binlog.Value{v("1"), v("x"), v("g1")}, []binlog.Value{v("1"), v("x"), v("g2")}, true},
		{[]binlog.Value{v("1"), v("x"), abs}, []binlog.Value{v("1"), v("X"), abs}, false},
		{[]binlog.Value{v("1"), abs, abs}, []binlog.Value{v("1"), v("y"), abs}, true},
		{[]binlog.Value{v("1"), {Kind: binlog.ValNull}, abs}, []binlog.Value{v("1"), v(""), abs}, false},
	} {
		if got := sameImages(tm, c.before, c.after); got != c.same {
			t.Errorf("%v / %v: same %v, want %v", c.before, c.after, got, c.same)
		}
	}
}
