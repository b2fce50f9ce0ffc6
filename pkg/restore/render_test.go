package restore

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// recordSink keeps the statements written to it.
type recordSink struct{ stmts []string }

func (s *recordSink) Session(context.Context, []string) error  { return nil }
func (s *recordSink) Begin(context.Context, TxnInfo) error     { return nil }
func (s *recordSink) Commit(context.Context, TxnSummary) error { return nil }
func (s *recordSink) Rollback(context.Context) error           { return nil }
func (s *recordSink) Close() error                             { return nil }
func (s *recordSink) Write(_ context.Context, b []byte) error {
	s.stmts = append(s.stmts, string(b))
	return nil
}

var testTable = &binlog.TableMap{Schema: "db", Table: "t`x", HasNames: true, PrimaryKey: []int{0},
	Columns: []binlog.Column{{Name: "id", Type: 3}, {Name: "v", Type: 15, Collation: 45}}}

func row(id, v string) []binlog.Value {
	return []binlog.Value{{Kind: binlog.ValInt, Text: []byte(id)}, {Kind: binlog.ValString, Text: []byte(v)}}
}

func TestRendererBatchAndPacket(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name      string
		opts      RenderOptions
		rows      int
		wantStmts int
	}{
		{"one per statement", RenderOptions{Batch: 1, MaxPacket: 1 << 20}, 10, 10},
		{"batch of 4", RenderOptions{Batch: 4, MaxPacket: 1 << 20}, 10, 3},
		{"packet limit splits", RenderOptions{Batch: 1000, MaxPacket: 64 + 200}, 10, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &recordSink{}
			r := NewRenderer(s, tc.opts)
			for i := 0; i < tc.rows; i++ {
				if err := r.Row(ctx, binlog.Insert, testTable, nil, row("1", "0123456789012345678901234567890123456789")); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if len(s.stmts) != tc.wantStmts {
				t.Fatalf("%d statements, want %d: %q", len(s.stmts), tc.wantStmts, s.stmts)
			}
			total := 0
			for _, st := range s.stmts {
				if len(st) > tc.opts.MaxPacket-64 {
					t.Errorf("statement of %d bytes exceeds the limit", len(st))
				}
				total += strings.Count(st, "'0123")
			}
			if total != tc.rows {
				t.Errorf("%d rows written, want %d", total, tc.rows)
			}
		})
	}
}

func TestRendererRowTooLarge(t *testing.T) {
	s := &recordSink{}
	r := NewRenderer(s, RenderOptions{Batch: 10, MaxPacket: 1024})
	err := r.Row(context.Background(), binlog.Insert, testTable, nil, row("1", strings.Repeat("x", 2000)))
	if !errors.Is(err, ErrRowTooLarge) {
		t.Fatalf("err = %v, want ErrRowTooLarge", err)
	}
	if len(s.stmts) != 0 {
		t.Errorf("wrote %q", s.stmts)
	}
}

