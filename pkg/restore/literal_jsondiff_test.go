package restore

import (
	"context"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

func diffValue(diffs ...[3]string) binlog.Value {
	var text []byte
	for _, d := range diffs {
		var op binlog.JSONDiffOp
		switch d[0] {
		case "replace":
			op = binlog.JSONReplace
		case "insert":
			op = binlog.JSONInsert
		case "remove":
			op = binlog.JSONRemove
		}
		text = binlog.AppendJSONDiff(text, op, []byte(d[1]), []byte(d[2]))
	}
	return binlog.Value{Kind: binlog.ValJSONDiff, Text: text}
}

// TestRenderJSONDiff: a partial JSON update sets the column to its diffs applied in logged
// order, values cast to JSON so that scalars keep their JSON type.
func TestRenderJSONDiff(t *testing.T) {
	c := &binlog.Column{Name: "j`", Type: 245}
	cases := []struct {
		name string
		v    binlog.Value
		want string
	}{
		{"replace an int", diffValue([3]string{"replace", "$.age", "26"}), "JSON_REPLACE(`j```, '$.age', CAST('26' AS JSON))"},
		{"replace a double", diffValue([3]string{"replace", "$.f", "1.5"}), "JSON_REPLACE(`j```, '$.f', CAST('1.5' AS JSON))"},
		{"replace a string with quotes", diffValue([3]string{"replace", "$.s", `"it's \"x\""`}),
			`JSON_REPLACE(` + "`j```" + `, '$.s', CAST('\"it\'s \\\"x\\\"\"' AS JSON))`},
		{"insert a member true", diffValue([3]string{"insert", "$.t", "true"}), "JSON_INSERT(`j```, '$.t', CAST('true' AS JSON))"},
		{"insert false into an array", diffValue([3]string{"insert", "$.a[2]", "false"}), "JSON_ARRAY_INSERT(`j```, '$.a[2]', CAST('false' AS JSON))"},
		{"insert null", diffValue([3]string{"insert", "$.z", "null"}), "JSON_INSERT(`j```, '$.z', CAST('null' AS JSON))"},
		{"replace with an object at a nested path", diffValue([3]string{"replace", "$.a.b[0].c", `{"k": 1}`}),
			"JSON_REPLACE(`j```, '$.a.b[0].c', CAST('{\\\"k\\\": 1}' AS JSON))"},
		{"replace with an array", diffValue([3]string{"replace", "$[0]", `[1, "a"]`}), "JSON_REPLACE(`j```, '$[0]', CAST('[1, \\\"a\\\"]' AS JSON))"},
		{"remove a quoted key", diffValue([3]string{"remove", `$."it's"`, ""}), "JSON_REMOVE(`j```, '$.\\\"it\\'s\\\"')"},
		{"a key ending in ] is a member", diffValue([3]string{"insert", `$."a]"`, "1"}), "JSON_INSERT(`j```, '$.\\\"a]\\\"', CAST('1' AS JSON))"},
		{"several, the first innermost", diffValue([3]string{"remove", "$[0]", ""}, [3]string{"insert", "$.k", "1"}, [3]string{"replace", "$.m", "2"}),
			"JSON_REPLACE(JSON_INSERT(JSON_REMOVE(`j```, '$[0]'), '$.k', CAST('1' AS JSON)), '$.m', CAST('2' AS JSON))"},
		{"no diffs leave the column as it is", diffValue(), "`j```"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(appendLiteral(nil, c, &tc.v, 0)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestRenderPartialJSONUpdate: the UPDATE of a partial JSON row sets the diffed column from
// itself and finds the row by the before image, here MINIMAL (the key only).
func TestRenderPartialJSONUpdate(t *testing.T) {
	tbl := &binlog.TableMap{Schema: "db", Table: "t", HasNames: true, PrimaryKey: []int{0},
		Columns: []binlog.Column{{Name: "id", Type: 3}, {Name: "j", Type: 245}, {Name: "age", Type: 3}}}
	absent := binlog.Value{Kind: binlog.ValAbsent}
	before := []binlog.Value{{Kind: binlog.ValInt, Text: []byte("1")}, absent, absent}
	after := []binlog.Value{absent, diffValue([3]string{"replace", "$.age", "26"}), {Kind: binlog.ValInt, Text: []byte("26")}}
	want := "UPDATE `db`.`t` SET `j`=JSON_REPLACE(`j`, '$.age', CAST('26' AS JSON)), `age`=26 WHERE `id`=1 LIMIT 1"
	for _, batch := range []int{0, 100} {
		s := &recordSink{}
		r := NewRenderer(s, RenderOptions{Batch: batch})
		ctx := context.Background()
		if err := r.Row(ctx, binlog.Update, tbl, before, after); err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if len(s.stmts) != 1 || s.stmts[0] != want {
			t.Errorf("batch %d: got  %q\nwant %q", batch, s.stmts, want)
		}
	}
}

// TestPartialJSONNotAKey: a diff never finds a row. A WHERE built from an image holding one
// (a flashback's after image) fails, and a flashback refuses the row up front.
func TestPartialJSONNotAKey(t *testing.T) {
	tbl := &binlog.TableMap{Schema: "db", Table: "t", HasNames: true,
		Columns: []binlog.Column{{Name: "id", Type: 3}, {Name: "j", Type: 245}}}
	img := []binlog.Value{{Kind: binlog.ValInt, Text: []byte("1")}, diffValue([3]string{"replace", "$.a", "1"})}
	if _, err := appendWhere(nil, tbl, img, 0, false); err == nil || !strings.Contains(err.Error(), "PARTIAL_JSON") {
		t.Errorf("WHERE from a diff: %v", err)
	}
	if _, err := flashbackImages(tbl, binlog.Update, img, img); err == nil || !strings.Contains(err.Error(), "PARTIAL_JSON") {
		t.Errorf("flashback of a partial update: %v", err)
	}
}
