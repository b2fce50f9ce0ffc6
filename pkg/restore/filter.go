package restore

import (
	"errors"
	"fmt"
	"path"
	"sort"
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

	// What the window holds, for Unmatched: table names, and the patterns that matched one.
	seen    map[string]struct{}
	seenMap map[*binlog.TableMap]bool
	matched map[string]bool
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

// maxSeen bounds the table names a Filter remembers for suggestions.
const maxSeen = 100000

// Saw records that the window holds the table db.table (a table map or a DDL statement names
// it), for Unmatched.
func (f *Filter) Saw(db, table string) {
	if f == nil || len(f.Databases)+len(f.Tables)+len(f.Exclude) == 0 {
		return
	}
	full := db + "." + table
	if _, ok := f.seen[full]; ok {
		return
	}
	if f.seen == nil {
		f.seen = map[string]struct{}{}
		f.matched = map[string]bool{}
	}
	if len(f.seen) < maxSeen {
		f.seen[full] = struct{}{}
	}
	for _, p := range f.Databases {
		if ok, _ := path.Match(p, db); ok {
			f.matched["-d\x00"+p] = true
		}
	}
	for _, p := range f.Tables {
		if ok, _ := path.Match(p, full); ok {
			f.matched["-t\x00"+p] = true
		}
	}
	for _, p := range f.Exclude {
		if ok, _ := path.Match(p, full); ok {
			f.matched["--exclude-table\x00"+p] = true
		}
	}
}

// sawTable is Saw for a table map, cached per map like KeepTable.
func (f *Filter) sawTable(tm *binlog.TableMap) {
	if f == nil || len(f.Databases)+len(f.Tables)+len(f.Exclude) == 0 {
		return
	}
	if f.seenMap[tm] {
		return
	}
	if f.seenMap == nil || len(f.seenMap) > 4096 {
		f.seenMap = map[*binlog.TableMap]bool{}
	}
	f.seenMap[tm] = true
	f.Saw(tm.Schema, tm.Table)
}

// ErrFilterMatchesNothing means a -d, -t or --exclude-table pattern matched no table the
// window holds: a typo, which would otherwise give an empty replay and exit 0.
var ErrFilterMatchesNothing = errors.New("a table filter matches no table in the window")

// Unmatched returns an error naming every pattern that matched no table seen (by Saw), with
// the seen tables closest to it; nil when each pattern matched one.
func (f *Filter) Unmatched() error {
	if f == nil {
		return nil
	}
	var msgs []string
	check := func(flag string, patterns []string, dbOnly bool) {
		for _, p := range patterns {
			if f.matched[flag+"\x00"+p] {
				continue
			}
			msgs = append(msgs, fmt.Sprintf("%s %q matches no table in the window %s", flag, p, f.closest(p, dbOnly)))
		}
	}
	check("-d", f.Databases, true)
	check("-t", f.Tables, false)
	check("--exclude-table", f.Exclude, false)
	if len(msgs) == 0 {
		return nil
	}
	return filterError{strings.Join(msgs, "; ")}
}

type filterError struct{ msg string }

func (e filterError) Error() string { return e.msg }
func (e filterError) Unwrap() error { return ErrFilterMatchesNothing }

// closest describes the seen names (databases when dbOnly) nearest to the pattern p.
func (f *Filter) closest(p string, dbOnly bool) string {
	names := map[string]bool{}
	for full := range f.seen {
		if dbOnly {
			full, _, _ = strings.Cut(full, ".")
		}
		names[full] = true
	}
	if len(names) == 0 {
		return "(the window holds no table at all)"
	}
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	lp := strings.ToLower(p)
	for n := range names {
		ln := strings.ToLower(n)
		d := editDistance(lp, ln)
		if strings.Contains(ln, strings.Trim(lp, "*?")) {
			d = min(d, 1) // shop.order for shop.orders and shop.order_items
		}
		cs = append(cs, cand{n, d})
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].name < cs[j].name
	})
	if len(cs) > 3 {
		cs = cs[:3]
	}
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.name
	}
	what := "tables"
	if dbOnly {
		what = "databases"
	}
	return fmt.Sprintf("(closest %s seen: %s)", what, strings.Join(out, ", "))
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
