// Package collation knows the character sets and collations of MySQL 8.4/9.x and MariaDB
// 10.11/11.x: which character set a collation id names, how wide its characters are, and each
// character set's default collation on each server.
//
// Ids depend on the server that wrote them: MySQL and MariaDB agree on the charset of every id
// both use today, but not on every name (utf8mb4_croatian_ci is 245 on MySQL, 608 on MariaDB),
// and nothing promises they will keep agreeing. Look ids up with the flavor of the binlog's
// server.
package collation

//go:generate go run ../../../internal/collationgen -o table.go

import (
	"sort"
	"strings"
)

// Flavor says whose ids and defaults to use.
type Flavor uint8

const (
	// Any looks a name up in both servers' lists, MySQL's first.
	Any Flavor = iota
	MySQL
	MariaDB
)

// Collation is one collation of one server.
type Collation struct {
	ID       int
	Name     string // as the server lists it: utf8 collations spelled utf8mb3_*
	Charset  string // utf8 spelled utf8mb3
	Default  bool   // the charset's default collation on this server
	PadSpace bool   // trailing spaces do not count in comparisons
}

// Charset is one character set.
type Charset struct {
	Name string // utf8 spelled utf8mb3
	// Maxlen is the widest character in bytes: VARCHAR(n) stores up to n*Maxlen bytes.
	Maxlen         int
	Description    string
	MySQLDefault   string // default collation on MySQL; "" for a charset MySQL lacks
	MariaDBDefault string // default collation on MariaDB; "" for a charset MariaDB lacks
}

func table(f Flavor) []Collation {
	if f == MariaDB {
		return mariadbCollations[:]
	}
	return mysqlCollations[:]
}

func names(f Flavor) []uint16 {
	if f == MariaDB {
		return mariadbByName[:]
	}
	return mysqlByName[:]
}

// ByID returns the collation with the given id on the given server (MySQL for Any).
func ByID(f Flavor, id int) (Collation, bool) {
	t := table(f)
	i := sort.Search(len(t), func(i int) bool { return t[i].ID >= id })
	if i < len(t) && t[i].ID == id {
		return t[i], true
	}
	return Collation{}, false
}

// ByName returns the collation of that name on the given server, or with Any on MySQL and
// else MariaDB. Names are case-insensitive; utf8_* is read as utf8mb3_*.
func ByName(f Flavor, name string) (Collation, bool) {
	name = normalizeName(name)
	if f == Any {
		if c, ok := ByName(MySQL, name); ok {
			return c, true
		}
		return ByName(MariaDB, name)
	}
	t, idx := table(f), names(f)
	i := sort.Search(len(idx), func(i int) bool { return t[idx[i]].Name >= name })
	if i < len(idx) && t[idx[i]].Name == name {
		return t[idx[i]], true
	}
	return Collation{}, false
}

// CharsetByName returns a character set known to either server. utf8 is read as utf8mb3.
func CharsetByName(name string) (Charset, bool) {
	name = NormalizeCharset(name)
	i := sort.Search(len(charsets), func(i int) bool { return charsets[i].Name >= name })
	if i < len(charsets) && charsets[i].Name == name {
		return charsets[i], true
	}
	return Charset{}, false
}

// Default returns the default collation of a character set on the given server (MariaDB's
// where the charset exists there, for Any; MySQL's otherwise).
func Default(f Flavor, charset string) (Collation, bool) {
	cs, ok := CharsetByName(charset)
	if !ok {
		return Collation{}, false
	}
	name := cs.MySQLDefault
	switch {
	case f == MariaDB, f == Any && cs.MariaDBDefault != "":
		name, f = cs.MariaDBDefault, MariaDB
	case f == Any:
		f = MySQL
	}
	if name == "" {
		return Collation{}, false
	}
	return ByName(f, name)
}

// Collations returns the list of one server, by id.
func Collations(f Flavor) []Collation { return append([]Collation(nil), table(f)...) }

// Charsets returns every character set of either server, by name.
func Charsets() []Charset { return append([]Charset(nil), charsets[:]...) }

// NormalizeCharset lowercases a character set name and spells utf8 utf8mb3.
func NormalizeCharset(name string) string {
	name = strings.ToLower(name)
	if name == "utf8" {
		return "utf8mb3"
	}
	return name
}

func normalizeName(name string) string {
	name = strings.ToLower(name)
	if strings.HasPrefix(name, "utf8_") {
		return "utf8mb3_" + name[len("utf8_"):]
	}
	return name
}
