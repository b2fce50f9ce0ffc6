package restore

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// ddlChange is a statement that changes tables: which ones, and the parsed statement for the
// catalog.
type ddlChange struct {
	node    ast.StmtNode
	prep    *preparedDDL // the text the parser read, and what rewriting it took out
	schema  string       // the statement's default database
	sql     []byte       // the statement as logged, trimmed
	touches []tableRef   // tables whose rows or definition it changes; Table "*" for a database
}

// looksLikeDDL matches statements that change tables or databases, so that one the parser cannot
// read is never mistaken for one that changes nothing.
var looksLikeDDL = regexp.MustCompile(`(?is)^(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMPORARY\s+)?(?:TABLE|SEQUENCE|DATABASE|SCHEMA|(?:UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?INDEX)|ALTER\s+(?:ONLINE\s+|IGNORE\s+)*TABLE|ALTER\s+(?:DATABASE|SCHEMA)|DROP\s+(?:TEMPORARY\s+)?(?:TABLE|SEQUENCE|DATABASE|SCHEMA|INDEX)|RENAME\s+TABLES?|TRUNCATE)\b`)

var alterDatabase = regexp.MustCompile(`(?is)^ALTER\s+(?:DATABASE|SCHEMA)\b`)

// change parses a statement event. It returns nil for statements that change no table. For a
// statement that looks like DDL but that the parser cannot read it returns an error.
func (d *ddlParser) change(schema string, stmt []byte) (*ddlChange, error) {
	s := string(bytes.TrimSpace(stripLeadingComments(stmt)))
	if !looksLikeDDL.MatchString(s) {
		return nil, nil
	}
	node, prep, err := parseDDL(d.p, s)
	if err != nil && alterDatabase.MatchString(s) {
		return nil, nil // the forms the parser cannot read (UPGRADE DATA DIRECTORY NAME) change no charset
	}
	if err != nil {
		return nil, fmt.Errorf("cannot parse DDL (%v): %s", redactError(firstLine(err.Error()), stmt), truncate(bytes.TrimSpace(stmt), 200))
	}
	ch := &ddlChange{node: node, prep: prep, schema: schema, sql: bytes.TrimSpace(stmt)}
	ref := func(t *ast.TableName) tableRef {
		db := t.Schema.O
		if db == "" {
			db = schema
		}
		return tableRef{DB: db, Table: t.Name.O}
	}
	switch n := node.(type) {
	case *ast.CreateTableStmt:
		if n.TemporaryKeyword != ast.TemporaryNone {
			return nil, nil
		}
		ch.touches = []tableRef{ref(n.Table)}
	case *ast.AlterTableStmt:
		ch.touches = []tableRef{ref(n.Table)}
		for _, spec := range n.Specs {
			if spec.Tp == ast.AlterTableRenameTable && spec.NewTable != nil {
				ch.touches = append(ch.touches, ref(spec.NewTable))
			}
		}
	case *ast.DropTableStmt:
		if n.IsView || n.TemporaryKeyword != ast.TemporaryNone {
			return nil, nil
		}
		for _, t := range n.Tables {
			ch.touches = append(ch.touches, ref(t))
		}
	case *ast.RenameTableStmt:
		for _, tt := range n.TableToTables {
			ch.touches = append(ch.touches, ref(tt.OldTable), ref(tt.NewTable))
		}
	case *ast.TruncateTableStmt:
		ch.touches = []tableRef{ref(n.Table)}
	case *ast.CreateIndexStmt:
		ch.touches = []tableRef{ref(n.Table)}
	case *ast.DropIndexStmt:
		ch.touches = []tableRef{ref(n.Table)}
	case *ast.CreateDatabaseStmt:
		ch.touches = []tableRef{{DB: n.Name.O, Table: "*"}}
	case *ast.CreateSequenceStmt:
		ch.touches = []tableRef{ref(n.Name)}
	case *ast.DropSequenceStmt:
		for _, t := range n.Sequences {
			ch.touches = append(ch.touches, ref(t))
		}
	case *ast.AlterDatabaseStmt:
		// Changes only the default of tables created later: tracked, not replayed.
	case *ast.DropDatabaseStmt:
		ch.touches = []tableRef{{DB: n.Name.O, Table: "*"}}
	default:
		return nil, nil
	}
	return ch, nil
}

