package restore

import (
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// The TiDB parser reads MySQL's DDL, not all of MariaDB's nor MySQL 8's newest. prepareDDL
// rewrites a CREATE TABLE or ALTER TABLE statement into a form the parser reads, and keeps aside
// what the rewrite took out and the catalogue needs: the real type of UUID, INET4, INET6, spatial
// and VECTOR columns, INVISIBLE, and system versioning. What the catalogue never reads (DEFAULT
// values, CHECK and generated-column expressions, SRID, column compression, ignored indexes,
// PERIOD definitions) is neutralised, so that an unknown function in it cannot stop a run.
//
// The rewritten text is for the parser only: a statement is replayed as the server logged it.

// parseDDL parses a statement as it is, and only if the parser refuses it, rewritten. The
// returned preparedDDL says which (changed) and what the rewrite took out.
func parseDDL(p *parser.Parser, stmt string) (ast.StmtNode, *preparedDDL, error) {
	prep := prepareDDL(stmt)
	node, err := p.ParseOneStmt(stmt, "", "")
	if err == nil {
		prep.sql, prep.changed = stmt, false
		return node, prep, nil
	}
	if !prep.changed {
		return nil, prep, err
	}
	node, err2 := p.ParseOneStmt(prep.sql, "", "")
	if err2 != nil {
		return nil, prep, err // the error about what the user wrote
	}
	return node, prep, nil
}

// columnExtra is what the rewrite took out of one column definition.
type columnExtra struct {
	realType  string // "uuid", "inet4", "inet6", "vector", a spatial type; "" if the parser's own
	invisible bool
	rowStart  bool // GENERATED ALWAYS AS ROW START (system versioning)
	rowEnd    bool
}

type visibility struct {
	column    string
	invisible bool
}

// preparedDDL is a statement rewritten for the parser.
type preparedDDL struct {
	sql     string
	changed bool
	columns map[string]columnExtra // lower-case column name
	// versioning is +1 for WITH SYSTEM VERSIONING or ADD SYSTEM VERSIONING, -1 for DROP SYSTEM
	// VERSIONING.
	versioning int
	replace    bool         // CREATE OR REPLACE
	visibility []visibility // ALTER COLUMN c SET [IN]VISIBLE, taken out
}

func (p *preparedDDL) extra(name string) columnExtra { return p.columns[strings.ToLower(name)] }

type tokKind uint8

const (
	tkSpace  tokKind = iota // whitespace and comments
	tkWord                  // unquoted identifier, keyword or number
	tkIdent                 // `quoted identifier`
	tkString                // 'string' or "string"
	tkPunct
)

type token struct {
	kind tokKind
	text string
}

// word reports whether t is the unquoted word w, in any case.
func (t token) word(w string) bool { return t.kind == tkWord && strings.EqualFold(t.text, w) }

// name returns the identifier a token spells: unquoted, or backquoted with “ undoubled.
func (t token) name() string {
	if t.kind == tkIdent && len(t.text) >= 2 {
		return strings.ReplaceAll(t.text[1:len(t.text)-1], "``", "`")
	}
	return t.text
}

func tokenize(s string) []token {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
				i++
			}
			out = append(out, token{tkSpace, s[start:i]})
		case c == '/' && strings.HasPrefix(s[i:], "/*!") || c == '/' && strings.HasPrefix(s[i:], "/*M!"):
			// An executable comment: its content is statement text, whatever the version (the
			// parser misreads MariaDB's six-digit ones), so the rewrite drops its markers.
			i += 3
			if s[start+2] == 'M' {
				i++
			}
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			out = append(out, token{tkSpace, " "})
		case c == '*' && strings.HasPrefix(s[i:], "*/"):
			i += 2
			out = append(out, token{tkSpace, " "})
		case c == '/' && strings.HasPrefix(s[i:], "/*"):
			if j := strings.Index(s[i+2:], "*/"); j >= 0 {
				i += j + 4
			} else {
				i = len(s)
			}
			out = append(out, token{tkSpace, s[start:i]})
		case c == '#' || c == '-' && strings.HasPrefix(s[i:], "-- "):
			if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
				i += j
			} else {
				i = len(s)
			}
			out = append(out, token{tkSpace, s[start:i]})
		case c == '`':
			i++
			for i < len(s) {
				if s[i] == '`' {
					if i+1 < len(s) && s[i+1] == '`' {
						i += 2
						continue
					}
					i++
					break
				}
				i++
			}
			out = append(out, token{tkIdent, s[start:i]})
		case c == '\'' || c == '"':
			i++
			for i < len(s) {
				if s[i] == '\\' {
					i += 2
					continue
				}
				if s[i] == c {
					if i+1 < len(s) && s[i+1] == c {
						i += 2
						continue
					}
					i++
					break
				}
				i++
			}
			if i > len(s) {
				i = len(s)
			}
			out = append(out, token{tkString, s[start:i]})
		case isWordByte(c):
			for i < len(s) && isWordByte(s[i]) {
				i++
			}
			out = append(out, token{tkWord, s[start:i]})
		default:
			i++
			out = append(out, token{tkPunct, s[start:i]})
		}
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// tokens is a statement being rewritten: significant tokens are addressed by index, and
// replaced or deleted in place (deleted tokens become empty space).
type tokens []token

