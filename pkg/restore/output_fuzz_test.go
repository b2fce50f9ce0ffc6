package restore

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
	"github.com/pitr-tool/pitr/pkg/binlog"
)

// FuzzRenderedOutput writes a transaction whose every field comes from the fuzzer (file name,
// GTID, header line, DDL text, database, table and column names, values) and parses the whole
// output with the TiDB parser, an independent reader of the SQL: it must hold exactly the
// statements pitr meant, in order, whatever the fields hold. DDL text that verbatim refuses is
// left out (the run stops there), as is DDL the TiDB parser cannot read on its own.
func FuzzRenderedOutput(f *testing.F) {
	f.Add("mysql-bin.000001", "0-1-2", "binlogs: mysql-bin.000001", "CREATE TABLE t (a INT) -- trailing", "db", "t", "c", "v", []byte{0, 1})
	f.Add("a\nDROP DATABASE x;\n-- b", "0-1-2\n;", "h\r\n", "ALTER TABLE t COMMENT 'a;b' # c", "d`b", "t;x", "c'c", "it's\\", []byte("\n;"))
	f.Add("x*/y", "", "/* h", "CREATE TABLE t (a INT) /* c ; */", "d", "t", "c", "\u2028", []byte{0xff})
	f.Add("f", "g", "h", "CREATE TABLE t (a INT) COMMENT 'x\\';'", "d", "t", "c", "--", []byte("*/"))
	f.Fuzz(func(t *testing.T, file, gtid, header, ddl, db, table, col, val string, blob []byte) {
		for _, name := range []string{db, table, col} {
			// Names a server accepts: MariaDB refuses these, and so does the TiDB parser.
			if name == "" || len(name) > 64 || strings.HasSuffix(name, " ") || !utf8.ValidString(name) || strings.ContainsRune(name, 0) {
				return
			}
		}
		if col == "b" {
			return
		}
		p := parser.New()
		ddlText, err := verbatim([]byte(ddl))
		var want []ast.StmtNode
		if err == nil {
			want, _, err = p.Parse(ddl, "", "")
			if err != nil || len(want) != 1 {
				ddlText = nil
			}
		} else {
			ddlText = nil
		}

		var out bytes.Buffer
		ctx := context.Background()
		w := NewSQLWriter(&out, header, "second "+header)
		w.CheckRows = true
		session := SessionStatements()
		w.Session(ctx, session)
		w.Begin(ctx, TxnInfo{Start: binlog.Position{File: file, Offset: 4}, End: binlog.Position{File: file, Offset: 99}, GTID: gtid})
		w.Note(header)
		if ddlText != nil {
			w.Write(ctx, ddlText)
		}
		tm := &binlog.TableMap{Schema: db, Table: table, HasNames: true, PrimaryKey: []int{0},
			Columns: []binlog.Column{{Name: col, Type: 15, Collation: 45}, {Name: "b", Type: 252, Collation: 63}}}
		r := NewRenderer(w, RenderOptions{Batch: 1, MaxPacket: 1 << 20})
		rowErr := r.Row(ctx, binlog.Insert, tm, nil, []binlog.Value{{Kind: binlog.ValString, Text: []byte(val)}, {Kind: binlog.ValString, Text: blob}})
		if rowErr == nil {
			rowErr = r.Flush(ctx)
		}
		w.Commit(ctx, TxnSummary{Inserts: 1})
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}

		// A parser reuses its nodes on the next Parse: the output gets one of its own.
		got, _, err := parser.New().Parse(out.String(), "", "")
		if err != nil {
			t.Fatalf("the output does not parse: %v\n%s", err, out.String())
		}
		n := len(session) + 1 + len(want) + 1 // session, BEGIN, the DDL, COMMIT
		if ddlText == nil {
			n -= len(want)
		}
		if rowErr == nil {
			n += 2 // the INSERT and its row check
		}
		if len(got) != n {
			t.Fatalf("the output holds %d statements, pitr wrote %d:\n%s", len(got), n, out.String())
		}
		i := len(session)
		if _, ok := got[i].(*ast.BeginStmt); !ok {
			t.Fatalf("statement %d is %s, want BEGIN:\n%s", i, restoreSQL(t, got[i]), out.String())
		}
		i++
		if ddlText != nil {
			if g, w := restoreSQL(t, got[i]), restoreSQL(t, want[0]); g != w {
				t.Fatalf("the DDL reads as\n%s\nnot\n%s\nin:\n%s", g, w, out.String())
			}
			i++
		}
		if rowErr == nil {
			ins, ok := got[i].(*ast.InsertStmt)
			if !ok {
				t.Fatalf("statement %d is %s, want the INSERT:\n%s", i, restoreSQL(t, got[i]), out.String())
			}
			tn := ins.Table.TableRefs.Left.(*ast.TableSource).Source.(*ast.TableName)
			if tn.Schema.O != db || tn.Name.O != table {
				t.Fatalf("the INSERT goes into %q.%q, not %q.%q:\n%s", tn.Schema.O, tn.Name.O, db, table, out.String())
			}
			if len(ins.Lists) != 1 || len(ins.Lists[0]) != 2 {
				t.Fatalf("the INSERT holds %d rows:\n%s", len(ins.Lists), out.String())
			}
			for k, want := range []string{val, string(blob)} {
				if v, ok := ins.Lists[0][k].(*test_driver.ValueExpr); ok && v.Datum.GetString() != want {
					t.Fatalf("value %d reads as %q, not %q:\n%s", k, v.Datum.GetString(), want, out.String())
				}
			}
			i++
			if _, ok := got[i].(*ast.SetStmt); !ok {
				t.Fatalf("statement %d is %s, want the row check:\n%s", i, restoreSQL(t, got[i]), out.String())
			}
			i++
		}
		if _, ok := got[i].(*ast.CommitStmt); !ok {
			t.Fatalf("statement %d is %s, want COMMIT:\n%s", i, restoreSQL(t, got[i]), out.String())
		}
	})
}

func restoreSQL(t *testing.T, n ast.Node) string {
	var b strings.Builder
	if err := n.Restore(format.NewRestoreCtx(format.DefaultRestoreFlags, &b)); err != nil {
		t.Fatalf("restore: %v", err)
	}
	return b.String()
}
