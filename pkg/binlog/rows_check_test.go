package binlog

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// TestRowImageStructureChecks: what a table map says about a column bounds its cells, which
// in a binlog without checksums is the only sign of a flipped null bit or length byte.
func TestRowImageStructureChecks(t *testing.T) {
	tm := &TableMap{Schema: "db", Table: "t", Columns: []Column{
		{Name: "id", Type: mysql.MYSQL_TYPE_LONG},
		{Name: "s", Type: mysql.MYSQL_TYPE_VARCHAR, Nullable: true, lenBytes: 1, maxLen: 3},
	}}
	for _, tc := range []struct {
		name string
		row  []byte
		want string // "" for no error
	}{
		{"valid", []byte{0, 7, 0, 0, 0, 3, 'a', 'b', 'c'}, ""},
		{"NULL in the nullable column", []byte{0b10, 7, 0, 0, 0}, ""},
		{"NULL in the NOT NULL column", []byte{0b01, 1, 'a'}, "NULL in NOT NULL column id"},
		{"string longer than its column", []byte{0, 7, 0, 0, 0, 4, 'a', 'b', 'c', 'd'}, "4 bytes in a column of at most 3"},
	} {
		r := &Rows{Kind: Insert, Table: tm, Present1: []byte{0b11}, Present2: []byte{0b11}, data: tc.row}
		_, _, err := r.Next()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
