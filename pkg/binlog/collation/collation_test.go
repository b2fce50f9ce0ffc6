package collation_test

import (
	"testing"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
	"github.com/pitr-tool/pitr/pkg/binlog/collation"
)

func TestLookups(t *testing.T) {
	for _, tc := range []struct {
		f       collation.Flavor
		id      int
		name    string
		charset string
	}{
		{collation.MySQL, 255, "utf8mb4_0900_ai_ci", "utf8mb4"},
		{collation.MySQL, 309, "utf8mb4_0900_bin", "utf8mb4"},
		{collation.MySQL, 323, "utf8mb4_mn_cyrl_0900_as_cs", "utf8mb4"},
		{collation.MySQL, 248, "gb18030_chinese_ci", "gb18030"},
		{collation.MySQL, 245, "utf8mb4_croatian_ci", "utf8mb4"},
		{collation.MariaDB, 608, "utf8mb4_croatian_ci", "utf8mb4"},
		{collation.MariaDB, 245, "utf8mb4_croatian_mysql561_ci", "utf8mb4"},
		{collation.MariaDB, 2304, "utf8mb4_uca1400_ai_ci", "utf8mb4"},
		{collation.MariaDB, 255, "utf8mb4_0900_ai_ci", "utf8mb4"}, // MariaDB 11.4.5
		{collation.MariaDB, 19, "euckr_korean_ci", "euckr"},
		{collation.MariaDB, 33, "utf8mb3_general_ci", "utf8mb3"},
		{collation.MariaDB, 63, "binary", "binary"},
		{collation.MySQL, 63, "binary", "binary"},
	} {
		c, ok := collation.ByID(tc.f, tc.id)
		if !ok || c.Name != tc.name || c.Charset != tc.charset {
			t.Errorf("ByID(%d, %d) = %+v, %v; want %s %s", tc.f, tc.id, c, ok, tc.name, tc.charset)
		}
		c, ok = collation.ByName(tc.f, tc.name)
		if !ok || c.ID != tc.id {
			t.Errorf("ByName(%d, %s) = %+v, %v; want id %d", tc.f, tc.name, c, ok, tc.id)
		}
	}
	if c, ok := collation.ByName(collation.Any, "UTF8_Unicode_520_CI"); !ok || c.Name != "utf8mb3_unicode_520_ci" {
		t.Errorf("utf8_ alias: %+v %v", c, ok)
	}
	if _, ok := collation.ByName(collation.MariaDB, "gb18030_chinese_ci"); ok {
		t.Error("MariaDB has no gb18030")
	}
	if c, ok := collation.ByName(collation.Any, "gb18030_chinese_ci"); !ok || c.ID != 248 {
		t.Errorf("Any falls back to MySQL: %+v %v", c, ok)
	}
	if _, ok := collation.ByID(collation.MariaDB, 1<<20); ok {
		t.Error("unknown id found")
	}
	for _, tc := range []struct {
		f             collation.Flavor
		charset, want string
	}{
		{collation.MySQL, "utf8mb4", "utf8mb4_0900_ai_ci"},
		{collation.MariaDB, "utf8mb4", "utf8mb4_general_ci"},
		{collation.Any, "utf8mb4", "utf8mb4_general_ci"},
		{collation.Any, "gb18030", "gb18030_chinese_ci"},
		{collation.MariaDB, "utf8", "utf8mb3_general_ci"},
		{collation.MySQL, "koi8r", "koi8r_general_ci"},
		{collation.MariaDB, "latin1", "latin1_swedish_ci"},
	} {
		if c, ok := collation.Default(tc.f, tc.charset); !ok || c.Name != tc.want || !c.Default {
			t.Errorf("Default(%d, %s) = %+v, %v; want %s", tc.f, tc.charset, c, ok, tc.want)
		}
	}
	if _, ok := collation.Default(collation.MariaDB, "gb18030"); ok {
		t.Error("gb18030 default on MariaDB")
	}
	if n := len(collation.Collations(collation.MySQL)); n != 286 {
		t.Errorf("MySQL 8.4 lists 286 collations, table has %d", n)
	}
	if n := len(collation.Charsets()); n != 41 {
		t.Errorf("41 charsets (MariaDB's 40 and gb18030), table has %d", n)
	}
	if cs, ok := collation.CharsetByName("UTF8"); !ok || cs.Maxlen != 3 {
		t.Errorf("utf8: %+v %v", cs, ok)
	}
}

// The generated table must hold what the installed server has: a newer MariaDB means running
// go generate again.
func TestTableMatchesServer(t *testing.T) {
	s := mariadbtest.Start(t, mariadbtest.Options{NoBinlog: true})
	rows, err := s.DB.Query("SELECT FULL_COLLATION_NAME, CHARACTER_SET_NAME, ID, IS_DEFAULT FROM information_schema.COLLATION_CHARACTER_SET_APPLICABILITY")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var name, cs, def string
		var id int
		if err := rows.Scan(&name, &cs, &id, &def); err != nil {
			t.Fatal(err)
		}
		n++
		c, ok := collation.ByID(collation.MariaDB, id)
		if !ok || c.Name != name || c.Charset != cs || c.Default != (def == "Yes") {
			t.Errorf("server: %d %s %s default=%q; table: %+v %v", id, name, cs, def, c, ok)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 1200 {
		t.Errorf("server listed only %d collations", n)
	}
	var cs string
	var maxlen int
	rows2, err := s.DB.Query("SELECT CHARACTER_SET_NAME, MAXLEN FROM information_schema.CHARACTER_SETS")
	if err != nil {
		t.Fatal(err)
	}
	defer rows2.Close()
	for rows2.Next() {
		if err := rows2.Scan(&cs, &maxlen); err != nil {
			t.Fatal(err)
		}
		if c, ok := collation.CharsetByName(cs); !ok || c.Maxlen != maxlen || c.MariaDBDefault == "" {
			t.Errorf("server charset %s maxlen %d; table %+v %v", cs, maxlen, c, ok)
		}
	}
}
