package binlog

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestCorpusCollations: every collation id real MySQL and MariaDB servers wrote into the
// corpus's table maps is known, read with the ids of the server that wrote it; MySQL 8's
// utf8mb4_0900_ai_ci (255) among them.
func TestCorpusCollations(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("no binlog corpus: %v", err)
	}
	seen := map[string]bool{}
	checked := 0
	err := filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "MANIFEST.md" {
			return err
		}
		res := decodeCorpusFile(p, false)
		for name, tm := range res.tables {
			for i, c := range tm.Columns {
				if c.Collation == 0 {
					continue
				}
				checked++
				if c.Charset == "" {
					t.Errorf("%s: %s column %d: collation %d unknown (MariaDB=%v)", filepath.Base(p), name, i+1, c.Collation, tm.MariaDB)
				}
				flavor := "MySQL"
				if tm.MariaDB {
					flavor = "MariaDB"
				}
				seen[flavor+" "+strconv.FormatUint(c.Collation, 10)+" "+c.Charset] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	for k := range seen {
		list = append(list, k)
	}
	sort.Strings(list)
	t.Logf("%d columns; collations seen: %s", checked, strings.Join(list, ", "))
	if !seen["MySQL 255 utf8mb4"] {
		t.Errorf("MySQL 8's utf8mb4_0900_ai_ci (255) not seen as utf8mb4")
	}
	if !seen["MySQL 63 binary"] {
		t.Errorf("binary (63) not seen")
	}
}
