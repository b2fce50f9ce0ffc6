package restore

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// stmtTables is what a logged statement writes and reads, as far as the parser can tell.
type stmtTables struct {
	writes, reads []tableRef
	unknown       string // why the tables it changes cannot be known; "" when they can
	nondet        []string
}

// tablesOf parses a logged statement for the tables it writes (INSERT, REPLACE, UPDATE and
// DELETE, single- and multi-table, LOAD DATA) and the tables it reads. A statement the parser
// cannot read, one calling stored routines, and any other kind of statement have unknown targets.
func (d *ddlParser) tablesOf(schema string, stmt []byte) *stmtTables {
	st := &stmtTables{}
	node, err := d.p.ParseOneStmt(string(bytes.TrimSpace(stripLeadingComments(stmt))), "", "")
	if err != nil {
		st.unknown = "the parser cannot read it (" + firstLine(err.Error()) + ")"
		return st
	}
	ref := func(t *ast.TableName) tableRef {
		db := t.Schema.O
		if db == "" {
			db = schema
		}
		return tableRef{DB: db, Table: t.Name.O}
	}
	c := &tableCollector{}
	node.Accept(c)
	seen := map[tableRef]bool{}
	for _, t := range c.tables {
		if t.Schema.O == "" && c.ctes[strings.ToLower(t.Name.O)] || seen[ref(t)] {
			continue
		}
		seen[ref(t)] = true
		st.reads = append(st.reads, ref(t))
	}
	slices.SortFunc(st.reads, func(a, b tableRef) int { return strings.Compare(a.DB+"."+a.Table, b.DB+"."+b.Table) })
	if c.routine != "" {
		st.unknown = "it calls " + c.routine + ", which may change any table"
	}
	st.nondet = c.nondet
	// aliases maps the names a multi-table statement uses for its tables.
	aliases := map[string]tableRef{}
	var from []tableRef
	var collectFrom func(n ast.ResultSetNode)
	collectFrom = func(n ast.ResultSetNode) {
		switch x := n.(type) {
		case *ast.Join:
			if x.Left != nil {
				collectFrom(x.Left)
			}
			if x.Right != nil {
				collectFrom(x.Right)
			}
		case *ast.TableSource:
			if tn, ok := x.Source.(*ast.TableName); ok {
				r := ref(tn)
				from = append(from, r)
				name := tn.Name.L
				if x.AsName.L != "" {
					name = x.AsName.L
				}
				aliases[name] = r
				aliases[strings.ToLower(r.DB)+"."+strings.ToLower(r.Table)] = r
			}
		}
	}
	switch n := node.(type) {
	case *ast.InsertStmt:
		collectFrom(n.Table.TableRefs)
		st.writes = from
		if n.Select == nil && !n.Setlist && len(n.Lists) == 0 {
			st.unknown = "it inserts nothing pitr can see"
		}
	case *ast.UpdateStmt:
		collectFrom(n.TableRefs.TableRefs)
		if len(from) == 1 {
			st.writes = from
			break
		}
		for _, a := range n.List {
			q := a.Column.Table.L
			if a.Column.Schema.L != "" {
				q = a.Column.Schema.L + "." + q
			}
			r, ok := aliases[q]
			if !ok {
				st.unknown = "a multi-table UPDATE sets column " + a.Column.Name.O + " without naming its table"
				st.writes = from
				break
			}
			st.writes = append(st.writes, r)
		}
	case *ast.DeleteStmt:
		collectFrom(n.TableRefs.TableRefs)
		if !n.IsMultiTable {
			st.writes = from
			break
		}
		for _, t := range n.Tables.Tables {
			q := t.Name.L
			if t.Schema.L != "" {
				q = t.Schema.L + "." + q
			}
			r, ok := aliases[q]
			if !ok {
				r = ref(t)
			}
			st.writes = append(st.writes, r)
		}
	case *ast.LoadDataStmt:
		st.writes = []tableRef{ref(n.Table)}
	default:
		st.unknown = fmt.Sprintf("pitr does not know which tables a %s changes", stmtKind(node))
	}
	return st
}

func stmtKind(n ast.StmtNode) string {
	s := fmt.Sprintf("%T", n)
	s = strings.TrimPrefix(s, "*ast.")
	return strings.TrimSuffix(s, "Stmt") + " statement"
}

// tableCollector gathers every table a statement names, the names of its common table
// expressions, stored routine calls and functions whose result differs between runs.
type tableCollector struct {
	tables  []*ast.TableName
	ctes    map[string]bool
	routine string
	nondet  []string
}

func (c *tableCollector) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.DeleteTableList:
		// The tables a multi-table DELETE deletes from, by the names its FROM gives them.
		return n, true
	case *ast.TableName:
		c.tables = append(c.tables, x)
	case *ast.WithClause:
		for _, cte := range x.CTEs {
			if c.ctes == nil {
				c.ctes = map[string]bool{}
			}
			c.ctes[cte.Name.L] = true
		}
	case *ast.SelectStmt:
		if x.Limit != nil && x.OrderBy == nil && x.From != nil {
			c.nondet = append(c.nondet, "LIMIT without ORDER BY")
		}
	case *ast.UpdateStmt:
		if x.Limit != nil && x.Order == nil {
			c.nondet = append(c.nondet, "LIMIT without ORDER BY")
		}
	case *ast.DeleteStmt:
		if x.Limit != nil && x.Order == nil {
			c.nondet = append(c.nondet, "LIMIT without ORDER BY")
		}
	case *ast.CallStmt:
		c.routine = "procedure " + x.Procedure.FnName.O
	case *ast.FuncCallExpr:
		name := x.FnName.L
		if x.Schema.L != "" || !builtinFunctions[name] && !strings.HasPrefix(name, "st_") {
			c.routine = "stored function " + x.FnName.O
			break
		}
		switch name {
		case "uuid", "uuid_short", "sysdate", "found_rows", "row_count", "user",
			"current_user", "session_user", "system_user", "version", "load_file",
			"get_lock", "release_lock", "is_free_lock", "is_used_lock", "master_pos_wait", "sleep", "benchmark",
			"random_bytes", "uuid_to_bin", "sys_guid":
			c.nondet = append(c.nondet, strings.ToUpper(name)+"()")
		}
	}
	return n, false
}

func (c *tableCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }
