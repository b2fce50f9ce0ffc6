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

// TestEnumSetMembers: with the members in the table map (binlog_row_metadata=FULL), an ENUM
// index or SET bit past them is corruption; with members from a schema, which may be older
// than the binlog, the value is passed on (the strict target refuses a bad one).
func TestEnumSetMembers(t *testing.T) {
	members := [][]byte{[]byte("a"), []byte("b"), []byte("c")}
	for _, tc := range []struct {
		name   string
		col    Column
		cell   byte
		logged bool
		want   string
	}{
		{"enum in range", Column{Type: mysql.MYSQL_TYPE_ENUM, Enum: members}, 3, true, ""},
		{"enum error value", Column{Type: mysql.MYSQL_TYPE_ENUM, Enum: members}, 0, true, ""},
		{"enum past the members", Column{Type: mysql.MYSQL_TYPE_ENUM, Enum: members}, 4, true, "ENUM index 4 in a column of 3 members"},
		{"enum past schema members", Column{Type: mysql.MYSQL_TYPE_ENUM, Enum: members}, 4, false, ""},
		{"set in range", Column{Type: mysql.MYSQL_TYPE_SET, Set: members}, 0b111, true, ""},
		{"set past the members", Column{Type: mysql.MYSQL_TYPE_SET, Set: members}, 0b1001, true, "SET bits 0x9 in a column of 3 members"},
		{"set past schema members", Column{Type: mysql.MYSQL_TYPE_SET, Set: members}, 0b1001, false, ""},
	} {
		c := tc.col
		c.Name, c.lenBytes, c.membersLogged = "e", 1, tc.logged
		tm := &TableMap{Schema: "db", Table: "t", Columns: []Column{c}}
		r := &Rows{Kind: Insert, Table: tm, Present1: []byte{1}, Present2: []byte{1}, data: []byte{0, tc.cell}}
		_, row, err := r.Next()
		if tc.want == "" && (err != nil || row[0].Uint != uint64(tc.cell)) || tc.want != "" && (err == nil || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