// rewritten returns the statement with the tables the rewrite rules rename renamed, or nil when
// none is. The text is the parser's rendering of the statement, not the original bytes.
func (ch *ddlChange) rewritten(rw *Rewrite) ([]byte, error) {
	if rw == nil {
		return nil, nil
	}
	if ch.node == nil {
		return nil, fmt.Errorf("cannot rename the tables of %s: the parser cannot read it", truncate(ch.sql, 200))
	}
	v := &renameVisitor{rw: rw, schema: ch.schema}
	ch.node.Accept(v)
	if !v.changed {
		return nil, nil
	}
	if ch.prep != nil && ch.prep.changed {
		// The parser read a rewritten text (MariaDB types, defaults...): restoring it would
		// replay another statement than the one logged.
		return nil, fmt.Errorf("cannot rename the tables of %s: pitr reads it only rewritten, and would replay the rewrite", truncate(ch.sql, 200))
	}
	var sb strings.Builder
	if err := ch.node.Restore(format.NewRestoreCtx(format.DefaultRestoreFlags, &sb)); err != nil {
		return nil, fmt.Errorf("rewriting DDL: %w", err)
	}
	return []byte(sb.String()), nil
}

type renameVisitor struct {
	rw      *Rewrite
	schema  string
	changed bool
}

func (v *renameVisitor) Enter(n ast.Node) (ast.Node, bool) {
	switch d := n.(type) {
	case *ast.CreateDatabaseStmt:
		if to, ok := v.rw.dbs[d.Name.O]; ok {
			d.Name, v.changed = ast.NewCIStr(to), true
		}
		return n, true
	case *ast.DropDatabaseStmt:
		if to, ok := v.rw.dbs[d.Name.O]; ok {
			d.Name, v.changed = ast.NewCIStr(to), true
		}
		return n, true
	}
	t, ok := n.(*ast.TableName)
	if !ok {
		return n, false
	}
	db := t.Schema.O
	if db == "" {
		db = v.schema
	}
	ndb, ntable := v.rw.targetName(db, t.Name.O)
	if ndb != db || ntable != t.Name.O {
		t.Schema, t.Name = ast.NewCIStr(ndb), ast.NewCIStr(ntable)
		v.changed = true
	}
	return n, true
}

