package binlog

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Binary JSON values written by hand from the format (sql-common/json_binary.h).
var (
	jbInt16  = []byte{jsonInt16, 0xfb, 0xff}             // -5
	jbInt32  = []byte{jsonInt32, 0x40, 0x42, 0x0f, 0x00} // 1000000
	jbUint64 = []byte{jsonUint64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	jbDouble = append([]byte{jsonDouble}, binary.LittleEndian.AppendUint64(nil, math.Float64bits(1.5))...)
	jbString = []byte{jsonString, 5, 'i', 't', '\'', 's', '"'}
	jbTrue   = []byte{jsonLiteral, jsonTrueLiteral}
	jbFalse  = []byte{jsonLiteral, jsonFalseLiteral}
	jbNull   = []byte{jsonLiteral, jsonNullLiteral}
	// [1, "a"]: count 2, size 12, entries (int16 1 inlined; string at offset 10), then the string.
	jbArray = []byte{jsonSmallArray, 2, 0, 12, 0, jsonInt16, 1, 0, jsonString, 10, 0, 1, 'a'}
	// {"k": 1}: count 1, size 12, key entry (offset 11, length 1), value entry (int16 1), key.
	jbObject = []byte{jsonSmallObject, 1, 0, 12, 0, 11, 0, 1, 0, jsonInt16, 1, 0, 'k'}
)

// rawDiff is one diff as the server writes it (Json_diff_vector::write_binary()).
func rawDiff(op byte, path string, value []byte) []byte {
	b := append([]byte{op}, mysql.PutLengthEncodedInt(uint64(len(path)))...)
	b = append(b, path...)
	if op == byte(JSONRemove) {
		return b
	}
	b = append(b, mysql.PutLengthEncodedInt(uint64(len(value)))...)
	return append(b, value...)
}

// jsonDiffCell is a partial JSON column's cell: a 4-byte length, then the diffs.
func jsonDiffCell(diffs ...[]byte) []byte {
	var body []byte
	for _, d := range diffs {
		body = append(body, d...)
	}
	return append(binary.LittleEndian.AppendUint32(nil, uint32(len(body))), body...)
}

type wantDiff struct {
	op          JSONDiffOp
	path, value string
}

func readDiffs(text []byte) []wantDiff {
	var out []wantDiff
	for {
		op, path, value, rest, ok := NextJSONDiff(text)
		if !ok {
			return out
		}
		out = append(out, wantDiff{op, string(path), string(value)})
		text = rest
	}
}

func TestJSONDiffs(t *testing.T) {
	longPath := "$." + strings.Repeat("k", 300) // a path length of 3 packed bytes (0xfc)
	cases := []struct {
		name string
		cell []byte
		want []wantDiff
	}{
		{"replace with an int16", jsonDiffCell(rawDiff(0, "$.age", jbInt16)), []wantDiff{{JSONReplace, "$.age", "-5"}}},
		{"replace with an int32", jsonDiffCell(rawDiff(0, "$.n", jbInt32)), []wantDiff{{JSONReplace, "$.n", "1000000"}}},
		{"replace with a uint64", jsonDiffCell(rawDiff(0, "$.n", jbUint64)), []wantDiff{{JSONReplace, "$.n", "18446744073709551615"}}},
		{"replace with a double", jsonDiffCell(rawDiff(0, "$.f", jbDouble)), []wantDiff{{JSONReplace, "$.f", "1.5"}}},
		{"replace with a string", jsonDiffCell(rawDiff(0, "$.s", jbString)), []wantDiff{{JSONReplace, "$.s", `"it's\""`}}},
		{"insert true", jsonDiffCell(rawDiff(1, "$.t", jbTrue)), []wantDiff{{JSONInsert, "$.t", "true"}}},
		{"insert false", jsonDiffCell(rawDiff(1, "$.f", jbFalse)), []wantDiff{{JSONInsert, "$.f", "false"}}},
		{"insert null", jsonDiffCell(rawDiff(1, "$.z", jbNull)), []wantDiff{{JSONInsert, "$.z", "null"}}},
		{"insert an array into an array", jsonDiffCell(rawDiff(1, "$.a[2]", jbArray)), []wantDiff{{JSONInsert, "$.a[2]", `[1, "a"]`}}},
		{"replace with an object at a nested path", jsonDiffCell(rawDiff(0, "$.a.b[0].c", jbObject)), []wantDiff{{JSONReplace, "$.a.b[0].c", `{"k": 1}`}}},
		{"remove a quoted key", jsonDiffCell(rawDiff(2, `$."a b".c`, nil)), []wantDiff{{JSONRemove, `$."a b".c`, ""}}},
		{"a long path", jsonDiffCell(rawDiff(0, longPath, jbTrue)), []wantDiff{{JSONReplace, longPath, "true"}}},
		{"several diffs, in order", jsonDiffCell(rawDiff(2, "$[0]", nil), rawDiff(1, "$[5]", jbNull), rawDiff(0, "$[1]", jbString)),
			[]wantDiff{{JSONRemove, "$[0]", ""}, {JSONInsert, "$[5]", "null"}, {JSONReplace, "$[1]", `"it's\""`}}},
		{"no diffs", jsonDiffCell(), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &Rows{Table: &TableMap{Schema: "db", Table: "t"}}
			data := append(append([]byte{}, tc.cell...), 0xaa) // a byte of the next column
			v, n, err := r.jsonDiffs(&Column{Type: mysql.MYSQL_TYPE_JSON, lenBytes: 4}, data)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(tc.cell) || v.Kind != ValJSONDiff {
				t.Fatalf("read %d bytes (want %d), kind %v", n, len(tc.cell), v.Kind)
			}
			got := readDiffs(v.Text)
			if len(got) != len(tc.want) {
				t.Fatalf("diffs %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("diff %d: %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestJSONDiffsCorrupt(t *testing.T) {
	cases := []struct {
		name string
		cell []byte
		want error
	}{
		{"unknown operation", jsonDiffCell(rawDiff(3, "$.a", jbTrue)), ErrCorrupt},
		{"path cut short", jsonDiffCell([]byte{0, 10, '$', '.'}), ErrCorrupt},
		{"path without $", jsonDiffCell(rawDiff(0, "a", jbTrue)), ErrCorrupt},
		{"value cut short", jsonDiffCell(rawDiff(0, "$.a", jbTrue)[:6]), ErrCorrupt},
		{"empty value", jsonDiffCell(rawDiff(0, "$.a", nil)), ErrCorrupt},
		{"bad JSON value", jsonDiffCell(rawDiff(0, "$.a", []byte{0x33, 1})), errBadValue},
		{"length beyond the row", jsonDiffCell(rawDiff(0, "$.a", jbTrue))[:8], ErrCorrupt},
		{"length cut short", []byte{1, 0}, ErrCorrupt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &Rows{Table: &TableMap{Schema: "db", Table: "t"}}
			_, _, err := r.jsonDiffs(&Column{Type: mysql.MYSQL_TYPE_JSON, lenBytes: 4}, tc.cell)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

// TestPartialUpdateRow decodes a whole PARTIAL_UPDATE_ROWS_EVENT row: the before image, the
// value options with the partial bitmap (one bit per JSON column of the table, in the image or
// not), then an after image where only the flagged JSON column holds diffs.
func TestPartialUpdateRow(t *testing.T) {
	// id INT, a JSON (not in the after image), b JSON (partial), c JSON (full)
	tm := &TableMap{Schema: "db", Table: "t", Columns: []Column{
		{Name: "id", Type: mysql.MYSQL_TYPE_LONG, lenBytes: 0},
		{Name: "a", Type: mysql.MYSQL_TYPE_JSON, lenBytes: 4},
		{Name: "b", Type: mysql.MYSQL_TYPE_JSON, lenBytes: 4},
		{Name: "c", Type: mysql.MYSQL_TYPE_JSON, lenBytes: 4},
	}}
	full := func(v []byte) []byte { return append(binary.LittleEndian.AppendUint32(nil, uint32(len(v))), v...) }
	var row []byte
	row = append(row, 0)          // before image: null bitmap (only id)
	row = append(row, 7, 0, 0, 0) // id 7
	row = append(row, 0x01)       // value options: PARTIAL_JSON
	row = append(row, 0b010)      // partial bits: a no, b yes, c no
	row = append(row, 0)          // after image: null bitmap (b, c)
	row = append(row, jsonDiffCell(rawDiff(0, "$.x", jbTrue), rawDiff(2, "$.y", nil))...)
	row = append(row, full(jbArray)...)
	r := &Rows{Kind: Update, Table: tm, Present1: []byte{0b0001}, Present2: []byte{0b1100}, partial: true, data: row}
	before, after, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if before[0].Kind != ValInt || string(before[0].Text) != "7" {
		t.Errorf("before id %v %q", before[0].Kind, before[0].Text)
	}
	if after[0].Kind != ValAbsent || after[1].Kind != ValAbsent {
		t.Errorf("after id, a: %v %v, want absent", after[0].Kind, after[1].Kind)
	}
	if after[2].Kind != ValJSONDiff {
		t.Fatalf("after b: %v, want a diff", after[2].Kind)
	}
	if got := readDiffs(after[2].Text); len(got) != 2 || got[0] != (wantDiff{JSONReplace, "$.x", "true"}) || got[1] != (wantDiff{JSONRemove, "$.y", ""}) {
		t.Errorf("after b diffs %v", got)
	}
	if after[3].Kind != ValJSON || string(after[3].Text) != `[1, "a"]` {
		t.Errorf("after c: %v %q", after[3].Kind, after[3].Text)
	}
	if r.More() {
		t.Errorf("%d bytes left", len(r.data))
	}

	// Without PARTIAL_JSON in the value options there is no bitmap and every column is full.
	row = []byte{0, 7, 0, 0, 0, 0x00, 0}
	row = append(row, full(jbTrue)...)
	row = append(row, full(jbNull)...)
	r = &Rows{Kind: Update, Table: tm, Present1: []byte{0b0001}, Present2: []byte{0b1100}, partial: true, data: row}
	if _, after, err = r.Next(); err != nil {
		t.Fatal(err)
	}
	if after[2].Kind != ValJSON || string(after[2].Text) != "true" || after[3].Kind != ValJSON || string(after[3].Text) != "null" {
		t.Errorf("after b, c: %v %q, %v %q", after[2].Kind, after[2].Text, after[3].Kind, after[3].Text)
	}

	for name, row := range map[string][]byte{
		"value options cut short":  {0, 7, 0, 0, 0},
		"partial bitmap cut short": {0, 7, 0, 0, 0, 0x01},
		"unknown value option":     {0, 7, 0, 0, 0, 0x02, 0},
	} {
		r = &Rows{Kind: Update, Table: tm, Present1: []byte{0b0001}, Present2: []byte{0b1100}, partial: true, data: row}
		if _, _, err := r.Next(); !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: err %v", name, err)
		}
	}
}
