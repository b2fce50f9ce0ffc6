package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	tmysql "github.com/pingcap/tidb/pkg/parser/mysql"
	ptypes "github.com/pingcap/tidb/pkg/parser/types"

	"github.com/pitr-tool/pitr/pkg/binlog"
	"github.com/pitr-tool/pitr/pkg/binlog/collation"
)

// Catalog holds table definitions from a schema source, for binlogs whose table maps carry no
// column names (binlog_row_metadata=MINIMAL, the default of MySQL and MariaDB). It is checked
// against every table map before use: pitr never guesses a column.
type Catalog struct {
	source string
	tables map[string]*tableDef // "db.table"; nil for a table a server said it does not have
	dbs    map[string]dbDefault // default charsets of databases, from CREATE/ALTER DATABASE
	// bad holds why a table's definition could not be read: an error only for a run that needs
	// the table, so that one odd table in a dump never blocks the others.
	bad    map[string]error
	cache  map[*binlog.TableMap]*binlog.TableMap
	parser *parser.Parser

	// fetch, for a catalog backed by a live server, returns SHOW CREATE TABLE of a table not
	// read yet ("" if the server has no such table).
	fetch func(ctx context.Context, db, table string) (string, error)
	// next is asked for tables this catalog does not hold: a schema file first, then a server.
	next     *Catalog
	triggers []string // a dump's triggers: "`db`.`name` (AFTER INSERT ON `db`.`table`)"
	close    func() error
}

// Close releases what the catalogs hold (a server connection).
func (c *Catalog) Close() error {
	var errs []error
	for ; c != nil; c = c.next {
		if c.close != nil {
			errs = append(errs, c.close())
		}
	}
	return errors.Join(errs...)
}

// Then returns c, falling back to next for tables c does not hold.
func (c *Catalog) Then(next *Catalog) *Catalog {
	if c == nil {
		return next
	}
	last := c
	for last.next != nil {
		last = last.next
	}
	last.next = next
	return c
}

func newCatalog(source string) *Catalog {
	return &Catalog{source: source, tables: map[string]*tableDef{}, cache: map[*binlog.TableMap]*binlog.TableMap{}, parser: newParser()}
}

// NewServerCatalog reads table definitions from a live server with SHOW CREATE TABLE, as the
// tables come up. name says which server, for messages.
// Close, if not nil, runs when the catalog is closed.
func NewServerCatalog(name string, fetch func(ctx context.Context, db, table string) (string, error), close func() error) *Catalog {
	return &Catalog{source: name, tables: map[string]*tableDef{}, cache: map[*binlog.TableMap]*binlog.TableMap{}, parser: newParser(),
		fetch: fetch, close: close}
}

type tableDef struct {
	columns []columnDef
	// charset and collation are the table's defaults, for columns added later without their own.
	charset, collation string
	pk                 []string // column names: DDL moves columns around
	// uk is the first UNIQUE key whose columns are all NOT NULL: it finds a row as well as a
	// primary key does, for tables without one.
	uk     []string
	ukName string
}

func (t *tableDef) index(name string) int {
	for i, c := range t.columns {
		if strings.EqualFold(c.name, name) {
			return i
		}
	}
	return -1
}

func (t *tableDef) clone() *tableDef {
	return &tableDef{columns: append([]columnDef(nil), t.columns...), pk: append([]string(nil), t.pk...),
		uk: append([]string(nil), t.uk...), ukName: t.ukName, charset: t.charset, collation: t.collation}
}

// key is the columns that find a row: the primary key, or else the first NOT NULL unique key.
func (t *tableDef) key() []string {
	if len(t.pk) > 0 {
		return t.pk
	}
	for _, name := range t.uk {
		if i := t.index(name); i < 0 || !t.columns[i].notNull {
			return nil
		}
	}
	return t.uk
}

type columnDef struct {
	flen      int // declared length in characters; -1 when not given
	notNull   bool
	charset   string // explicit or the table's default, utf8 spelled utf8mb3; "" if unknown
	realType  string // a type the parser reads as another: "uuid", "inet6", "vector", "point"...
	invisible bool
	rowStart  bool // system versioning: the row's start and end times
	rowEnd    bool
	collation string // explicit or the table's default; "" for the charset's default
	name      string
	tp        byte // TiDB parser (MySQL) field type
	unsigned  bool
	generated bool
	elems     []string // ENUM/SET members
}