func (ts tokens) String() string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString(t.text)
	}
	return b.String()
}

// next returns the index of the first significant token at or after i, or len(ts).
func (ts tokens) next(i int) int {
	for i < len(ts) && ts[i].kind == tkSpace {
		i++
	}
	return i
}

func (ts tokens) is(i int, w string) bool { return i < len(ts) && ts[i].word(w) }

func (ts tokens) punct(i int, p string) bool {
	return i < len(ts) && ts[i].kind == tkPunct && ts[i].text == p
}

// words reports whether the significant tokens from i spell ws, and returns the index after them.
func (ts tokens) words(i int, ws ...string) (int, bool) {
	for _, w := range ws {
		i = ts.next(i)
		if !ts.is(i, w) {
			return i, false
		}
		i++
	}
	return i, true
}

// close returns the index of the parenthesis closing the one at i.
func (ts tokens) close(i int) int {
	depth := 0
	for j := i; j < len(ts); j++ {
		if ts[j].kind != tkPunct {
			continue
		}
		switch ts[j].text {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return len(ts)
}

// split returns the [start, end) ranges between depth-0 commas of ts[from:to].
func (ts tokens) split(from, to int) [][2]int {
	var out [][2]int
	depth, start := 0, from
	for j := from; j < to; j++ {
		if ts[j].kind != tkPunct {
			continue
		}
		switch ts[j].text {
		case "(":
			depth++
		case ")":
			depth--
		case ",":
			if depth == 0 {
				out = append(out, [2]int{start, j})
				start = j + 1
			}
		}
	}
	return append(out, [2]int{start, to})
}

func (ts tokens) blank(from, to int) {
	for j := from; j < to; j++ {
		ts[j] = token{tkSpace, ""}
	}
}

// value returns the end of a DEFAULT value starting at i: a literal with optional introducer,
// a signed number, a word or function call, or a parenthesised expression.
func (ts tokens) value(i int) int {
	i = ts.next(i)
	if i >= len(ts) {
		return i
	}
	switch t := ts[i]; {
	case t.kind == tkPunct && (t.text == "-" || t.text == "+"):
		return ts.value(i + 1)
	case t.kind == tkPunct && t.text == "(":
		return ts.close(i) + 1
	case t.kind == tkString:
		return i + 1
	case t.kind == tkWord:
		j := ts.next(i + 1)
		switch {
		case ts.punct(j, "("):
			return ts.close(j) + 1
		case j < len(ts) && ts[j].kind == tkString:
			return j + 1 // _charset 'x', X'..', b'..', DATE '...'
		case ts.punct(j, ".") && j+1 < len(ts) && ts[j+1].kind == tkWord:
			return j + 2 // 1.5
		}
		return i + 1
	}
	return i + 1
}

// tableDefKeyword reports whether a definition in CREATE TABLE (...) starting with the word w
// (upper case) is a key, constraint or period rather than a column.
func tableDefKeyword(w string) bool {
	switch w {
	case "KEY", "INDEX", "PRIMARY", "UNIQUE", "CONSTRAINT", "FOREIGN", "FULLTEXT", "SPATIAL", "CHECK", "PERIOD", "VECTOR":
		return true
	}
	return false
}

// spatialType reports whether t (lower case) names a spatial type.
func spatialType(t string) bool {
	switch t {
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
		"geometrycollection", "geomcollection":
		return true
	}
	return false
}

// prepareDDL rewrites CREATE TABLE and ALTER TABLE for the parser; other statements pass as
// they are.
func prepareDDL(s string) *preparedDDL {
	p := &preparedDDL{sql: s, columns: map[string]columnExtra{}}
	ts := tokens(tokenize(s))
	i := ts.next(0)
	switch {
	case ts.is(i, "CREATE"):
		j := ts.next(i + 1)
		if ts.is(j, "OR") {
			// MariaDB's CREATE OR REPLACE: the parser knows none; the catalogue replaces anyway,
			// and replace records that the old table's rows go.
			k, _ := ts.words(j+1, "REPLACE")
			k = ts.next(k)
			ts.blank(j, k)
			p.replace = true
			if ts.is(k, "SEQUENCE") {
				break
			}
			j = k
		}
		if ts.is(j, "TEMPORARY") {
			j = ts.next(j + 1)
		}
		if !ts.is(j, "TABLE") {
			return p
		}
		j = ts.next(j + 1)
		if k, ok := ts.words(j, "IF", "NOT", "EXISTS"); ok {
			j = ts.next(k)
		}
		j = ts.skipName(j)
		if !ts.punct(j, "(") {
			return p // LIKE, AS SELECT
		}
		end := ts.close(j)
		p.createBody(ts, j+1, end)
		p.tableOptions(ts, end+1)
	case ts.is(i, "ALTER"):
		j := ts.next(i + 1)
		for ts.is(j, "ONLINE") || ts.is(j, "IGNORE") {
			if ts.is(j, "ONLINE") {
				ts[j] = token{tkSpace, ""} // MariaDB's ALTER ONLINE TABLE: a lock promise
			}
			j = ts.next(j + 1)
		}
		if !ts.is(j, "TABLE") {
			return p
		}
		j = ts.next(j + 1)
		if k, ok := ts.words(j, "IF", "EXISTS"); ok {
			j = ts.next(k)
		}
		j = ts.skipName(j)
		// MariaDB's WAIT n / NOWAIT: how long to wait for locks.
		if ts.is(j, "NOWAIT") {
			ts[j] = token{tkSpace, ""}
		} else if ts.is(j, "WAIT") {
			n := ts.next(j + 1)
			ts.blank(j, n+1)
		}
		p.alterSpecs(ts, j)
	default:
		return p
	}
	if out := ts.String(); out != s {
		p.sql, p.changed = out, true
	}
	return p
}

// skipName returns the index after a table name, `db`.`t` or db.t, from the significant
// token at i.
func (ts tokens) skipName(i int) int {
	i = ts.next(i + 1)
	if ts.punct(i, ".") {
		i = ts.next(ts.next(i+1) + 1)
	}
	// An unquoted db.t is one word token when digits follow the dot; handled by the parser.
	return i
}

// createBody rewrites the definitions of CREATE TABLE (...), between from and to.
func (p *preparedDDL) createBody(ts tokens, from, to int) {
	parts := ts.split(from, to)
	kept := 0
	for _, r := range parts {
		i := ts.next(r[0])
		if i >= r[1] {
			continue
		}
		if ts[i].kind == tkWord && tableDefKeyword(strings.ToUpper(ts[i].text)) {
			if !keyDef(ts, i) {
				// Only the primary key and unique keys find rows; other indexes, foreign keys,
				// CHECK constraints and PERIOD definitions are left out.
				p.dropPart(ts, r, kept == 0)
				continue
			}
			p.indexDef(ts, i, r[1])
			kept++
			continue
		}
		p.columnDef(ts, i, r[1])
		kept++
	}
}

// keyDef reports whether the definition at i is a PRIMARY KEY or UNIQUE key, named or not.
func keyDef(ts tokens, i int) bool {
	if ts.is(i, "CONSTRAINT") {
		i = ts.next(i + 1)
		if !ts.is(i, "PRIMARY") && !ts.is(i, "UNIQUE") && i < len(ts) {
			i = ts.next(i + 1) // the constraint's name
		}
	}
	return ts.is(i, "PRIMARY") || ts.is(i, "UNIQUE")
}

// dropPart blanks a definition with the comma before it (or after it, for the first).
func (p *preparedDDL) dropPart(ts tokens, r [2]int, first bool) {
	from, to := r[0], r[1]
	if !first && from > 0 && ts.punct(from-1, ",") {
		from--
	} else if to < len(ts) && ts.punct(to, ",") {
		to++
	}
	ts.blank(from, to)
}

// indexDef neutralises what the parser does not read in an index or constraint: CHECK
// expressions, MariaDB's IGNORED / NOT IGNORED.
func (p *preparedDDL) indexDef(ts tokens, i, end int) {
	for j := i; j < end; j++ {
		switch {
		case ts.is(j, "CHECK"):
			if k := ts.next(j + 1); ts.punct(k, "(") {
				c := ts.close(k)
				ts.blank(k+1, c)
				ts[k+1] = token{tkWord, "1"}
				j = c
			}
		case ts.is(j, "IGNORED"):
			ts[j] = token{tkSpace, ""}
			if k := prevSignificant(ts, j); k >= 0 && ts.is(k, "NOT") {
				ts[k] = token{tkSpace, ""}
			}
		}
	}
}

func prevSignificant(ts tokens, i int) int {
	for i--; i >= 0 && ts[i].kind == tkSpace; i-- {
	}
	return i
}

// columnDef rewrites one column definition: name at i, then type and attributes up to end.
func (p *preparedDDL) columnDef(ts tokens, i, end int) {
	name := ts[i].name()
	var ex columnExtra
	j := ts.next(i + 1)
	if j < end && ts[j].kind == tkWord {
		typ := strings.ToLower(ts[j].text)
		paren := ts.punct(ts.next(j+1), "(")
		switch {
		case typ == "uuid" || typ == "inet6":
			if !paren {
				ex.realType, ts[j] = typ, token{tkWord, "binary(16)"}
			}
		case typ == "inet4":
			if !paren {
				ex.realType, ts[j] = typ, token{tkWord, "binary(4)"}
			}
		case spatialType(typ):
			ex.realType, ts[j] = typ, token{tkWord, "blob"}
		case typ == "vector":
			// A float32 per dimension; stored as VARBINARY by MariaDB, as VECTOR by MySQL.
			if k := ts.next(j + 1); paren && ts.next(k+1) < end && ts[ts.next(k+1)].kind == tkWord {
				n := ts.next(k + 1)
				if dims, err := strconv.Atoi(ts[n].text); err == nil && dims > 0 && dims < 1<<16 {
					c := ts.close(k)
					ts.blank(j+1, c+1)
					ex.realType, ts[j] = typ, token{tkWord, "varbinary(" + strconv.Itoa(4*dims) + ")"}
				}
			}
		}
		j++
	}
	for ; j < end; j++ {
		if ts[j].kind != tkWord {
			continue
		}
		switch strings.ToUpper(ts[j].text) {
		case "DEFAULT":
			// The catalogue never reads defaults; MariaDB writes expressions the parser does not
			// know (DEFAULT uuid(), DEFAULT (a + 1), DEFAULT _euckr 'x').
			v := ts.value(j + 1)
			if v > end {
				v = end
			}
			ts.blank(j+1, v)
			ts[j] = token{tkWord, "DEFAULT NULL"}
			j = v - 1
		case "INVISIBLE":
			ex.invisible, ts[j] = true, token{tkSpace, ""}
		case "PERSISTENT":
			ts[j] = token{tkWord, "STORED"}
		case "COMPRESSED":
			ts[j] = token{tkSpace, ""}
			if k := ts.next(j + 1); ts.punct(k, "=") {
				ts.blank(j+1, ts.next(k+1)+1)
			}
		case "SRID", "REF_SYSTEM_ID":
			k := ts.next(j + 1)
			if ts.punct(k, "=") {
				k = ts.next(k + 1)
			}
			ts.blank(j, k+1)
		case "CHECK":
			if k := ts.next(j + 1); ts.punct(k, "(") {
				c := ts.close(k)
				ts.blank(k+1, c)
				ts[k+1] = token{tkWord, "1"}
				j = c
			}
		case "WITH", "WITHOUT":
			if k, ok := ts.words(j+1, "SYSTEM", "VERSIONING"); ok {
				ts.blank(j, k)
				j = k - 1
			}
		case "GENERATED", "AS":
			k := j
			if ts.is(k, "GENERATED") {
				var ok bool
				if k, ok = ts.words(k+1, "ALWAYS"); !ok {
					continue
				}
				k = ts.next(k)
				if !ts.is(k, "AS") {
					continue
				}
			}
			if r, ok := ts.words(k+1, "ROW", "START"); ok {
				ex.rowStart = true
				ts.blank(j, r)
				j = r - 1
				continue
			}
			if r, ok := ts.words(k+1, "ROW", "END"); ok {
				ex.rowEnd = true
				ts.blank(j, r)
				j = r - 1
				continue
			}
			// A generated column's expression: only that it is generated matters here.
			if e := ts.next(k + 1); ts.punct(e, "(") {
				c := ts.close(e)
				ts.blank(e+1, c)
				ts[e+1] = token{tkWord, "0"}
				j = c
			}
		}
	}
	if ex != (columnExtra{}) {
		p.columns[strings.ToLower(name)] = ex
	}
}

// tableOptions handles what follows CREATE TABLE's definitions from i. Of the table options
// the catalogue reads only the default charset and collation, and system versioning: the rest
// (engine options such as Aria's ROW_FORMAT=PAGE or `encrypted`=yes, partitioning) is left out,
// unless a query follows (CREATE TABLE ... SELECT), whose columns the parser must see.
func (p *preparedDDL) tableOptions(ts tokens, i int) {
	for j := i; j < len(ts); j++ {
		if ts.is(j, "WITH") {
			if k, ok := ts.words(j+1, "SYSTEM", "VERSIONING"); ok {
				p.versioning = 1
				ts.blank(j, k)
			}
		}
	}
	for j := i; j < len(ts); j++ {
		if ts.is(j, "SELECT") || ts.is(j, "AS") || ts.is(j, "LIKE") {
			return
		}
	}
	var keep []token
	for j := ts.next(i); j < len(ts); j = ts.next(j + 1) {
		k := j
		if ts.is(k, "DEFAULT") {
			k = ts.next(k + 1)
		}
		var what string
		switch {
		case ts.is(k, "CHARSET"):
			what, k = "CHARSET", ts.next(k+1)
		case ts.is(k, "CHARACTER"):
			if e, ok := ts.words(k+1, "SET"); ok {
				what, k = "CHARSET", ts.next(e)
			}
		case ts.is(k, "COLLATE"):
			what, k = "COLLATE", ts.next(k+1)
		}
		if what == "" {
			continue
		}
		if ts.punct(k, "=") {
			k = ts.next(k + 1)
		}
		if k < len(ts) && (ts[k].kind == tkWord || ts[k].kind == tkIdent || ts[k].kind == tkString) {
			keep = append(keep, token{tkSpace, " "}, token{tkWord, what + "=" + ts[k].text})
			j = k
		}
	}
	if len(keep) == 0 && ts.next(i) == len(ts) {
		return
	}
	ts.blank(i, len(ts))
	if len(keep) > 0 {
		ts[i] = token{tkWord, tokens(keep).String()}
	}
}

// alterSpecs rewrites the clauses of ALTER TABLE from i.
func (p *preparedDDL) alterSpecs(ts tokens, i int) {
	parts := ts.split(i, len(ts))
	dropped := 0
	for n, r := range parts {
		j := ts.next(r[0])
		switch {
		case ts.is(j, "ADD") || ts.is(j, "DROP"):
			add := ts.is(j, "ADD")
			if k, ok := ts.words(j+1, "SYSTEM", "VERSIONING"); ok {
				_ = k
				if add {
					p.versioning = 1
				} else {
					p.versioning = -1
				}
				p.dropPart(ts, r, n == dropped)
				dropped++
				continue
			}
			if _, ok := ts.words(j+1, "PERIOD"); ok {
				p.dropPart(ts, r, n == dropped)
				dropped++
				continue
			}
			if !add {
				continue
			}
			k := ts.next(j + 1)
			if ts.is(k, "COLUMN") {
				k = ts.next(k + 1)
			}
			if e, ok := ts.words(k, "IF", "NOT", "EXISTS"); ok {
				k = ts.next(e)
			}
			if ts.punct(k, "(") {
				c := ts.close(k)
				p.createBody(ts, k+1, c)
				continue
			}
			if k < r[1] && (ts[k].kind == tkIdent || ts[k].kind == tkWord && !tableDefKeyword(strings.ToUpper(ts[k].text))) {
				p.columnDef(ts, k, r[1])
			} else if k < r[1] {
				p.indexDef(ts, k, r[1])
			}
		case ts.is(j, "MODIFY") || ts.is(j, "CHANGE"):
			change := ts.is(j, "CHANGE")
			k := ts.next(j + 1)
			if ts.is(k, "COLUMN") {
				k = ts.next(k + 1)
			}
			if e, ok := ts.words(k, "IF", "EXISTS"); ok {
				k = ts.next(e)
			}
			if change {
				k = ts.next(k + 1)
			}
			if k < r[1] {
				p.columnDef(ts, k, r[1])
			}
		case ts.is(j, "ALGORITHM") || ts.is(j, "LOCK"):
			// How the server runs the ALTER (MariaDB's ALGORITHM=NOCOPY the parser does not know).
			p.dropPart(ts, r, n == dropped)
			dropped++
			continue
		case ts.is(j, "ALTER"):
			// ALTER [COLUMN] c SET [IN]VISIBLE (MySQL 8): a visibility change only.
			k := ts.next(j + 1)
			if ts.is(k, "COLUMN") {
				k = ts.next(k + 1)
			}
			if k < r[1] {
				if e, ok := ts.words(k+1, "SET", "INVISIBLE"); ok && ts.next(e) >= r[1] {
					p.visibility = append(p.visibility, visibility{ts[k].name(), true})
					p.dropPart(ts, r, n == dropped)
					dropped++
					continue
				}
				if e, ok := ts.words(k+1, "SET", "VISIBLE"); ok && ts.next(e) >= r[1] {
					p.visibility = append(p.visibility, visibility{ts[k].name(), false})
					p.dropPart(ts, r, n == dropped)
					dropped++
					continue
				}
			}
			// ALTER [COLUMN] c SET DEFAULT <expression>
			for k := j; k < r[1]; k++ {
				if ts.is(k, "DEFAULT") {
					v := ts.value(k + 1)
					ts.blank(k+1, v)
					ts[k] = token{tkWord, "DEFAULT NULL"}
					break
				}
			}
		case ts.is(j, "PARTITION"):
			if _, ok := ts.words(j+1, "BY", "SYSTEM_TIME"); ok {
				ts.blank(r[0], len(ts))
				return
			}
		}
	}
	if dropped == len(parts) {
		// Nothing left the parser must read: a no-op it does.
		ts[len(ts)-1].text += " FORCE"
	}
}
