package restore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// ForeignKey is one FOREIGN KEY of a table in a dump: the table it references, and what a
// change of the referenced row does to the referencing rows.
type ForeignKey struct {
	Table, Refers    string // db.table, both
	OnDelete, OnUpdt string // "CASCADE", "SET NULL", ... ; "" for the default (RESTRICT)
}

// Cascades reports whether a change of a referenced row changes referencing rows: such changes
// are made by the server itself and are not in the binlog, so a replay only reproduces them
// with foreign key checks on.
func (k ForeignKey) Cascades() bool {
	c := func(a string) bool { return a == "CASCADE" || a == "SET NULL" || a == "SET DEFAULT" }
	return c(k.OnDelete) || c(k.OnUpdt)
}

var (
	fkLine   = regexp.MustCompile("(?i)FOREIGN KEY\\s*\\([^)]*\\)\\s*REFERENCES\\s+(`(?:[^`]|``)+`|\\w+)(?:\\.(`(?:[^`]|``)+`|\\w+))?")
	fkAction = regexp.MustCompile(`(?i)ON\s+(DELETE|UPDATE)\s+(CASCADE|SET\s+NULL|SET\s+DEFAULT|RESTRICT|NO\s+ACTION)`)
)

// DumpForeignKeys reads the FOREIGN KEY clauses of the CREATE TABLE statements of a
// mysqldump/mariadb-dump file (plain or gzip), streamed as LoadSchema reads it: data lines are
// skipped without being held.
func DumpForeignKeys(ctx context.Context, path string) ([]ForeignKey, error) {
	br, closeFn, err := openMaybeGzip(path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	var out []ForeignKey
	db, table := "", ""
	for n := 0; ; n++ {
		if n&1023 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		head, long, err := peekLine(br, 64<<10)
		if long {
			if serr := skipLine(br); serr != nil && serr != io.EOF {
				return nil, fmt.Errorf("%s: %w", path, serr)
			}
		}
		line := bytes.TrimRight(head, "\r\n")
		switch {
		case bytes.HasPrefix(line, []byte("-- Current Database: ")):
			db, _ = quotedAfter(line, "-- Current Database: ")
		case bytes.HasPrefix(line, []byte("USE `")):
			db, _ = quotedAfter(line, "USE ")
		case bytes.HasPrefix(line, []byte("-- Host: ")) && db == "":
			if i := bytes.Index(line, []byte("Database: ")); i >= 0 {
				db = strings.TrimSpace(string(line[i+len("Database: "):]))
			}
		case bytes.HasPrefix(line, []byte("CREATE TABLE ")):
			table, _ = quotedAfter(line, "CREATE TABLE ")
			if t, ok := quotedAfter(line, "CREATE TABLE IF NOT EXISTS "); ok {
				table = t
			}
		case bytes.HasPrefix(line, []byte(")")):
			table = ""
		case table != "":
			if m := fkLine.FindSubmatch(line); m != nil {
				refDB, ref := db, unquoteName(string(m[1]))
				if len(m[2]) > 0 {
					refDB, ref = ref, unquoteName(string(m[2]))
				}
				k := ForeignKey{Table: db + "." + table, Refers: refDB + "." + ref}
				for _, a := range fkAction.FindAllSubmatch(line, -1) {
					act := strings.ToUpper(strings.Join(strings.Fields(string(a[2])), " "))
					if strings.EqualFold(string(a[1]), "DELETE") {
						k.OnDelete = act
					} else {
						k.OnUpdt = act
					}
				}
				out = append(out, k)
			}
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
}

// Keeps reports whether the filter keeps the table db.table.
func (f *Filter) Keeps(full string) bool {
	db, table, _ := strings.Cut(full, ".")
	return f == nil || f.keep(db, table)
}
