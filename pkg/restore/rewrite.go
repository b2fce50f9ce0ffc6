package restore

import (
	"fmt"
	"strings"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// Rewrite renames tables in the SQL written, so that a table can be restored beside the
// original (shop.orders as shop_restore.orders), compared, and swapped. A table rule wins over
// a database rule.
type Rewrite struct {
	dbs    map[string]string
	tables map[[2]string][2]string
}

// ParseRewrite reads --rewrite-db old=new and --rewrite-table db.t=db2.t2 rules.
func ParseRewrite(dbs, tables []string) (*Rewrite, error) {
	if len(dbs) == 0 && len(tables) == 0 {
		return nil, nil
	}
	rw := &Rewrite{dbs: map[string]string{}, tables: map[[2]string][2]string{}}
	for _, r := range dbs {
		from, to, ok := strings.Cut(r, "=")
		if !ok || from == "" || to == "" || strings.Contains(from, ".") || strings.Contains(to, ".") {
			return nil, fmt.Errorf("--rewrite-db %q: want old=new", r)
		}
		if _, dup := rw.dbs[from]; dup {
			return nil, fmt.Errorf("--rewrite-db %q: %s is rewritten twice", r, from)
		}
		rw.dbs[from] = to
	}
	for _, r := range tables {
		from, to, ok := strings.Cut(r, "=")
		fd, ft, ok1 := strings.Cut(from, ".")
		td, tt, ok2 := strings.Cut(to, ".")
		if !ok || !ok1 || !ok2 || fd == "" || ft == "" || td == "" || tt == "" {
			return nil, fmt.Errorf("--rewrite-table %q: want db.table=db2.table2", r)
		}
		k := [2]string{fd, ft}
		if _, dup := rw.tables[k]; dup {
			return nil, fmt.Errorf("--rewrite-table %q: %s is rewritten twice", r, from)
		}
		rw.tables[k] = [2]string{td, tt}
	}
	return rw, nil
}

// target returns the name the SQL gives a source table.
func (rw *Rewrite) target(tm *binlog.TableMap) (db, table string) {
	return rw.targetName(tm.Schema, tm.Table)
}

func (rw *Rewrite) targetName(db, table string) (string, string) {
	if rw == nil {
		return db, table
	}
	if t, ok := rw.tables[[2]string{db, table}]; ok {
		return t[0], t[1]
	}
	if d, ok := rw.dbs[db]; ok {
		return d, table
	}
	return db, table
}
