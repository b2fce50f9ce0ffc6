package restore

import (
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser"
	tcharset "github.com/pingcap/tidb/pkg/parser/charset"

	"github.com/pitr-tool/pitr/pkg/binlog/collation"
)

// registerCharsets teaches the TiDB parser every character set and collation of MySQL and
// MariaDB: it knows few of them by itself, and refuses a CREATE TABLE that names another
// ("Unknown character set: 'euckr'"). The parser keeps them in package state of its own, so
// this runs once, before the first parser is made.
var registerCharsets = sync.OnceFunc(func() {
	for _, cs := range collation.Charsets() {
		name := parserCharset(cs.Name)
		if _, ok := tcharset.CharacterSetInfos[name]; ok {
			continue
		}
		def := cs.MariaDBDefault
		if def == "" {
			def = cs.MySQLDefault
		}
		tcharset.AddCharset(&tcharset.Charset{Name: name, DefaultCollation: parserCollation(def),
			Collations: map[string]*tcharset.Collation{}, Desc: cs.Description, Maxlen: cs.Maxlen})
	}
	// pitr reads collation ids from its own table, by server; in the parser's id map MySQL's
	// ids win, as they did before.
	for _, f := range []collation.Flavor{collation.MariaDB, collation.MySQL} {
		for _, c := range collation.Collations(f) {
			pad := tcharset.PadSpace
			if !c.PadSpace {
				pad = tcharset.PadNone
			}
			names := []string{c.Name}
			if rest, ok := strings.CutPrefix(c.Name, "utf8mb3_"); ok {
				names = append(names, "utf8_"+rest) // both spellings are in dumps
			}
			for _, n := range names {
				have, err := tcharset.GetCollationByName(n)
				if err != nil {
					prev, _ := tcharset.GetCollationByID(c.ID)
					have = &tcharset.Collation{ID: c.ID, CharsetName: parserCharset(c.Charset), Name: n, IsDefault: c.Default,
						Sortlen: 1, PadAttribute: pad}
					tcharset.AddCollation(have)
					if prev != nil {
						tcharset.AddCollation(prev)
					}
				}
				if info, ok := tcharset.CharacterSetInfos[parserCharset(c.Charset)]; ok {
					info.Collations[n] = have
				}
			}
		}
	}
})

// parserCharset is the parser's spelling of a character set: utf8 for utf8mb3.
func parserCharset(name string) string {
	if name == "utf8mb3" {
		return "utf8"
	}
	return name
}

func parserCollation(name string) string {
	if rest, ok := strings.CutPrefix(name, "utf8mb3_"); ok {
		return "utf8_" + rest
	}
	return name
}

// newParser returns a TiDB parser that knows every character set and collation.
func newParser() *parser.Parser {
	registerCharsets()
	return parser.New()
}
