package restore

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/internal/corpustest"
	"github.com/pitr-tool/pitr/pkg/binlog"
)

// Collation ids: MariaDB's and MySQL's published ones.
const (
	collLatin1     = 8
	collSwe7       = 10
	collSjis       = 13
	collEuckr      = 19
	collUcs2       = 35
	collUtf8mb3    = 33
	collUtf8mb4    = 45
	collUtf16      = 54
	collUtf16le    = 56
	collUtf32      = 60
	collBig5       = 1
	collCp1251     = 51
	collGbk        = 28
	collUjis       = 12
	collGb18030    = 248 // MySQL only
	collMySQL0900  = 255 // utf8mb4_0900_ai_ci, MySQL only
	collMySQL0900b = 309 // utf8mb4_0900_bin
	collMariaUCA14 = 2048
	collNopad520   = 1270 // utf8mb4_unicode_520_nopad_ci (MariaDB)
)

func binaryCol(n int) binlog.Column {
	// BINARY(n): MYSQL_TYPE_STRING with real type STRING and n in the metadata.
	return binlog.Column{Name: "k", Type: 254, Meta: 0xfe00 | uint16(n), Collation: binaryCollation}
}

// TestLiteralRule is the literal rule per charset: quoted (as utf8mb4) only where the server's own
// conversion proves it byte-exact, hex otherwise; fixed-length binary values padded back.
func TestLiteralRule(t *testing.T) {
	str := func(coll uint64, b ...byte) (binlog.Column, binlog.Value) {
		return binlog.Column{Collation: coll}, binlog.Value{Kind: binlog.ValString, Text: b}
	}
	cases := []struct {
		name string
		col  binlog.Column
		val  binlog.Value
		mode litMode
		want string
	}{
		{name: "BINARY(4) padded", col: binaryCol(4), val: binlog.Value{Kind: binlog.ValBinary, Text: []byte{0x0A}}, want: "X'0A000000'"},
		{name: "BINARY(4) empty", col: binaryCol(4), val: binlog.Value{Kind: binlog.ValBinary}, want: "X'00000000'"},
		{name: "BINARY(4) whole", col: binaryCol(4), val: binlog.Value{Kind: binlog.ValBinary, Text: []byte{1, 2, 3, 4}}, want: "X'01020304'"},
		{name: "BINARY(4) keyless where", col: binaryCol(4), val: binlog.Value{Kind: binlog.ValBinary, Text: []byte{0x0A}}, mode: litWhere, want: "X'0A000000'"},
		{name: "BINARY(4) compact", col: binaryCol(4), val: binlog.Value{Kind: binlog.ValBinary, Text: []byte{'\n', 'a'}}, mode: litCompact, want: `_binary'\na\0\0'`},
		{name: "BINARY(300)", col: binlog.Column{Type: 254, Meta: 0xee2c, Collation: binaryCollation}, val: binlog.Value{Kind: binlog.ValBinary, Text: []byte{1}},
			want: "X'01" + strings.Repeat("00", 299) + "'"},
		{name: "INET6 (BINARY(16) in the map)", col: binaryCol(16), val: binlog.Value{Kind: binlog.ValBinary, Text: []byte{0x20, 0x01, 0x0d, 0xb8}},
			want: "X'20010DB8000000000000000000000000'"},
		{name: "VARBINARY not padded", col: binlog.Column{Type: 15, Meta: 10, Collation: binaryCollation}, val: binlog.Value{Kind: binlog.ValBinary, Text: []byte{1}}, want: "X'01'"},
		{name: "BLOB compact", col: binlog.Column{Type: 252, Meta: 2, Collation: binaryCollation}, val: binlog.Value{Kind: binlog.ValBinary, Text: []byte{0, 0xFF, '\'', '\\', 0x1a, 'z'}}, mode: litCompact,
			want: "_binary'\\0\xFF\\'\\\\\\Zz'"},
		{name: "empty compact", col: binlog.Column{Type: 252, Meta: 2, Collation: binaryCollation}, val: binlog.Value{Kind: binlog.ValBinary}, mode: litCompact, want: "''"},
		{name: "CHAR not padded", col: binlog.Column{Type: 254, Meta: 0xfe10, Collation: collUtf8mb4}, val: binlog.Value{Kind: binlog.ValString, Text: []byte("a")}, want: "'a'"},
	}
	add := func(name string, coll uint64, b []byte, mode litMode, want string) {
		c, v := str(coll, b...)
		cases = append(cases, struct {
			name string
			col  binlog.Column
			val  binlog.Value
			mode litMode
			want string
		}{name, c, v, mode, want})
	}
	add("utf8mb4", collUtf8mb4, []byte("한국 🙂"), 0, "'한국 🙂'")
	add("utf8mb4 invalid", collUtf8mb4, []byte{0xC3, 0x28}, 0, "X'C328'")
	add("utf8mb4 surrogate", collUtf8mb4, []byte{0xED, 0xA0, 0x80}, 0, "X'EDA080'")
	add("utf8mb3 4-byte", collUtf8mb3, []byte("🙂"), 0, "X'F09F9982'")
	add("MySQL utf8mb4_0900_ai_ci", collMySQL0900, []byte("🙂"), 0, "'🙂'")
	add("MySQL utf8mb4_0900_bin", collMySQL0900b, []byte("ø"), 0, "'ø'")
	add("MariaDB uca1400", collMariaUCA14, []byte("é"), 0, "'é'")
	add("MariaDB unicode_520_nopad", collNopad520, []byte("é"), 0, "'é'")
	add("latin1 (cp1252)", collLatin1, []byte{'c', 0xE9, 0x80}, 0, "'cé€'")
	add("latin1 where", collLatin1, []byte{0xE9}, litWhere, "CAST(CONVERT('é' USING latin1) AS BINARY)")
	add("utf8mb4 where", collUtf8mb4, []byte("é"), litWhere, "CAST('é' AS BINARY)")
	add("cp1251", collCp1251, []byte{0xCF, 0xF0, 0xE8}, 0, "'При'")
	// swe7 is not ASCII: its 0x40, 0x5B-0x5E, 0x60 and 0x7B-0x7E are letters.
	add("swe7 letters", collSwe7, []byte("a{|}~@`"), 0, "'aäöåüÉé'")
	add("swe7 ascii", collSwe7, []byte("abc"), 0, "'abc'")
	add("swe7 high byte", collSwe7, []byte{0xE9}, 0, "_swe7 X'E9'")
	add("euckr Korean", collEuckr, []byte{0xC7, 0xD1, 0xB1, 0xB9}, 0, "'한국'")
	add("euckr invalid", collEuckr, []byte{0xC7}, 0, "_euckr X'C7'")
	add("euckr invalid where", collEuckr, []byte{0xC7}, litWhere, "X'C7'")
	add("euckr where", collEuckr, []byte{0xC7, 0xD1}, litWhere, "CAST(CONVERT('한' USING euckr) AS BINARY)")
	add("sjis kana", collSjis, []byte{0x83, 0x41, 0xB1}, 0, "'アｱ'")
	// sjis 0x5C is a backslash one way only: utf8mb4's backslash becomes sjis 0x815F.
	add("sjis backslash", collSjis, []byte{0x5C}, 0, "_sjis X'5C'")
	add("sjis trail byte 0x5C", collSjis, []byte{0x83, 0x5C}, 0, "'ソ'")
	add("big5", collBig5, []byte{0xA4, 0xA4}, 0, "'中'")
	add("gbk", collGbk, []byte{0xD6, 0xD0}, 0, "'中'")
	add("ujis 3-byte", collUjis, []byte{0x8F, 0xB0, 0xA1}, 0, "'丂'")
	add("gb18030 ascii", collGb18030, []byte("ab"), 0, "'ab'")
	add("gb18030 4-byte", collGb18030, []byte{0x81, 0x30, 0x81, 0x30}, 0, "_gb18030 X'81308130'")
	add("ucs2", collUcs2, []byte{0, 'a', 0x00, 0xE9}, 0, "'aé'")
	add("ucs2 surrogate", collUcs2, []byte{0xD8, 0x3D}, 0, "_ucs2 X'D83D'")
	add("ucs2 odd length", collUcs2, []byte{0x00}, 0, "_ucs2 X'00'")
	add("utf16 pair", collUtf16, []byte{0xD8, 0x3D, 0xDE, 0x42}, 0, "'🙂'")
	add("utf16 lone surrogate", collUtf16, []byte{0xD8, 0x3D, 0x00, 0x61}, 0, "_utf16 X'D83D0061'")
	add("utf16le", collUtf16le, []byte{'a', 0, 0x3D, 0xD8, 0x42, 0xDE}, 0, "'a🙂'")
	add("utf16 where", collUtf16, []byte{0, 'a'}, litWhere, "CAST(CONVERT('a' USING utf16) AS BINARY)")
	add("utf32", collUtf32, []byte{0, 1, 0xF6, 0x42}, 0, "'🙂'")
	add("utf32 beyond Unicode", collUtf32, []byte{0, 0x11, 0, 0}, 0, "_utf32 X'00110000'")
	add("unknown collation", 0, []byte("a"), 0, "X'61'")
	add("unknown collation id", 4000, []byte("a"), 0, "X'61'")
	add("escapes after conversion", collLatin1, []byte("a'\\\x00\n"), 0, `'a\'\\\0\n'`)
	for _, tc := range cases {
		if got := string(appendLiteral(nil, &tc.col, &tc.val, tc.mode)); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestLiteralEnumSet: ENUM and SET members by name where the name converts exactly, joined by a
// utf8mb4 comma (the server splits after converting to the column's charset), by number otherwise.
func TestLiteralEnumSet(t *testing.T) {
	ucs2 := [][]byte{{0, 'a'}, {0, 'b'}, {0, 0xE9}}
	cases := []struct {
		name string
		col  binlog.Column
		val  binlog.Value
		want string
	}{
		{"ucs2 SET of two", binlog.Column{Collation: collUcs2, Set: ucs2}, binlog.Value{Kind: binlog.ValSet, Uint: 3}, "'a,b'"},
		{"utf32 SET", binlog.Column{Collation: collUtf32, Set: [][]byte{{0, 0, 0, 'x'}, {0, 0, 0, 'y'}}}, binlog.Value{Kind: binlog.ValSet, Uint: 3}, "'x,y'"},
		{"utf16le SET", binlog.Column{Collation: collUtf16le, Set: [][]byte{{'x', 0}, {'y', 0}}}, binlog.Value{Kind: binlog.ValSet, Uint: 2}, "'y'"},
		{"ucs2 ENUM", binlog.Column{Collation: collUcs2, Enum: ucs2}, binlog.Value{Kind: binlog.ValEnum, Uint: 3}, "'é'"},
		{"empty SET", binlog.Column{Collation: collUcs2, Set: ucs2}, binlog.Value{Kind: binlog.ValSet, Uint: 0}, "''"},
		{"swe7 SET", binlog.Column{Collation: collSwe7, Set: [][]byte{[]byte("{"), []byte("b")}}, binlog.Value{Kind: binlog.ValSet, Uint: 3}, "'ä,b'"},
		{"SET member not convertible", binlog.Column{Collation: collSwe7, Set: [][]byte{{0xE9}, []byte("b")}}, binlog.Value{Kind: binlog.ValSet, Uint: 3}, "3"},
		{"ENUM member not convertible", binlog.Column{Collation: collSjis, Enum: [][]byte{{0x5C}}}, binlog.Value{Kind: binlog.ValEnum, Uint: 1}, "1"},
		{"ENUM unknown charset", binlog.Column{Enum: [][]byte{[]byte("a")}}, binlog.Value{Kind: binlog.ValEnum, Uint: 1}, "1"},
		{"ENUM quote", binlog.Column{Collation: collLatin1, Enum: [][]byte{[]byte("it's"), {0xE9}}}, binlog.Value{Kind: binlog.ValEnum, Uint: 1}, `'it\'s'`},
		{"euckr SET", binlog.Column{Collation: collEuckr, Set: [][]byte{{0xC7, 0xD1}, {0xB1, 0xB9}}}, binlog.Value{Kind: binlog.ValSet, Uint: 3}, "'한,국'"},
	}
	for _, tc := range cases {
		if got := string(appendLiteral(nil, &tc.col, &tc.val, 0)); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestCharsetTable checks the generated tables against what MariaDB documents, so that a
// generator that asked the wrong question cannot pass unnoticed.
func TestCharsetTable(t *testing.T) {
	for _, name := range []string{"armscii8", "ascii", "big5", "binary", "cp1250", "cp1251", "cp1256", "cp1257", "cp850", "cp852",
		"cp866", "cp932", "dec8", "eucjpms", "euckr", "gb2312", "gbk", "geostd8", "greek", "hebrew", "hp8", "keybcs2", "koi8r",
		"koi8u", "latin1", "latin2", "latin5", "latin7", "macce", "macroman", "sjis", "swe7", "tis620", "ucs2", "ujis", "utf16",
		"utf16le", "utf32", "utf8mb3", "utf8mb4", "gb18030"} {
		found := false
		for i := range charsetTable {
			if charsetTable[i].name == name {
				found = true
			}
		}
		if !found {
			t.Errorf("charset %s missing from charsetTable", name)
		}
	}
	for id, want := range map[uint64]string{8: "latin1", 10: "swe7", 19: "euckr", 45: "utf8mb4", 63: "binary", 33: "utf8mb3", 35: "ucs2",
		2048: "utf8mb3", 248: "gb18030", 255: "utf8mb4", 323: "utf8mb4", 1270: "utf8mb4"} {
		if cs := literalCharset(&binlog.Column{Collation: id}); cs == nil || cs.name != want {
			t.Errorf("collation %d: got %v, want %s", id, cs, want)
		}
	}
	if cs := literalCharset(&binlog.Column{Collation: 8, Charset: "euckr"}); cs == nil || cs.name != "euckr" {
		t.Errorf("the column's charset name comes first: %v", cs)
	}
	for name, min := range map[string]int{"big5": 13000, "cp932": 9000, "eucjpms": 15000, "euckr": 17000, "gb2312": 7000, "gbk": 21000, "sjis": 6900, "ujis": 14800} {
		if n := len(multiTable(name)); n < min {
			t.Errorf("%s: %d multi-byte characters, want at least %d", name, n, min)
		}
	}
}

// TestWhereUnknownPad: a CHAR/BINARY value shorter than its column, whose charset nobody gave,
// cannot be found exactly (BINARY lost its 0x00 pad, CHAR its spaces): an error, not a guess.
func TestWhereUnknownPad(t *testing.T) {
	tm := &binlog.TableMap{Schema: "db", Table: "t", HasNames: true, PrimaryKey: []int{0},
		Columns: []binlog.Column{{Name: "k", Type: 254, Meta: 0xfe04}, {Name: "v", Type: 3}}}
	short := []binlog.Value{{Kind: binlog.ValString, Text: []byte{0x0A}}, {Kind: binlog.ValInt, Text: []byte("1")}}
	if _, err := appendWhere(nil, tm, short, 0, false); err == nil || !strings.Contains(err.Error(), "BINARY(4)") {
		t.Errorf("unknown charset, short value: %v", err)
	}
	full := []binlog.Value{{Kind: binlog.ValString, Text: []byte{1, 2, 3, 4}}, {Kind: binlog.ValInt, Text: []byte("1")}}
	if b, err := appendWhere(nil, tm, full, 0, false); err != nil || string(b) != " WHERE `k`=X'01020304' LIMIT 1" {
		t.Errorf("a value of the full length: %s, %v", b, err)
	}
	tm.Columns[0].Collation = binaryCollation
	if b, err := appendWhere(nil, tm, short, 0, false); err != nil || string(b) != " WHERE `k`=X'0A000000' LIMIT 1" {
		t.Errorf("BINARY(4): %s, %v", b, err)
	}
}

// TestLiteralCorpusMySQL renders the rows of a real MySQL 8 binlog (utf8mb4_0900_ai_ci text,
// ENUM and SET, with the FULL metadata's members) from the corpus: the MySQL-only collation
// must give quoted text and members by name, not hex.
func TestLiteralCorpusMySQL(t *testing.T) {
	dir := corpustest.Dir()
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no binlog corpus: %v", err)
	}
	src, err := binlog.OpenFiles([]string{filepath.Join(dir, "rust_mysql_common", "mysql-enum-string-set.000001")}, binlog.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx := context.Background()
	s := &recordSink{}
	r := NewRenderer(s, RenderOptions{})
	sawColl := false
	for {
		ev, err := src.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Rows == nil || ev.Rows.Table.Table != "t" {
			continue
		}
		tm := ev.Rows.Table
		if c := tm.Columns[0].Collation; c >= 255 && c <= 323 {
			sawColl = true
		}
		for ev.Rows.More() {
			before, after, err := ev.Rows.Next()
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Row(ctx, ev.Rows.Kind, tm, before, after); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !sawColl {
		t.Fatal("the corpus table's text column is not in a utf8mb4_0900 collation")
	}
	out := strings.Join(s.stmts, "\n")
	for _, want := range []string{"'0123456789'", "'var1'", "'one,three'", "'field1'", "'two,four'"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in:\n%.600s", want, out)
		}
	}
	if strings.Contains(out, "X'") {
		t.Errorf("hex in:\n%.600s", out)
	}
}

// BenchmarkLiteral renders a 64-byte text value per charset rule (bytes of input per second).
func BenchmarkLiteral(b *testing.B) {
	for _, tc := range []struct {
		name string
		coll uint64
		text []byte
	}{
		{"utf8mb4", collUtf8mb4, []byte(strings.Repeat("abcdé 한국", 5))},
		{"latin1", collLatin1, []byte(strings.Repeat("abc\xe9\xe8 xyz", 8))},
		{"euckr", collEuckr, []byte(strings.Repeat("ab\xc7\xd1\xb1\xb9 ", 9))},
		{"utf16", collUtf16, []byte(strings.Repeat("\x00a\xd5\x5c", 16))},
		{"binary", binaryCollation, []byte(strings.Repeat("\x00\x01\xff\x7f", 16))},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := binlog.Column{Collation: tc.coll}
			v := binlog.Value{Kind: binlog.ValString, Text: tc.text}
			multiTable("euckr")
			var buf []byte
			b.SetBytes(int64(len(tc.text)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				buf = appendLiteral(buf[:0], &c, &v, 0)
			}
		})
	}
}