// LoadSchema reads CREATE TABLE statements from a mysqldump/mariadb-dump file (schema-only or
// full, plain or gzip: streamed, data lines skipped, never held) or a mydumper folder
// (*-schema.sql).
func LoadSchema(ctx context.Context, path string) (*Catalog, error) {
	c := &Catalog{source: path, tables: map[string]*tableDef{}, cache: map[*binlog.TableMap]*binlog.TableMap{}, parser: newParser()}
	p := c.parser
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		// mydumper: db.table-schema.sql; MySQL Shell dump: db@table.sql (names %-encoded).
		files, _ := filepath.Glob(filepath.Join(path, "*-schema.sql*"))
		shell, _ := filepath.Glob(filepath.Join(path, "*@*.sql"))
		files = append(files, shell...)
		sort.Strings(files)
		for _, f := range files {
			base := filepath.Base(f)
			var db string
			if i := strings.IndexByte(base, '@'); i >= 0 {
				if i == 0 || strings.Count(base, "@") != 1 {
					continue // @.sql, @.post.sql, partitions and chunks
				}
				db, _ = url.PathUnescape(base[:i])
			} else {
				var ok bool
				if db, _, ok = strings.Cut(base, "."); !ok || strings.HasSuffix(base, "-schema-create.sql") || strings.Contains(base, "-schema-view") {
					continue
				}
			}
			if err := c.readStatements(ctx, p, f, db); err != nil {
				return nil, err
			}
		}
	} else if err := c.readStatements(ctx, p, path, ""); err != nil {
		return nil, err
	}
	if len(c.tables) == 0 && len(c.bad) == 0 {
		return nil, fmt.Errorf("%s: no CREATE TABLE statement found (want a mysqldump/mariadb-dump file, a mydumper folder or a MySQL Shell dump folder)", path)
	}
	return c, nil
}

