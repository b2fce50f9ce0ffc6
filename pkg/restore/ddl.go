package restore

import (
	"bytes"
	"path"
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // value expressions for the parser
)

// tableRef names a table; Table "*" stands for every table of the database.
type tableRef struct{ DB, Table string }

func (t tableRef) String() string {
	if t.Table == "*" {
		return "database `" + t.DB + "`"
	}
	return "`" + t.DB + "`.`" + t.Table + "`"
}

// removal is a statement that takes tables away: DROP TABLE, TRUNCATE, DROP DATABASE, or a
// rename of the table to another name.
type removal struct {
	Verb   string // "DROP TABLE", "DROP SEQUENCE", "CREATE OR REPLACE", "TRUNCATE TABLE", "DROP DATABASE", "RENAME TABLE", "ALTER TABLE ... RENAME", "ALTER TABLE"
	Tables []tableRef
	Keeps  bool // the tables stay (ALTER TABLE without RENAME): reported by find, no reason to stop
}

// ddlParser classifies statement events. The TiDB parser reads MySQL syntax; a statement it
// cannot read is only an error when it may take a table away, since guessing there could replay
// past the mistake.
type ddlParser struct{ p *parser.Parser }

func newDDLParser() *ddlParser { return &ddlParser{p: newParser()} }

// removal returns what stmt takes away, with unqualified names in schema; nil if nothing.
func (d *ddlParser) removal(schema string, stmt []byte) (*removal, error) {
	ch, err := d.change(schema, stmt)
	if err != nil {
		return nil, err
	}
	return removalOf(ch), nil
}

// removalOf returns what a parsed statement takes away; nil if nothing.
func removalOf(ch *ddlChange) *removal {
	if ch == nil {
		return nil
	}
	switch n := ch.node.(type) {
	case *ast.DropTableStmt:
		return &removal{Verb: "DROP TABLE", Tables: ch.touches}
	case *ast.DropSequenceStmt:
		return &removal{Verb: "DROP SEQUENCE", Tables: ch.touches}
	case *ast.CreateTableStmt, *ast.CreateSequenceStmt:
		if ch.prep != nil && ch.prep.replace {
			return &removal{Verb: "CREATE OR REPLACE", Tables: ch.touches}
		}
	case *ast.TruncateTableStmt:
		return &removal{Verb: "TRUNCATE TABLE", Tables: ch.touches}
	case *ast.DropDatabaseStmt:
		return &removal{Verb: "DROP DATABASE", Tables: ch.touches}
	case *ast.RenameTableStmt:
		r := &removal{Verb: "RENAME TABLE"}
		for i := 0; i < len(ch.touches); i += 2 { // old, new, old, new...
			r.Tables = append(r.Tables, ch.touches[i])
		}
		return r
	case *ast.AlterTableStmt:
		for _, spec := range n.Specs {
			if spec.Tp == ast.AlterTableRenameTable {
				return &removal{Verb: "ALTER TABLE ... RENAME", Tables: ch.touches[:1]}
			}
		}
		return &removal{Verb: "ALTER TABLE", Tables: ch.touches[:1], Keeps: true}
	}
	return nil
}

// stripLeadingComments drops /* ... */ and -- comments before the first keyword; MariaDB
// prefixes some statements it writes with them.
func stripLeadingComments(s []byte) []byte {
	for {
		s = bytes.TrimLeft(s, " \t\r\n")
		switch {
		case bytes.HasPrefix(s, []byte("/*")) && !bytes.HasPrefix(s, []byte("/*!")):
			i := bytes.Index(s, []byte("*/"))
			if i < 0 {
				return s
			}
			s = s[i+2:]
		case bytes.HasPrefix(s, []byte("-- ")), bytes.HasPrefix(s, []byte("#")):
			i := bytes.IndexByte(s, '\n')
			if i < 0 {
				return nil
			}
			s = s[i+1:]
		default:
			return s
		}
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// keepsAny reports whether the filter keeps the table, or for a database ("*") any table of it.
func (f *Filter) keepsAny(t tableRef) bool {
	if t.Table != "*" {
		return f == nil || f.keep(t.DB, t.Table)
	}
	if f == nil || len(f.Databases) == 0 && len(f.Tables) == 0 {
		return true
	}
	for _, p := range f.Databases {
		if ok, _ := path.Match(p, t.DB); ok {
			return true
		}
	}
	for _, p := range f.Tables {
		db, _, _ := strings.Cut(p, ".")
		if ok, _ := path.Match(db, t.DB); ok {
			return true
		}
	}
	return false
}