func (v *renameVisitor) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// apply updates the catalog chain for a DDL statement, so that later table maps are checked
// against the schema in force at their position.
func (c *Catalog) apply(ctx context.Context, ch *ddlChange) error {
	defer c.clearCaches()
	key := func(r tableRef) string { return r.DB + "." + r.Table }
	switch n := ch.node.(type) {
	case *ast.CreateTableStmt:
		r := ch.touches[0]
		switch {
		case n.ReferTable != nil:
			if def, err := c.lookupFetch(ctx, tableRef{DB: firstNonEmpty(n.ReferTable.Schema.O, ch.schema), Table: n.ReferTable.Name.O}); err != nil {
				return err
			} else if def != nil {
				c.tables[key(r)] = def.clone()
			}
		case n.Select != nil:
			c.forget(key(r)) // columns from a query: unknown here
		default:
			def, err := newTableDef(n, ch.prep, c.dbDefault(r.DB))
			if err != nil {
				return err
			}
			c.tables[key(r)] = def
		}
	case *ast.CreateSequenceStmt:
		c.tables[key(ch.touches[0])] = sequenceDef()
	case *ast.DropTableStmt, *ast.DropSequenceStmt:
		for _, r := range ch.touches {
			c.forget(key(r))
		}
	case *ast.RenameTableStmt:
		for i := 0; i+1 < len(ch.touches); i += 2 {
			if _, err := c.lookupFetch(ctx, ch.touches[i]); err != nil {
				return err
			}
			c.move(key(ch.touches[i]), key(ch.touches[i+1]))
		}
	case *ast.CreateDatabaseStmt:
		c.setDBDefault(n.Name.O, n.Options)
	case *ast.AlterDatabaseStmt:
		db := n.Name.O
		if n.AlterDefaultDatabase || db == "" {
			db = ch.schema
		}
		c.setDBDefault(db, n.Options)
	case *ast.DropDatabaseStmt:
		for cat := c; cat != nil; cat = cat.next {
			delete(cat.dbs, ch.touches[0].DB)
			for k := range cat.tables {
				if strings.HasPrefix(k, ch.touches[0].DB+".") {
					cat.tables[k] = nil
				}
			}
		}
	case *ast.AlterTableStmt:
		k := key(ch.touches[0])
		def, err := c.lookupFetch(ctx, ch.touches[0])
		if err != nil {
			return err
		}
		if def == nil {
			return nil // a table pitr has no definition of: nothing to keep up to date
		}
		def = def.clone()
		for _, spec := range n.Specs {
			if err := def.alter(spec, ch.prep, c.dbDefault(ch.touches[0].DB)); err != nil {
				return fmt.Errorf("ALTER TABLE %s: %w", k, err)
			}
		}
		switch {
		case ch.prep.versioning > 0:
			def.addSystemVersioning()
		case ch.prep.versioning < 0:
			def.dropSystemVersioning()
		}
		for _, v := range ch.prep.visibility {
			if i := def.index(v.column); i >= 0 {
				def.columns[i].invisible = v.invisible
			}
		}
		c.tables[k] = def
		if len(ch.touches) > 1 {
			c.move(k, key(ch.touches[len(ch.touches)-1]))
		}
	}
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// lookupFetch is lookup, asking a server-backed catalog for a table it has not read yet: the
// definition a DDL statement changes must be the one from before it.
func (c *Catalog) lookupFetch(ctx context.Context, r tableRef) (*tableDef, error) {
	key := r.DB + "." + r.Table
	for cat := c; cat != nil; cat = cat.next {
		if def, ok := cat.tables[key]; ok {
			return def, nil
		}
		if cat.fetch != nil {
			if err := cat.read(ctx, r.DB, r.Table); err != nil {
				return nil, err
			}
			if def := cat.tables[key]; def != nil {
				return def, nil
			}
		}
	}
	return nil, nil
}

func (c *Catalog) lookup(key string) *tableDef {
	for cat := c; cat != nil; cat = cat.next {
		if def, ok := cat.tables[key]; ok {
			return def
		}
	}
	return nil
}

// forget marks a table as gone in every catalog, so none answers for it with an old definition.
func (c *Catalog) forget(key string) {
	for cat := c; cat != nil; cat = cat.next {
		cat.tables[key] = nil
		delete(cat.bad, key)
	}
}

// alteredName finds the table an ALTER TABLE statement names, without the parser.
var alteredName = regexp.MustCompile("(?is)^\\s*ALTER\\s+(?:ONLINE\\s+|IGNORE\\s+)*TABLE\\s+(?:IF\\s+EXISTS\\s+)?(`(?:[^`]|``)+`|[\\w$]+)(?:\\s*\\.\\s*(`(?:[^`]|``)+`|[\\w$]+))?")

// unreadableDDL marks the table a CREATE or ALTER TABLE statement the parser cannot read
// changes, so that its rows are not read with the definition from before it.
func (c *Catalog) unreadableDDL(schema string, stmt []byte, err error) {
	s := string(stripLeadingComments(stmt))
	m := createdName.FindStringSubmatch(s)
	if m == nil {
		m = alteredName.FindStringSubmatch(s)
	}
	if m == nil {
		return
	}
	db, table := schema, unquoteName(m[1])
	if m[2] != "" {
		db, table = table, unquoteName(m[2])
	}
	c.unreadable(db+"."+table, err)
}

// unreadable records that a statement changed a table in a way pitr could not follow: rows of
// that table that need the catalogue are an error from here on, naming the statement.
func (c *Catalog) unreadable(key string, err error) {
	defer c.clearCaches()
	c.forget(key)
	c.markBad(key, err)
}

func (c *Catalog) move(from, to string) {
	def := c.lookup(from)
	c.forget(from)
	if def != nil {
		c.tables[to] = def
	} else {
		c.forget(to)
	}
}

func (c *Catalog) clearCaches() {
	for cat := c; cat != nil; cat = cat.next {
		cat.cache = map[*binlog.TableMap]*binlog.TableMap{}
	}
}

// alter applies one ALTER TABLE clause to the column list.
func (t *tableDef) alter(spec *ast.AlterTableSpec, prep *preparedDDL, db dbDefault) error {
	newColumn := func(col *ast.ColumnDef) columnDef {
		cd := newColumnDef(col, prep)
		t.defaultCharset(&cd)
		return cd
	}
	place := func(cd columnDef, pos *ast.ColumnPosition) error {
		at := len(t.columns)
		if pos != nil {
			switch pos.Tp {
			case ast.ColumnPositionFirst:
				at = 0
			case ast.ColumnPositionAfter:
				i := t.index(pos.RelativeColumn.Name.O)
				if i < 0 {
					return fmt.Errorf("AFTER %s: no such column", pos.RelativeColumn.Name.O)
				}
				at = i + 1
			}
		}
		t.columns = append(t.columns[:at], append([]columnDef{cd}, t.columns[at:]...)...)
		return nil
	}
	remove := func(name string) (int, error) {
		i := t.index(name)
		if i < 0 {
			return -1, fmt.Errorf("no column %s", name)
		}
		t.columns = append(t.columns[:i], t.columns[i+1:]...)
		return i, nil
	}
	switch spec.Tp {
	case ast.AlterTableAddColumns:
		for _, col := range spec.NewColumns {
			if spec.IfNotExists && t.index(col.Name.Name.O) >= 0 {
				continue
			}
			if err := place(newColumn(col), spec.Position); err != nil {
				return err
			}
			if columnIsPK(col) {
				t.pk = []string{col.Name.Name.O}
			}
		}
	case ast.AlterTableDropColumn:
		name := spec.OldColumnName.Name.O
		if spec.IfExists && t.index(name) < 0 {
			return nil
		}
		if _, err := remove(name); err != nil {
			return err
		}
		t.pk = removeName(t.pk, name)
	case ast.AlterTableModifyColumn, ast.AlterTableChangeColumn:
		old := spec.NewColumns[0].Name.Name.O
		if spec.Tp == ast.AlterTableChangeColumn {
			old = spec.OldColumnName.Name.O
		}
		if spec.IfExists && t.index(old) < 0 {
			return nil
		}
		i, err := remove(old)
		if err != nil {
			return err
		}
		cd := newColumn(spec.NewColumns[0])
		pos := spec.Position
		if pos == nil || pos.Tp == ast.ColumnPositionNone {
			t.columns = append(t.columns[:i], append([]columnDef{cd}, t.columns[i:]...)...)
		} else if err := place(cd, pos); err != nil {
			return err
		}
		t.pk = renameName(t.pk, old, cd.name)
	case ast.AlterTableRenameColumn:
		i := t.index(spec.OldColumnName.Name.O)
		if i < 0 {
			return fmt.Errorf("no column %s", spec.OldColumnName.Name.O)
		}
		t.columns[i].name = spec.NewColumnName.Name.O
		t.pk = renameName(t.pk, spec.OldColumnName.Name.O, spec.NewColumnName.Name.O)
	case ast.AlterTableAddConstraint:
		if spec.Constraint == nil {
			return nil
		}
		switch spec.Constraint.Tp {
		case ast.ConstraintPrimaryKey:
			pk, err := pkColumns(spec.Constraint)
			if err != nil {
				return err
			}
			t.pk = pk
		case ast.ConstraintUniq, ast.ConstraintUniqKey, ast.ConstraintUniqIndex:
			t.addUnique(spec.Constraint)
		}
	case ast.AlterTableOption:
		var cs, co string
		convert, dflt := false, false
		for _, o := range spec.Options {
			switch o.Tp {
			case ast.TableOptionCharset:
				cs, dflt = o.StrValue, o.Default
				convert = convert || o.UintValue == ast.TableOptionCharsetWithConvertTo
			case ast.TableOptionCollate:
				co = o.StrValue
			}
		}
		if cs == "" && co == "" && !dflt {
			return nil
		}
		cs, co = charsetAndCollation(cs, co)
		if dflt && cs == "" {
			// CHARACTER SET DEFAULT: the database's.
			cs, co = db.charset, db.collation
		}
		if convert {
			// To the database's default where pitr does not know it: charsets unknown, so
			// text is neither checked nor quoted, only written as hex.
			t.convertCharset(cs, co)
		} else if cs != "" {
			t.charset, t.collation = cs, co
		}
	case ast.AlterTableDropPrimaryKey:
		t.pk = nil
	case ast.AlterTableDropIndex:
		if strings.EqualFold(spec.Name, t.ukName) {
			t.uk, t.ukName = nil, ""
		}
	}
	return nil
}

func removeName(names []string, name string) []string {
	var out []string
	for _, n := range names {
		if !strings.EqualFold(n, name) {
			out = append(out, n)
		}
	}
	return out
}

func renameName(names []string, from, to string) []string {
	out := append([]string(nil), names...)
	for i, n := range out {
		if strings.EqualFold(n, from) {
			out[i] = to
		}
	}
	return out
}