// readStatements collects each CREATE TABLE statement (from its first line to the line ending in
// ";") and the database that USE or "-- Current Database" names before it.
func (c *Catalog) readStatements(ctx context.Context, p *parser.Parser, path, db string) error {
	br, closeFn, err := openMaybeGzip(path)
	if err != nil {
		return err
	}
	defer closeFn()
	var stmt []byte
	in := false
	lineNo, startLine := 0, 0
	for n := 0; ; n++ {
		if n&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		// Only statement lines are read; a full dump's data lines (megabytes each) are skipped
		// without being copied anywhere.
		if !in {
			if p, _ := br.Peek(32); !bytes.HasPrefix(p, []byte("CREATE TABLE")) && !bytes.HasPrefix(p, []byte("USE `")) &&
				!bytes.HasPrefix(p, []byte("CREATE DATABASE")) && !bytes.HasPrefix(p, []byte("CREATE SEQUENCE")) &&
				!bytes.HasPrefix(p, []byte("/*!50003 CREATE*/")) &&
				!bytes.HasPrefix(p, []byte("CREATE DEFINER")) && !bytes.HasPrefix(p, []byte("CREATE TRIGGER")) &&
				!bytes.HasPrefix(p, []byte("-- ")) {
				if err := skipLine(br); err != nil {
					if err == io.EOF {
						return nil
					}
					return fmt.Errorf("%s: %w", path, err)
				}
				continue
			}
		}
		lineNo = n + 1
		head, long, err := peekLine(br, 64<<10)
		if long {
			err = skipLine(br)
		}
		line := bytes.TrimRight(head, "\r\n")
		switch {
		case in:
			stmt = append(append(stmt, '\n'), line...)
		case bytes.HasPrefix(line, []byte("CREATE TABLE")), bytes.HasPrefix(line, []byte("CREATE DATABASE")),
			bytes.HasPrefix(line, []byte("CREATE SEQUENCE")):
			in, stmt, startLine = true, append(stmt[:0], line...), lineNo
		case bytes.HasPrefix(line, []byte("/*!50003 CREATE*/")), bytes.HasPrefix(line, []byte("CREATE DEFINER")),
			bytes.HasPrefix(line, []byte("CREATE TRIGGER")):
			// mysqldump and mariadb-dump write each trigger after its table's rows.
			if m := dumpTrigger.FindSubmatch(line); m != nil {
				c.triggers = append(c.triggers, fmt.Sprintf("%s (%s %s ON %s)", triggerName(db, m[1]),
					strings.ToUpper(string(m[2])), strings.ToUpper(string(m[3])), triggerName(db, m[4])))
			}
		case bytes.HasPrefix(line, []byte("USE `")):
			if name, ok := quotedAfter(line, "USE "); ok {
				db = name
			}
		case bytes.HasPrefix(line, []byte("-- Current Database: ")):
			if name, ok := quotedAfter(line, "-- Current Database: "); ok {
				db = name
			}
		case bytes.HasPrefix(line, []byte("-- Host: ")) && db == "":
			if i := bytes.Index(line, []byte("Database: ")); i >= 0 {
				db = strings.TrimSpace(string(line[i+len("Database: "):]))
			}
		}
		if in && bytes.HasSuffix(bytes.TrimSpace(line), []byte(";")) {
			in = false
			if err := c.add(p, db, string(stmt)); err != nil {
				err = fmt.Errorf("%s:%d: %w", path, startLine, err)
				if !c.addBad(db, string(stmt), err) {
					return err
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
}

// dumpTrigger reads a dump's CREATE TRIGGER line: name, timing, event, table. The names are as
// the trigger was written: quoted or not, with a database or not.
var dumpTrigger = regexp.MustCompile("(?i)\\bTRIGGER\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?(" + sqlName + ")\\s+(BEFORE|AFTER)\\s+(INSERT|UPDATE|DELETE)\\s+ON\\s+(" + sqlName + ")")

// sqlName matches an identifier, perhaps qualified: `a`.`b`, a.b, `a`, a.
const sqlName = "(?:`(?:[^`]|``)+`|[\\w$]+)(?:\\s*\\.\\s*(?:`(?:[^`]|``)+`|[\\w$]+))?"

// triggerName writes a name sqlName matched as `db`.`name`, in db unless it names one.
func triggerName(db string, name []byte) string {
	var parts []string
	for s := string(name); s != ""; {
		s = strings.TrimLeft(s, " \t.")
		if s == "" {
			break
		}
		if s[0] == '`' {
			i := 1
			for i < len(s) && (s[i] != '`' || i+1 < len(s) && s[i+1] == '`') {
				if s[i] == '`' {
					i++
				}
				i++
			}
			parts = append(parts, strings.ReplaceAll(s[1:min(i, len(s))], "``", "`"))
			s = s[min(i+1, len(s)):]
			continue
		}
		end := strings.IndexAny(s, " \t.")
		if end < 0 {
			end = len(s)
		}
		parts = append(parts, s[:end])
		s = s[end:]
	}
	if len(parts) == 1 {
		parts = []string{db, parts[0]}
	}
	return qualified(parts[0], parts[len(parts)-1])
}

// Tables calls f with the database and name of each table the schema files hold (not those a
// server would be asked for).
func (c *Catalog) Tables(f func(db, table string)) {
	for cat := c; cat != nil; cat = cat.next {
		if cat.fetch != nil {
			continue
		}
		for k, def := range cat.tables {
			if db, table, ok := strings.Cut(k, "."); ok && def != nil {
				f(db, table)
			}
		}
	}
}

// Triggers lists the triggers the schema dumps define, "`db`.`name` (AFTER INSERT ON
// `db`.`table`)": a target restored from such a dump has them.
func (c *Catalog) Triggers() []string {
	var ts []string
	for cat := c; cat != nil; cat = cat.next {
		ts = append(ts, cat.triggers...)
	}
	return ts
}

func (c *Catalog) add(p *parser.Parser, db, stmt string) error {
	node, prep, err := parseDDL(p, stmt)
	if err != nil {
		return fmt.Errorf("cannot parse %s: %v", truncate([]byte(stmt), 120), redactError(firstLine(err.Error()), []byte(stmt)))
	}
	switch n := node.(type) {
	case *ast.CreateDatabaseStmt:
		c.setDBDefault(n.Name.O, n.Options)
		return nil
	case *ast.CreateSequenceStmt:
		if n.Name.Schema.O != "" {
			db = n.Name.Schema.O
		}
		if db == "" {
			return fmt.Errorf("CREATE SEQUENCE %s: no database is named before it (USE or -- Current Database)", n.Name.Name.O)
		}
		c.tables[db+"."+n.Name.Name.O] = sequenceDef()
		return nil
	}
	ct, ok := node.(*ast.CreateTableStmt)
	if !ok || ct.ReferTable != nil || ct.Select != nil {
		return nil
	}
	if ct.Table.Schema.O != "" {
		db = ct.Table.Schema.O
	}
	if db == "" {
		return fmt.Errorf("CREATE TABLE %s: no database is named before it (USE or -- Current Database)", ct.Table.Name.O)
	}
	t, err := newTableDef(ct, prep, c.dbDefault(db))
	if err != nil {
		return fmt.Errorf("table %s.%s: %w", db, ct.Table.Name.O, err)
	}
	c.tables[db+"."+ct.Table.Name.O] = t
	delete(c.bad, db+"."+ct.Table.Name.O)
	return nil
}

// createdName finds the table a CREATE TABLE or CREATE SEQUENCE statement names, without the
// parser.
var createdName = regexp.MustCompile("(?is)^\\s*CREATE\\s+(?:OR\\s+REPLACE\\s+)?(?:TEMPORARY\\s+)?(?:TABLE|SEQUENCE)\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?(`(?:[^`]|``)+`|[\\w$]+)(?:\\s*\\.\\s*(`(?:[^`]|``)+`|[\\w$]+))?")

func unquoteName(s string) string {
	if strings.HasPrefix(s, "`") && len(s) >= 2 {
		return strings.ReplaceAll(s[1:len(s)-1], "``", "`")
	}
	return s
}

// addBad records that the table stmt creates cannot be read, and reports whether it could tell
// which table that is (a CREATE DATABASE the parser cannot read only loses its default charset).
func (c *Catalog) addBad(db, stmt string, err error) bool {
	if strings.HasPrefix(strings.TrimSpace(stmt), "CREATE DATABASE") {
		return true
	}
	m := createdName.FindStringSubmatch(stmt)
	if m == nil {
		return false
	}
	table := unquoteName(m[1])
	if m[2] != "" {
		db, table = table, unquoteName(m[2])
	}
	if db == "" {
		return false
	}
	c.markBad(db+"."+table, err)
	return true
}

func (c *Catalog) markBad(key string, err error) {
	if c.bad == nil {
		c.bad = map[string]error{}
	}
	c.bad[key] = err
	delete(c.tables, key)
}

// read asks the server behind c for a table's definition, once.
func (c *Catalog) read(ctx context.Context, db, table string) error {
	key := db + "." + table
	if _, ok := c.tables[key]; ok {
		return nil
	}
	if _, ok := c.bad[key]; ok {
		return nil
	}
	stmt, err := c.fetch(ctx, db, table)
	if err != nil {
		return fmt.Errorf("schema of %s from %s: %w", key, c.source, err)
	}
	c.tables[key] = nil
	if stmt != "" {
		if err := c.add(c.parser, db, stmt); err != nil {
			// An error for the run only if a kept table needs this one.
			c.markBad(key, fmt.Errorf("schema of %s from %s: %w", key, c.source, err))
		}
	}
	return nil
}

// ErrSchemaMismatch means a table map does not match the schema pitr was given for the table.
var ErrSchemaMismatch = fmt.Errorf("the binlog's table does not match the schema")

// resolve returns tm with names, primary key, ENUM/SET members and generated columns from the
// catalog, after checking that every column's type agrees. A table the catalog does not hold is
// returned as it is (Run then refuses it if it lacks names).
func (c *Catalog) resolve(ctx context.Context, tm *binlog.TableMap) (*binlog.TableMap, error) {
	if c == nil {
		return tm, nil
	}
	if r, ok := c.cache[tm]; ok {
		return r, nil
	}
	key := tm.Schema + "." + tm.Table
	def, ok := c.tables[key]
	if !ok && c.fetch != nil {
		if _, bad := c.bad[key]; !bad {
			if err := c.read(ctx, tm.Schema, tm.Table); err != nil {
				return nil, err
			}
			def, ok = c.tables[key]
		}
	}
	if err := c.bad[key]; !ok && err != nil {
		// One line (the parser quotes the statement, line breaks and all), and for a binlog
		// without names, the ways out.
		msg := strings.Join(strings.Fields(err.Error()), " ")
		if !tm.HasNames {
			return nil, fmt.Errorf("table %s: %w (its CREATE TABLE in %s cannot be read: %s)", tm, ErrNoColumnNames, c.source, msg)
		}
		return nil, fmt.Errorf("table %s: pitr cannot read its definition: %s", tm, msg)
	}
	if def == nil {
		return c.next.resolve(ctx, tm)
	}
	if len(def.columns) != len(tm.Columns) {
		return nil, fmt.Errorf("%w: table %s has %d columns in the binlog (%s) and %d in %s (%s); wrong schema file, or DDL outside the window?",
			ErrSchemaMismatch, tm, len(tm.Columns), binlogTypes(tm), len(def.columns), c.source, def.describe())
	}
	out := *tm
	out.Columns = append([]binlog.Column(nil), tm.Columns...)
	for i := range out.Columns {
		bc, sc := &out.Columns[i], def.columns[i]
		vector := sc.realType == "vector" && (bc.Type == mysql.MYSQL_TYPE_VECTOR || bc.Type == mysql.MYSQL_TYPE_VARCHAR)
		if !vector && !typesAgree(bc.Type, sc.tp) || bc.SignKnown && bc.Unsigned != sc.unsigned && isIntType(sc.tp) {
			return nil, fmt.Errorf("%w: table %s column %d is %s in the binlog but `%s` %s in %s (binlog: %s; schema: %s); wrong schema file, or DDL outside the window?",
				ErrSchemaMismatch, tm, i+1, typeName(bc.Type), sc.name, sc.typeName(), c.source, binlogTypes(tm), def.describe())
		}
		if bc.Collation != 0 && sc.charset != "" && isTextType(sc.tp) && !isEnumSet(bc.Type) {
			if cs := columnCharset(tm, bc); cs != "" && cs != sc.charset {
				return nil, fmt.Errorf("%w: table %s column %d (`%s`) is %s in the binlog but %s in %s; wrong schema file, or DDL outside the window?",
					ErrSchemaMismatch, tm, i+1, sc.name, cs, sc.charset, c.source)
			}
		}
		if (bc.Type == mysql.MYSQL_TYPE_VARCHAR || bc.Type == mysql.MYSQL_TYPE_VAR_STRING) && sc.flen > 0 && sc.charset != "" {
			// The table map gives VARCHAR's length in bytes: characters times the widest one.
			if info, ok := collation.CharsetByName(sc.charset); ok && int(bc.Meta) != sc.flen*info.Maxlen {
				return nil, fmt.Errorf("%w: table %s column %d (`%s`) holds %d bytes in the binlog but is VARCHAR(%d) %s (%d bytes) in %s; wrong schema file, or DDL outside the window?",
					ErrSchemaMismatch, tm, i+1, sc.name, bc.Meta, sc.flen, sc.charset, sc.flen*info.Maxlen, c.source)
			}
		}
		if tm.HasNames && !strings.EqualFold(bc.Name, sc.name) {
			return nil, fmt.Errorf("%w: table %s column %d is `%s` in the binlog but `%s` in %s", ErrSchemaMismatch, tm, i+1, bc.Name, sc.name, c.source)
		}
		bc.Name = sc.name
		bc.Generated = sc.generated
		bc.RowStart, bc.RowEnd = sc.rowStart, sc.rowEnd
		if !tm.HasNames {
			bc.Invisible = sc.invisible
		}
		if !bc.SignKnown {
			bc.Unsigned, bc.SignKnown = sc.unsigned, true
		}
		// Members read from the schema are UTF-8 text, whatever the column's charset: the
		// collation here only tells the renderer how to quote them.
		switch bc.Type {
		case mysql.MYSQL_TYPE_ENUM:
			if len(bc.Enum) == 0 {
				bc.Enum, bc.Collation, bc.Charset = toBytes(sc.elems), utf8mb4Collation, "utf8mb4"
			}
		case mysql.MYSQL_TYPE_SET:
			if len(bc.Set) == 0 {
				bc.Set, bc.Collation, bc.Charset = toBytes(sc.elems), utf8mb4Collation, "utf8mb4"
			}
		default:
			if bc.Collation == 0 && sc.charset != "" && isTextType(sc.tp) {
				// A map without charsets (NO_LOG): the schema's, in the ids of the binlog's server.
				if co, ok := sc.collationFor(tm.MariaDB); ok {
					bc.Collation, bc.Charset = uint64(co.ID), co.Charset
				}
			}
		}
	}
	out.HasNames = true
	if len(out.PrimaryKey) == 0 {
		for _, name := range def.key() {
			if i := def.index(name); i >= 0 {
				out.PrimaryKey = append(out.PrimaryKey, i)
			}
		}
	}
	if len(c.cache) > 4096 {
		c.cache = map[*binlog.TableMap]*binlog.TableMap{}
	}
	c.cache[tm] = &out
	return &out, nil
}

const utf8mb4Collation = 45 // utf8mb4_general_ci

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func isIntType(tp byte) bool {
	switch tp {
	case tmysql.TypeTiny, tmysql.TypeShort, tmysql.TypeInt24, tmysql.TypeLong, tmysql.TypeLonglong:
		return true
	}
	return false
}

// typesAgree compares a binlog column type with a CREATE TABLE type. Binlogs write the storage
// type: TEXT and BLOB of every size as BLOB, VARCHAR as VARCHAR, temporal types in their 5.6
// formats, and MariaDB's JSON as the LONGTEXT it is.
func typesAgree(binlogType, schemaType byte) bool {
	switch schemaType {
	case tmysql.TypeTinyBlob, tmysql.TypeMediumBlob, tmysql.TypeLongBlob, tmysql.TypeBlob:
		return binlogType == mysql.MYSQL_TYPE_BLOB
	case tmysql.TypeJSON:
		return binlogType == mysql.MYSQL_TYPE_JSON || binlogType == mysql.MYSQL_TYPE_BLOB
	case tmysql.TypeVarchar, tmysql.TypeVarString:
		return binlogType == mysql.MYSQL_TYPE_VARCHAR || binlogType == mysql.MYSQL_TYPE_VAR_STRING
	case tmysql.TypeTimestamp:
		return binlogType == mysql.MYSQL_TYPE_TIMESTAMP || binlogType == mysql.MYSQL_TYPE_TIMESTAMP2
	case tmysql.TypeDatetime:
		return binlogType == mysql.MYSQL_TYPE_DATETIME || binlogType == mysql.MYSQL_TYPE_DATETIME2
	case tmysql.TypeDuration:
		return binlogType == mysql.MYSQL_TYPE_TIME || binlogType == mysql.MYSQL_TYPE_TIME2
	case tmysql.TypeDate:
		return binlogType == mysql.MYSQL_TYPE_DATE || binlogType == mysql.MYSQL_TYPE_NEWDATE
	case tmysql.TypeNewDecimal:
		return binlogType == mysql.MYSQL_TYPE_NEWDECIMAL
	}
	return binlogType == schemaType
}

func typeName(t byte) string {
	switch t {
	case mysql.MYSQL_TYPE_TIMESTAMP2:
		return "timestamp"
	case mysql.MYSQL_TYPE_DATETIME2:
		return "datetime"
	case mysql.MYSQL_TYPE_TIME2:
		return "time"
	case mysql.MYSQL_TYPE_BLOB:
		return "blob/text"
	}
	return ptypes.TypeStr(t)
}

func binlogTypes(tm *binlog.TableMap) string {
	names := make([]string, len(tm.Columns))
	for i, c := range tm.Columns {
		names[i] = typeName(c.Type)
		if c.Name != "" {
			names[i] = c.Name + " " + names[i]
		}
	}
	return strings.Join(names, ", ")
}

func (t *tableDef) describe() string {
	names := make([]string, len(t.columns))
	for i, c := range t.columns {
		names[i] = c.name + " " + c.typeName()
	}
	return strings.Join(names, ", ")
}

// typeName is the column's type as its CREATE TABLE names it.
func (c *columnDef) typeName() string {
	if c.realType != "" {
		return c.realType
	}
	return ptypes.TypeStr(c.tp)
}

func newColumnDef(col *ast.ColumnDef, prep *preparedDDL) columnDef {
	cd := columnDef{name: col.Name.Name.O, tp: col.Tp.GetType(), unsigned: tmysql.HasUnsignedFlag(col.Tp.GetFlag()), elems: col.Tp.GetElems(),
		flen: col.Tp.GetFlen()}
	ex := prep.extra(cd.name)
	cd.realType, cd.invisible, cd.rowStart, cd.rowEnd = ex.realType, ex.invisible, ex.rowStart, ex.rowEnd
	switch {
	case spatialType(ex.realType):
		cd.tp = tmysql.TypeGeometry
	case ex.realType == "vector":
		cd.tp, cd.flen = tmysql.TypeVarchar, -1 // MariaDB logs VARBINARY(4n), MySQL its VECTOR type
	}
	for _, o := range col.Options {
		switch o.Tp {
		case ast.ColumnOptionGenerated:
			cd.generated = true
		case ast.ColumnOptionNotNull, ast.ColumnOptionPrimaryKey:
			cd.notNull = true
		}
	}
	co := col.Tp.GetCollate()
	for _, o := range col.Options {
		if o.Tp == ast.ColumnOptionCollate {
			co = o.StrValue // COLLATE after the column's NOT NULL or DEFAULT
		}
	}
	cd.charset, cd.collation = charsetAndCollation(col.Tp.GetCharset(), co)
	if cd.realType == "vector" {
		cd.charset, cd.collation = "binary", "binary"
	}
	return cd
}

// charsetAndCollation reads a CHARACTER SET and COLLATE pair, either of which may be missing.
func charsetAndCollation(cs, co string) (string, string) {
	cs = collation.NormalizeCharset(cs)
	if co == "" {
		return cs, ""
	}
	c, ok := collation.ByName(collation.Any, co)
	if !ok {
		return cs, ""
	}
	if cs == "" {
		cs = c.Charset
	}
	if c.Charset != cs {
		return cs, ""
	}
	return cs, c.Name
}

// collationFor returns the column's collation on the binlog's server: the one named, or the
// charset's default there.
func (c *columnDef) collationFor(mariaDB bool) (collation.Collation, bool) {
	f := collation.MySQL
	if mariaDB {
		f = collation.MariaDB
	}
	if c.collation != "" {
		return collation.ByName(f, c.collation)
	}
	return collation.Default(f, c.charset)
}

func isTextType(tp byte) bool {
	switch tp {
	case tmysql.TypeVarchar, tmysql.TypeVarString, tmysql.TypeString, tmysql.TypeBlob, tmysql.TypeTinyBlob,
		tmysql.TypeMediumBlob, tmysql.TypeLongBlob:
		return true
	}
	return false
}

func columnIsPK(col *ast.ColumnDef) bool {
	for _, o := range col.Options {
		if o.Tp == ast.ColumnOptionPrimaryKey {
			return true
		}
	}
	return false
}

func pkColumns(con *ast.Constraint) ([]string, error) {
	var pk []string
	for _, k := range con.Keys {
		if k.Column == nil {
			return nil, errors.New("primary key on an expression")
		}
		pk = append(pk, k.Column.Name.O)
	}
	return pk, nil
}

func newTableDef(ct *ast.CreateTableStmt, prep *preparedDDL, db dbDefault) (*tableDef, error) {
	t := &tableDef{}
	for _, col := range ct.Cols {
		t.columns = append(t.columns, newColumnDef(col, prep))
		if columnIsPK(col) {
			t.pk = []string{col.Name.Name.O}
		}
		for _, o := range col.Options {
			if o.Tp == ast.ColumnOptionUniqKey && len(t.uk) == 0 {
				t.uk = []string{col.Name.Name.O}
			}
		}
	}
	for _, con := range ct.Constraints {
		switch con.Tp {
		case ast.ConstraintPrimaryKey:
			pk, err := pkColumns(con)
			if err != nil {
				return nil, err
			}
			t.pk = pk
		case ast.ConstraintUniq, ast.ConstraintUniqKey, ast.ConstraintUniqIndex:
			t.addUnique(con)
		}
	}
	// Text columns without a charset of their own have the table's, and a table without one
	// the database's; BINARY, VARBINARY and BLOB report "binary" from the parser.
	t.charset, t.collation = tableCharset(ct.Options)
	if t.charset == "" {
		t.charset, t.collation = db.charset, db.collation
	}
	for i := range t.columns {
		t.defaultCharset(&t.columns[i])
	}
	if prep.versioning > 0 {
		t.addSystemVersioning()
	}
	return t, nil
}

// sequenceDef is the table a MariaDB sequence is: its row events carry these eight columns.
func sequenceDef() *tableDef {
	col := func(name string, tp byte, unsigned bool) columnDef {
		return columnDef{name: name, tp: tp, flen: -1, notNull: true, unsigned: unsigned}
	}
	return &tableDef{columns: []columnDef{
		col("next_not_cached_value", tmysql.TypeLonglong, false), col("minimum_value", tmysql.TypeLonglong, false),
		col("maximum_value", tmysql.TypeLonglong, false), col("start_value", tmysql.TypeLonglong, false),
		col("increment", tmysql.TypeLonglong, false), col("cache_size", tmysql.TypeLonglong, true),
		col("cycle_option", tmysql.TypeTiny, true), col("cycle_count", tmysql.TypeLonglong, false),
	}}
}

// addSystemVersioning gives a table WITH SYSTEM VERSIONING the row_start and row_end columns
// MariaDB adds, invisible, after the others, unless the table names its own.
func (t *tableDef) addSystemVersioning() {
	for _, c := range t.columns {
		if c.rowStart {
			return
		}
	}
	t.columns = append(t.columns,
		columnDef{name: "row_start", tp: tmysql.TypeTimestamp, flen: -1, notNull: true, invisible: true, rowStart: true},
		columnDef{name: "row_end", tp: tmysql.TypeTimestamp, flen: -1, notNull: true, invisible: true, rowEnd: true})
}

// dropSystemVersioning removes the row_start and row_end columns.
func (t *tableDef) dropSystemVersioning() {
	var kept []columnDef
	for _, c := range t.columns {
		if !c.rowStart && !c.rowEnd {
			kept = append(kept, c)
		}
	}
	t.columns = kept
}

// defaultCharset gives a text column without a charset of its own the table's.
func (t *tableDef) defaultCharset(c *columnDef) {
	if c.charset == "" && isTextType(c.tp) {
		c.charset, c.collation = t.charset, t.collation
	}
}

// convertCharset is ALTER TABLE ... CONVERT TO CHARACTER SET: every text column takes the new
// charset and collation, and the table's default too. A VARCHAR the new charset makes wider than
// a row allows becomes MEDIUMTEXT, as the server does; TEXT of every size logs alike.
func (t *tableDef) convertCharset(cs, co string) {
	t.charset, t.collation = cs, co
	info, _ := collation.CharsetByName(cs)
	for i := range t.columns {
		c := &t.columns[i]
		if !isTextType(c.tp) || c.charset == "binary" {
			continue
		}
		c.charset, c.collation = cs, co
		if (c.tp == tmysql.TypeVarchar || c.tp == tmysql.TypeVarString) && info.Maxlen > 0 && c.flen*info.Maxlen > 65535 {
			c.tp, c.flen = tmysql.TypeMediumBlob, -1
		}
	}
}

// tableCharset reads [DEFAULT] CHARSET and COLLATE table (or database) options.
func tableCharset(opts []*ast.TableOption) (string, string) {
	var cs, co string
	for _, o := range opts {
		switch o.Tp {
		case ast.TableOptionCharset:
			cs = o.StrValue
		case ast.TableOptionCollate:
			co = o.StrValue
		}
	}
	return charsetAndCollation(cs, co)
}

// dbDefault is a database's default character set and collation ("" for the charset's default).
type dbDefault struct{ charset, collation string }

// setDBDefault records the charset options of CREATE or ALTER DATABASE.
func (c *Catalog) setDBDefault(db string, opts []*ast.DatabaseOption) {
	var cs, co string
	for _, o := range opts {
		switch o.Tp {
		case ast.DatabaseOptionCharset:
			cs = o.Value
		case ast.DatabaseOptionCollate:
			co = o.Value
		}
	}
	if cs == "" && co == "" {
		return
	}
	if c.dbs == nil {
		c.dbs = map[string]dbDefault{}
	}
	d := dbDefault{}
	d.charset, d.collation = charsetAndCollation(cs, co)
	c.dbs[db] = d
}

// dbDefault returns a database's default charset where a catalog of the chain knows it.
func (c *Catalog) dbDefault(db string) dbDefault {
	for cat := c; cat != nil; cat = cat.next {
		if d, ok := cat.dbs[db]; ok {
			return d
		}
	}
	return dbDefault{}
}

// addUnique remembers the first unique key on plain columns, to find rows of tables without a
// primary key; whether its columns are NOT NULL is decided when it is used.
func (t *tableDef) addUnique(con *ast.Constraint) {
	if len(t.uk) > 0 {
		return
	}
	var cols []string
	for _, k := range con.Keys {
		if k.Column == nil || k.Length > 0 {
			return // an expression or a prefix does not identify a row
		}
		cols = append(cols, k.Column.Name.O)
	}
	t.uk, t.ukName = cols, con.Name
}

func isEnumSet(t byte) bool { return t == mysql.MYSQL_TYPE_ENUM || t == mysql.MYSQL_TYPE_SET }

// columnCharset is the character set of a table map's column, with utf8 spelled utf8mb3.
func columnCharset(tm *binlog.TableMap, c *binlog.Column) string {
	if c.Charset != "" || c.Collation == 0 || c.Collation >= 1<<16 {
		return c.Charset
	}
	f := collation.MySQL
	if tm.MariaDB {
		f = collation.MariaDB
	}
	co, _ := collation.ByID(f, int(c.Collation))
	return co.Charset
}

// Describe says where column names come from, in order, for the output header.
func (c *Catalog) Describe() string {
	var parts []string
	for cat := c; cat != nil; cat = cat.next {
		if cat.fetch != nil {
			parts = append(parts, cat.source+" (SHOW CREATE TABLE, today's schema)")
			continue
		}
		var names []string
		for k, def := range cat.tables {
			if def != nil {
				names = append(names, k)
			}
		}
		if len(names) == 0 {
			continue
		}
		sort.Strings(names)
		list := strings.Join(names, ", ")
		if len(names) > 20 {
			list = strings.Join(names[:20], ", ") + fmt.Sprintf(", and %d more", len(names)-20)
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", cat.source, list))
	}
	return strings.Join(append([]string{"the binlog's own table metadata"}, parts...), ", then ")
}
