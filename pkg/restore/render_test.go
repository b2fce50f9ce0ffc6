package restore

import (
	"context"
	"errors"
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
		{"latin1 high byte hex", binlog.Column{Collation: latin1}, binlog.Value{Kind: binlog.ValString, Text: []byte{'c', 0xE9}}, "X'63E9'"},
		{"ucs2 always hex", binlog.Column{Collation: ucs2}, binlog.Value{Kind: binlog.ValString, Text: []byte{0, 'a'}}, "X'0061'"},
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
		if got := string(appendLiteral(nil, &tc.col, &tc.val, false)); got != tc.want {
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
