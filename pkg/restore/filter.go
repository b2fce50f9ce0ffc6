package restore

import (
	"fmt"
	"path"
	"strings"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// Filter selects tables and row operations. The zero Filter keeps everything.
type Filter struct {
	Databases []string // glob patterns on the database name
	Tables    []string // glob patterns "db.table"
	Exclude   []string // glob patterns "db.table"
	Only      map[binlog.RowsKind]bool

	cache map[*binlog.TableMap]bool
}

// NewFilter checks the patterns and kinds given on the command line.
func NewFilter(databases, tables, exclude, only []string) (*Filter, error) {
	f := &Filter{Databases: databases, Tables: tables, Exclude: exclude}
	for _, p := range databases {
		if _, err := path.Match(p, ""); err != nil || p == "" {
			return nil, fmt.Errorf("--database %q: bad pattern", p)
		}
	}
	for flag, list := range map[string][]string{"--table": tables, "--exclude-table": exclude} {
		for _, p := range list {
			if _, err := path.Match(p, ""); err != nil || !strings.Contains(p, ".") || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") {
				return nil, fmt.Errorf("%s %q: want db.table (shell globs allowed, e.g. shop.order_*)", flag, p)
			}
		}
	}
	if len(only) > 0 {
		f.Only = map[binlog.RowsKind]bool{}
		for _, o := range only {
			for _, k := range strings.Split(o, ",") {
				switch strings.ToLower(strings.TrimSpace(k)) {
				case "insert":
					f.Only[binlog.Insert] = true
				case "update":
					f.Only[binlog.Update] = true
				case "delete":
					f.Only[binlog.Delete] = true
				default:
					return nil, fmt.Errorf("--only %q: want a list of insert, update, delete", o)
				}
			}
		}
	}
	return f, nil
}

// Clone returns a filter with the same rules and a cache of its own, for another goroutine.
func (f *Filter) Clone() *Filter {
	if f == nil {
		return nil
	}
	return &Filter{Databases: f.Databases, Tables: f.Tables, Exclude: f.Exclude, Only: f.Only}
}

// KeepKind reports whether rows of kind k are wanted.
func (f *Filter) KeepKind(k binlog.RowsKind) bool { return f == nil || f.Only == nil || f.Only[k] }

// KeepTable reports whether rows of the table are wanted. Decisions are cached per table map,
// which the decoder reuses while the map does not change.
func (f *Filter) KeepTable(tm *binlog.TableMap) bool {
	if f == nil {
		return true
	}
	if v, ok := f.cache[tm]; ok {
		return v
	}
	v := f.keep(tm.Schema, tm.Table)
	if f.cache == nil || len(f.cache) > 4096 {
		f.cache = map[*binlog.TableMap]bool{}
	}
	f.cache[tm] = v
	return v
}

func (f *Filter) keep(db, table string) bool {
	full := db + "." + table
	for _, p := range f.Exclude {
		if ok, _ := path.Match(p, full); ok {
			return false
		}
	}
	if len(f.Databases) == 0 && len(f.Tables) == 0 {
		return true
	}
	for _, p := range f.Databases {
		if ok, _ := path.Match(p, db); ok {
			return true
		}
	}
	for _, p := range f.Tables {
		if ok, _ := path.Match(p, full); ok {
			return true
		}
	}
	return false
}