// TestRendererCompactBinary: a row whose binary values fit the packet only without hex's
// doubling is written with escaped _binary strings, in INSERT, UPDATE and DELETE alike; rows
// that fit in hex keep hex.
func TestRendererCompactBinary(t *testing.T) {
	ctx := context.Background()
	tm := &binlog.TableMap{Schema: "db", Table: "b", HasNames: true, PrimaryKey: []int{0},
		Columns: []binlog.Column{{Name: "id", Type: 3}, {Name: "bl", Type: 252, Meta: 4, Collation: binaryCollation}}}
	blob := make([]byte, 10000)
	for i := range blob {
		blob[i] = byte(i * 7)
	}
	big := []binlog.Value{{Kind: binlog.ValInt, Text: []byte("1")}, {Kind: binlog.ValBinary, Text: blob}}
	small := []binlog.Value{{Kind: binlog.ValInt, Text: []byte("2")}, {Kind: binlog.ValBinary, Text: []byte{0xFF}}}
	s := &recordSink{}
	r := NewRenderer(s, RenderOptions{Batch: 10, MaxPacket: 16000})
	steps := []func() error{
		func() error { return r.Row(ctx, binlog.Insert, tm, nil, big) },
		func() error { return r.Row(ctx, binlog.Insert, tm, nil, small) },
		func() error { return r.Row(ctx, binlog.Update, tm, big, small) },
		func() error { return r.Row(ctx, binlog.Update, tm, small, big) },
		func() error { return r.Row(ctx, binlog.Delete, tm, big, nil) },
		func() error { return r.Flush(ctx) },
	}
	for _, f := range steps {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.stmts) != 4 {
		t.Fatalf("%d statements: %.200q", len(s.stmts), s.stmts)
	}
	for i, st := range s.stmts {
		if len(st) > 16000-64 {
			t.Errorf("statement %d: %d bytes", i, len(st))
		}
	}
	if !strings.HasPrefix(s.stmts[0], "INSERT INTO `db`.`b` (`id`,`bl`) VALUES (1,_binary'\\0\x07\x0e") {
		t.Errorf("big insert: %.80q", s.stmts[0])
	}
	// The next row, which fits in hex, joins the batch in hex.
	if !strings.HasSuffix(s.stmts[0], "'),(2,X'FF')") {
		t.Errorf("small insert: %q", s.stmts[0][len(s.stmts[0])-30:])
	}
	if !strings.Contains(s.stmts[1], "SET `id`=2, `bl`=X'FF' WHERE `id`=1 LIMIT 1") || !strings.Contains(s.stmts[2], "`bl`=_binary'") ||
		s.stmts[3] != "DELETE FROM `db`.`b` WHERE `id`=1 LIMIT 1" {
		t.Errorf("updates and delete: %.120q", s.stmts[1:])
	}
	// The escaped form holds the same bytes.
	lit := s.stmts[0][strings.Index(s.stmts[0], "_binary'")+len("_binary'") : len(s.stmts[0])-len("'),(2,X'FF')")]
	if got := unescape(lit); !bytes.Equal(got, blob) {
		t.Errorf("the escaped literal holds %d bytes, not the blob's", len(got))
	}
}

func unescape(s string) []byte {
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			i++
			c = map[byte]byte{'0': 0, 'n': '\n', 'r': '\r', 'Z': 0x1a}[s[i]]
			if c == 0 && s[i] != '0' {
				c = s[i]
			}
		}
		out = append(out, c)
	}
	return out
}

func TestRendererStatements(t *testing.T) {
	ctx := context.Background()
	s := &recordSink{}
	r := NewRenderer(s, RenderOptions{})
	noPK := *testTable
	noPK.PrimaryKey = nil
	absent := []binlog.Value{{Kind: binlog.ValInt, Text: []byte("7")}, {Kind: binlog.ValAbsent}}
	steps := []func() error{
		func() error { return r.Row(ctx, binlog.Update, testTable, row("1", "a"), row("2", "b")) },
		func() error { return r.Row(ctx, binlog.Delete, testTable, row("1", "a"), nil) },
		func() error { return r.Row(ctx, binlog.Delete, &noPK, row("1", "a'b"), nil) },
		func() error { return r.Row(ctx, binlog.Update, &noPK, absent, absent) },
		func() error { return r.Row(ctx, binlog.Insert, testTable, nil, absent) },
	}
	for _, f := range steps {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"UPDATE `db`.`t``x` SET `id`=2, `v`='b' WHERE `id`=1 LIMIT 1",
		"DELETE FROM `db`.`t``x` WHERE `id`=1 LIMIT 1",
		"DELETE FROM `db`.`t``x` WHERE `id`<=>1 AND `v`<=>CAST('a\\'b' AS BINARY) LIMIT 1",
		"UPDATE `db`.`t``x` SET `id`=7 WHERE `id`<=>7 LIMIT 1",
		"INSERT INTO `db`.`t``x` (`id`) VALUES (7)",
	}
	if strings.Join(s.stmts, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(s.stmts, "\n"), strings.Join(want, "\n"))
	}
}

func TestLiterals(t *testing.T) {
	utf8mb4, latin1, utf8mb3, ucs2, binary := uint64(45), uint64(8), uint64(33), uint64(35), uint64(63)
	cases := []struct {
		name string
		col  binlog.Column
		val  binlog.Value
		want string
	}{
		{"escapes", binlog.Column{Collation: utf8mb4}, binlog.Value{Kind: binlog.ValString, Text: []byte("a'\\\"\x00\n\r\x1az")}, `'a\'\\\"\0\n\r\Zz'`},
		{"4-byte utf8", binlog.Column{Collation: utf8mb4}, binlog.Value{Kind: binlog.ValString, Text: []byte("🙂")}, "'🙂'"},
		{"invalid utf8 is hex", binlog.Column{Collation: utf8mb4}, binlog.Value{Kind: binlog.ValString, Text: []byte{0xC3, 0x28}}, "X'C328'"},
		{"utf8mb3 cannot hold 4-byte", binlog.Column{Collation: utf8mb3}, binlog.Value{Kind: binlog.ValString, Text: []byte("🙂")}, "X'F09F9982'"},
		{"latin1 ascii quoted", binlog.Column{Collation: latin1}, binlog.Value{Kind: binlog.ValString, Text: []byte("abc")}, "'abc'"},
		{"latin1 high byte converted", binlog.Column{Collation: latin1}, binlog.Value{Kind: binlog.ValString, Text: []byte{'c', 0xE9}}, "'cé'"},
		{"ucs2 converted", binlog.Column{Collation: ucs2}, binlog.Value{Kind: binlog.ValString, Text: []byte{0, 'a'}}, "'a'"},
		{"unknown collation hex", binlog.Column{}, binlog.Value{Kind: binlog.ValString, Text: []byte("a")}, "X'61'"},
		{"binary", binlog.Column{Collation: binary}, binlog.Value{Kind: binlog.ValBinary, Text: []byte{0xFF, 0}}, "X'FF00'"},
		{"empty binary", binlog.Column{}, binlog.Value{Kind: binlog.ValBinary}, "''"},
		{"bit", binlog.Column{}, binlog.Value{Kind: binlog.ValBit, Uint: 5}, "b'101'"},
		{"bit zero", binlog.Column{}, binlog.Value{Kind: binlog.ValBit, Uint: 0}, "b'0'"},
		{"enum name", binlog.Column{Collation: utf8mb4, Enum: [][]byte{[]byte("a"), []byte("it's")}}, binlog.Value{Kind: binlog.ValEnum, Uint: 2}, `'it\'s'`},
		{"enum error value", binlog.Column{Enum: [][]byte{[]byte("a")}}, binlog.Value{Kind: binlog.ValEnum, Uint: 0}, "0"},
		{"enum without names", binlog.Column{}, binlog.Value{Kind: binlog.ValEnum, Uint: 3}, "3"},
		{"set names", binlog.Column{Collation: utf8mb4, Set: [][]byte{[]byte("x"), []byte("y"), []byte("z")}}, binlog.Value{Kind: binlog.ValSet, Uint: 5}, "'x,z'"},
		{"set bits beyond names", binlog.Column{Set: [][]byte{[]byte("x")}}, binlog.Value{Kind: binlog.ValSet, Uint: 2}, "2"},
		{"json", binlog.Column{}, binlog.Value{Kind: binlog.ValJSON, Text: []byte(`{"a": "it's"}`)}, `'{\"a\": \"it\'s\"}'`},
		{"temporal", binlog.Column{}, binlog.Value{Kind: binlog.ValTemporal, Text: []byte("-838:59:59.000000")}, "'-838:59:59.000000'"},
		{"null", binlog.Column{}, binlog.Value{Kind: binlog.ValNull}, "NULL"},
	}
	for _, tc := range cases {
		if got := string(appendLiteral(nil, &tc.col, &tc.val, 0)); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestParseRewrite(t *testing.T) {
	rw, err := ParseRewrite([]string{"shop=shop_restore"}, []string{"shop.orders=x.o2"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ db, table, want string }{
		{"shop", "orders", "x.o2"}, {"shop", "items", "shop_restore.items"}, {"crm", "c", "crm.c"},
	} {
		db, table := rw.target(&binlog.TableMap{Schema: tc.db, Table: tc.table})
		if db+"."+table != tc.want {
			t.Errorf("%s.%s → %s.%s, want %s", tc.db, tc.table, db, table, tc.want)
		}
	}
	for _, bad := range [][2][]string{
		{{"shop"}, nil}, {{"a=b", "a=c"}, nil}, {{"a.b=c"}, nil}, {nil, {"shop=x"}}, {nil, {"a.b=c"}}, {nil, {"a.b=c.d", "a.b=e.f"}},
	} {
		if _, err := ParseRewrite(bad[0], bad[1]); err == nil {
			t.Errorf("ParseRewrite(%q, %q): want an error", bad[0], bad[1])
		}
	}
	if rw, err := ParseRewrite(nil, nil); rw != nil || err != nil {
		t.Errorf("no rules: %v, %v", rw, err)
	}
}

func TestRendererKeyedBatches(t *testing.T) {
	ctx := context.Background()
	// id INT PRIMARY KEY, v VARCHAR utf8mb4, f DOUBLE, b BLOB
	tbl := &binlog.TableMap{Schema: "db", Table: "t", HasNames: true, PrimaryKey: []int{0},
		Columns: []binlog.Column{{Name: "id", Type: 3}, {Name: "v", Type: 15, Collation: 45}, {Name: "f", Type: 5}, {Name: "b", Type: 252, Collation: 63}}}
	other := *tbl
	other.Table = "u"
	strPK := *tbl
	strPK.PrimaryKey = []int{1}
	val := func(id, v string, f float64, b string) []binlog.Value {
		vs := []binlog.Value{{Kind: binlog.ValInt, Text: []byte(id)}, {Kind: binlog.ValString, Text: []byte(v)},
			{Kind: binlog.ValFloat, Text: []byte(strconv.FormatFloat(f, 'g', -1, 64)), Uint: math.Float64bits(f)},
			{Kind: binlog.ValBinary, Text: []byte(b)}}
		if v == "NULL" {
			vs[1] = binlog.Value{Kind: binlog.ValNull}
		}
		return vs
	}
	type step struct {
		kind          binlog.RowsKind
		tm            *binlog.TableMap
		before, after []binlog.Value
	}
	upd := func(id, v string) step {
		return step{binlog.Update, tbl, val(id, "old", 0, "x"), val(id, v, 0.5, "y")}
	}
	del := func(tm *binlog.TableMap, id string) step { return step{binlog.Delete, tm, val(id, "old", 0, "x"), nil} }
	cases := []struct {
		name  string
		opts  RenderOptions
		steps []step
		want  []string
	}{
		{"deletes in key order fold", RenderOptions{Batch: 100}, []step{del(tbl, "-5"), del(tbl, "1"), del(tbl, "20"), del(tbl, "100")},
			[]string{"DELETE FROM `db`.`t` WHERE `id` IN (-5,1,20,100) ORDER BY `id`"}},
		{"a key out of order starts a new statement", RenderOptions{Batch: 100}, []step{del(tbl, "2"), del(tbl, "3"), del(tbl, "1"), del(tbl, "-1")},
			[]string{"DELETE FROM `db`.`t` WHERE `id` IN (2,3) ORDER BY `id`", "DELETE FROM `db`.`t` WHERE `id`=1 LIMIT 1", "DELETE FROM `db`.`t` WHERE `id`=-1 LIMIT 1"}},
		{"another table starts a new statement", RenderOptions{Batch: 100}, []step{del(tbl, "1"), del(&other, "2"), del(&other, "3")},
			[]string{"DELETE FROM `db`.`t` WHERE `id`=1 LIMIT 1", "DELETE FROM `db`.`u` WHERE `id` IN (2,3) ORDER BY `id`"}},
		{"batch size", RenderOptions{Batch: 2}, []step{del(tbl, "1"), del(tbl, "2"), del(tbl, "3")},
			[]string{"DELETE FROM `db`.`t` WHERE `id` IN (1,2) ORDER BY `id`", "DELETE FROM `db`.`t` WHERE `id`=3 LIMIT 1"}},
		{"batch 1 writes single rows", RenderOptions{Batch: 1}, []step{del(tbl, "1"), del(tbl, "2")},
			[]string{"DELETE FROM `db`.`t` WHERE `id`=1 LIMIT 1", "DELETE FROM `db`.`t` WHERE `id`=2 LIMIT 1"}},
		{"a key that is not an integer", RenderOptions{Batch: 100}, []step{del(&strPK, "1"), del(&strPK, "2")},
			[]string{"DELETE FROM `db`.`t` WHERE `v`='old' LIMIT 1", "DELETE FROM `db`.`t` WHERE `v`='old' LIMIT 1"}},
		{"updates fold into CASE, floats exact in E notation", RenderOptions{Batch: 100}, []step{upd("1", "a"), upd("2", "NULL"), upd("3", "c")},
			[]string{"UPDATE `db`.`t` SET `v`=CASE `id` WHEN 1 THEN 'a' WHEN 2 THEN NULL WHEN 3 THEN 'c' END, " +
				"`f`=CASE `id` WHEN 1 THEN 5e-01 WHEN 2 THEN 5e-01 WHEN 3 THEN 5e-01 END, " +
				"`b`=CASE `id` WHEN 1 THEN X'79' WHEN 2 THEN X'79' WHEN 3 THEN X'79' END WHERE `id` IN (1,2,3) ORDER BY `id`"}},
		{"a literal of another form starts a new statement", RenderOptions{Batch: 100}, []step{upd("1", "a"), upd("2", "\xff"), upd("3", "\xfe")},
			[]string{"UPDATE `db`.`t` SET `v`='a', `f`=0.5, `b`=X'79' WHERE `id`=1 LIMIT 1",
				"UPDATE `db`.`t` SET `v`=CASE `id` WHEN 2 THEN X'FF' WHEN 3 THEN X'FE' END, `f`=CASE `id` WHEN 2 THEN 5e-01 WHEN 3 THEN 5e-01 END, " +
					"`b`=CASE `id` WHEN 2 THEN X'79' WHEN 3 THEN X'79' END WHERE `id` IN (2,3) ORDER BY `id`"}},
		{"an update of the key is written alone", RenderOptions{Batch: 100}, []step{upd("1", "a"), {binlog.Update, tbl, val("2", "b", 0, "x"), val("9", "b", 0, "x")}, upd("3", "c")},
			[]string{"UPDATE `db`.`t` SET `v`='a', `f`=0.5, `b`=X'79' WHERE `id`=1 LIMIT 1",
				"UPDATE `db`.`t` SET `id`=9 WHERE `id`=2 LIMIT 1",
				"UPDATE `db`.`t` SET `v`='c', `f`=0.5, `b`=X'79' WHERE `id`=3 LIMIT 1"}},
		{"updates, deletes and inserts keep their order", RenderOptions{Batch: 100}, []step{upd("1", "a"), upd("2", "b"), del(tbl, "3"), del(tbl, "4"),
			{binlog.Insert, tbl, nil, val("5", "e", 1, "")}, upd("6", "f")},
			[]string{"UPDATE `db`.`t` SET `v`=CASE `id` WHEN 1 THEN 'a' WHEN 2 THEN 'b' END, `f`=CASE `id` WHEN 1 THEN 5e-01 WHEN 2 THEN 5e-01 END, " +
				"`b`=CASE `id` WHEN 1 THEN X'79' WHEN 2 THEN X'79' END WHERE `id` IN (1,2) ORDER BY `id`",
				"DELETE FROM `db`.`t` WHERE `id` IN (3,4) ORDER BY `id`",
				"INSERT INTO `db`.`t` (`id`,`v`,`f`,`b`) VALUES (5,'e',1,'')",
				"UPDATE `db`.`t` SET `v`='f', `f`=0.5, `b`=X'79' WHERE `id`=6 LIMIT 1"}},
		{"the packet limit splits", RenderOptions{Batch: 100, MaxPacket: 64 + 60}, []step{del(tbl, "1000"), del(tbl, "1001"), del(tbl, "1002"), del(tbl, "1003")},
			[]string{"DELETE FROM `db`.`t` WHERE `id` IN (1000,1001) ORDER BY `id`", "DELETE FROM `db`.`t` WHERE `id` IN (1002,1003) ORDER BY `id`"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &recordSink{}
			r := NewRenderer(s, tc.opts)
			for _, st := range tc.steps {
				if err := r.Row(ctx, st.kind, st.tm, st.before, st.after); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if strings.Join(s.stmts, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(s.stmts, "\n"), strings.Join(tc.want, "\n"))
			}
			for _, st := range s.stmts {
				if len(st) > r.limit() {
					t.Errorf("a %d-byte statement, limit %d", len(st), r.limit())
				}
			}
		})
	}
}

func TestCmpInt(t *testing.T) {
	ordered := []string{"-18446744073709551616", "-100", "-99", "-2", "-1", "0", "1", "2", "9", "10", "99", "100", "18446744073709551615"}
	for i, a := range ordered {
		for j, b := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := cmpInt([]byte(a), []byte(b)); got != want {
				t.Errorf("cmpInt(%s, %s) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestUpdateSetsChangedColumns(t *testing.T) {
	ctx := context.Background()
	// id INT PK, v VARCHAR, f DOUBLE, ts TIMESTAMP(6), g INT generated
	tbl := &binlog.TableMap{Schema: "db", Table: "t", HasNames: true, PrimaryKey: []int{0},
		Columns: []binlog.Column{{Name: "id", Type: 3}, {Name: "v", Type: 15, Collation: 45}, {Name: "f", Type: 5}, {Name: "ts", Type: 17}, {Name: "g", Type: 3, Generated: true}}}
	i := func(s string) binlog.Value { return binlog.Value{Kind: binlog.ValInt, Text: []byte(s)} }
	str := func(s string) binlog.Value { return binlog.Value{Kind: binlog.ValString, Text: []byte(s)} }
	fl := func(f float64) binlog.Value {
		return binlog.Value{Kind: binlog.ValFloat, Text: []byte(strconv.FormatFloat(f, 'g', -1, 64)), Uint: math.Float64bits(f)}
	}
	ts := binlog.Value{Kind: binlog.ValTemporal, Text: []byte("2024-01-01 00:00:00.000000")}
	null := binlog.Value{Kind: binlog.ValNull}
	absent := binlog.Value{Kind: binlog.ValAbsent}
	cases := []struct {
		name          string
		before, after []binlog.Value
		want          string
	}{
		{"unchanged columns are left out; TIMESTAMP is always set",
			[]binlog.Value{i("1"), str("a"), fl(1), ts, i("2")}, []binlog.Value{i("1"), str("b"), fl(1), ts, i("4")},
			"UPDATE `db`.`t` SET `v`='b', `ts`='2024-01-01 00:00:00.000000' WHERE `id`=1 LIMIT 1"},
		{"NULL to a value and -0 to 0 are changes",
			[]binlog.Value{i("1"), null, fl(math.Copysign(0, -1)), ts, null}, []binlog.Value{i("1"), str(""), fl(0), ts, null},
			"UPDATE `db`.`t` SET `v`='', `f`=0, `ts`='2024-01-01 00:00:00.000000' WHERE `id`=1 LIMIT 1"},
		{"a minimal before image cannot tell, so the after image is set",
			[]binlog.Value{i("1"), absent, absent, absent, absent}, []binlog.Value{absent, str("a"), absent, absent, absent},
			"UPDATE `db`.`t` SET `v`='a' WHERE `id`=1 LIMIT 1"},
		{"a row that did not change sets every column",
			[]binlog.Value{i("1"), str("a"), fl(1), absent, i("2")}, []binlog.Value{i("1"), str("a"), fl(1), absent, i("2")},
			"UPDATE `db`.`t` SET `id`=1, `v`='a', `f`=1 WHERE `id`=1 LIMIT 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &recordSink{}
			r := NewRenderer(s, RenderOptions{})
			if err := r.Row(ctx, binlog.Update, tbl, tc.before, tc.after); err != nil {
				t.Fatal(err)
			}
			if len(s.stmts) != 1 || s.stmts[0] != tc.want {
				t.Errorf("got  %q\nwant %q", s.stmts, tc.want)
			}
		})
	}
}

// TestRendererSystemVersioned: a versioned table's UPDATE and DELETE run at the source's time,
// so that the target makes the history row the source made (and the logged one is left out);
// new and history rows are INSERTs with both period columns.
func TestRendererSystemVersioned(t *testing.T) {
	ctx := context.Background()
	tm := &binlog.TableMap{Schema: "db", Table: "v", HasNames: true, PrimaryKey: []int{0, 3},
		Columns: []binlog.Column{{Name: "id", Type: 3}, {Name: "x", Type: 3},
			{Name: "row_start", Type: 17, Meta: 6, RowStart: true}, {Name: "row_end", Type: 17, Meta: 6, RowEnd: true}}}
	const max = "2038-01-19 03:14:07.999999"
	v := func(id, x, start, end string) []binlog.Value {
		return []binlog.Value{{Kind: binlog.ValInt, Text: []byte(id)}, {Kind: binlog.ValInt, Text: []byte(x)},
			{Kind: binlog.ValTemporal, Text: []byte(start)}, {Kind: binlog.ValTemporal, Text: []byte(end)}}
	}
	s := &recordSink{}
	r := NewRenderer(s, RenderOptions{Batch: 10})
	steps := []func() error{
		func() error {
			return r.Row(ctx, binlog.Insert, tm, nil, v("1", "1", "2026-01-01 00:00:00.000001", max))
		},
		// UPDATE: the current row, then the history row the server wrote (left out).
		func() error {
			return r.Row(ctx, binlog.Update, tm, v("1", "1", "2026-01-01 00:00:00.000001", max), v("1", "2", "2026-01-02 00:00:00.5", max))
		},
		func() error {
			return r.Row(ctx, binlog.Insert, tm, nil, v("1", "1", "2026-01-01 00:00:00.000001", "2026-01-02 00:00:00.5"))
		},
		// A history row the source inserted itself (system_versioning_insert_history) stays.
		func() error {
			return r.Row(ctx, binlog.Insert, tm, nil, v("2", "7", "2020-01-01 00:00:00", "2021-01-01 00:00:00"))
		},
		// DELETE: the row end set.
		func() error {
			return r.Row(ctx, binlog.Update, tm, v("1", "2", "2026-01-02 00:00:00.5", max), v("1", "2", "2026-01-02 00:00:00.5", "2026-01-03 00:00:00"))
		},
		func() error { return r.Flush(ctx) },
	}
	for _, f := range steps {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"SET system_versioning_insert_history=1",
		"INSERT INTO `db`.`v` (`id`,`x`,`row_start`,`row_end`) VALUES (1,1,'2026-01-01 00:00:00.000001','2038-01-19 03:14:07.999999')",
		"SET @@timestamp=UNIX_TIMESTAMP('2026-01-02 00:00:00.5')",
		"UPDATE `db`.`v` SET `x`=2 WHERE `id`=1 AND `row_end`='2038-01-19 03:14:07.999999' LIMIT 1",
		"SET @@timestamp=DEFAULT",
		"INSERT INTO `db`.`v` (`id`,`x`,`row_start`,`row_end`) VALUES (2,7,'2020-01-01 00:00:00','2021-01-01 00:00:00')",
		"SET @@timestamp=UNIX_TIMESTAMP('2026-01-03 00:00:00')",
		"DELETE FROM `db`.`v` WHERE `id`=1 AND `row_end`='2038-01-19 03:14:07.999999' LIMIT 1",
		"SET @@timestamp=DEFAULT",
	}
	if strings.Join(s.stmts, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(s.stmts, "\n"), strings.Join(want, "\n"))
	}
	// What cannot be replayed exactly stops.
	for name, f := range map[string]func() error{
		"DELETE HISTORY": func() error {
			return r.Row(ctx, binlog.Delete, tm, v("2", "7", "2020-01-01 00:00:00", "2021-01-01 00:00:00"), nil)
		},
		"history row updated": func() error {
			return r.Row(ctx, binlog.Update, tm, v("2", "7", "2020-01-01 00:00:00", "2021-01-01 00:00:00"), v("2", "8", "2020-01-01 00:00:00", "2021-01-01 00:00:00"))
		},
		"ended and changed": func() error {
			return r.Row(ctx, binlog.Update, tm, v("3", "1", "2020-01-01 00:00:00", max), v("3", "2", "2020-01-01 00:00:00", "2021-01-01 00:00:00"))
		},
	} {
		if err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	trx := &binlog.TableMap{Schema: "db", Table: "trx", HasNames: true, Columns: []binlog.Column{{Name: "id", Type: 3},
		{Name: "s", Type: 8, RowStart: true, Unsigned: true}, {Name: "e", Type: 8, RowEnd: true, Unsigned: true}}}
	err := r.Row(ctx, binlog.Insert, trx, nil, []binlog.Value{{Kind: binlog.ValInt, Text: []byte("1")}, {Kind: binlog.ValInt, Text: []byte("5")}, {Kind: binlog.ValInt, Text: []byte("18446744073709551615")}})
	if err == nil || !strings.Contains(err.Error(), "transaction id") {
		t.Errorf("transaction-precise versioning: %v", err)
	}
}

// TestRendererSequenceMinimal: a MINIMAL image of a sequence holds the changed columns only; the
// INSERT takes the others from the sequence's own row.
func TestRendererSequenceMinimal(t *testing.T) {
	cols := make([]binlog.Column, len(sequenceColumns))
	for i, n := range sequenceColumns {
		cols[i] = binlog.Column{Name: n, Type: 8}
	}
	cols[6].Type = 1
	tm := &binlog.TableMap{Schema: "db", Table: "sq", HasNames: true, Columns: cols}
	after := make([]binlog.Value, 8)
	after[0] = binlog.Value{Kind: binlog.ValInt, Text: []byte("5001")}
	after[7] = binlog.Value{Kind: binlog.ValInt, Text: []byte("0")}
	s := &recordSink{}
	r := NewRenderer(s, RenderOptions{Batch: 10})
	if err := r.Row(context.Background(), binlog.Insert, tm, nil, after); err != nil {
		t.Fatal(err)
	}
	want := "INSERT INTO `db`.`sq` (`next_not_cached_value`,`minimum_value`,`maximum_value`,`start_value`,`increment`,`cache_size`,`cycle_option`,`cycle_count`) " +
		"SELECT 5001,`minimum_value`,`maximum_value`,`start_value`,`increment`,`cache_size`,`cycle_option`,0 FROM `db`.`sq`"
	if len(s.stmts) != 1 || s.stmts[0] != want {
		t.Errorf("got %q\nwant %q", s.stmts, want)
	}
	// A table that only looks like one is not a sequence.
	cols[1].Name = "min"
	if isSequence(tm) {
		t.Error("a table with other column names is a sequence")
	}
}
