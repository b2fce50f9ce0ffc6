package restore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// Column types as MariaDB 10.11 logs them (read from a real server's table maps).
var (
	mLong    = binlog.Column{Type: mysql.MYSQL_TYPE_LONG}
	mBinary  = func(n uint16) binlog.Column { return binlog.Column{Type: mysql.MYSQL_TYPE_STRING, Meta: 0xFE00 | n} }
	mVarchar = func(bytes uint16) binlog.Column { return binlog.Column{Type: mysql.MYSQL_TYPE_VARCHAR, Meta: bytes} }
	mTS6     = binlog.Column{Type: mysql.MYSQL_TYPE_TIMESTAMP2, Meta: 6}
	mBigint  = binlog.Column{Type: mysql.MYSQL_TYPE_LONGLONG}
	mTiny    = binlog.Column{Type: mysql.MYSQL_TYPE_TINY}
	mBlob    = binlog.Column{Type: mysql.MYSQL_TYPE_BLOB, Meta: 2}
	mGeom    = binlog.Column{Type: mysql.MYSQL_TYPE_GEOMETRY, Meta: 4}
)

// TestMariaDBSyntaxLoads: what mariadb-dump and mysqldump write for MariaDB's and MySQL 8's own
// types and table features loads, each column with its real type, length and charset, and a
// NO_LOG table map resolves against it.
func TestMariaDBSyntaxLoads(t *testing.T) {
	cases := []struct {
		name, ddl string
		mariaDB   bool
		cols      []binlog.Column
		want      string // name:charset/collation id per column, or the error
	}{
		{"uuid inet", "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `a` uuid DEFAULT NULL,\n  `b` inet6 DEFAULT NULL,\n  `c` inet4 NOT NULL DEFAULT '0.0.0.0',\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=euckr COLLATE=euckr_korean_ci;",
			true, []binlog.Column{mLong, mBinary(16), mBinary(16), mBinary(4)}, "id: a:binary/63 b:binary/63 c:binary/63"},
		{"invisible and expression default", "CREATE TABLE `t` (\n  `id` int(11) NOT NULL DEFAULT (1 + 2),\n  `d` int(11) INVISIBLE DEFAULT NULL,\n  `e` varchar(5) DEFAULT concat('a','b'),\n  `u` varchar(36) DEFAULT uuid(),\n  `k` varchar(3) CHARACTER SET sjis DEFAULT _sjis 'x'\n) ENGINE=InnoDB DEFAULT CHARSET=euckr COLLATE=euckr_korean_ci;",
			true, []binlog.Column{mLong, mLong, mVarchar(10), mVarchar(72), mVarchar(6)}, "id: d:invisible e:euckr/19 u:euckr/19 k:sjis/13"},
		{"implicit system versioning", "CREATE TABLE `v` (\n  `id` int(11) NOT NULL,\n  `x` int(11) DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci WITH SYSTEM VERSIONING;",
			true, []binlog.Column{mLong, mLong, mTS6, mTS6}, "id: x: row_start:invisible row_end:invisible"},
		{"explicit system versioning", "CREATE TABLE `v` (\n  `id` int(11) NOT NULL,\n  `x` int(11) DEFAULT NULL WITHOUT SYSTEM VERSIONING,\n  `rs` timestamp(6) GENERATED ALWAYS AS ROW START,\n  `re` timestamp(6) GENERATED ALWAYS AS ROW END INVISIBLE,\n  PRIMARY KEY (`id`,`re`),\n  PERIOD FOR SYSTEM_TIME (`rs`, `re`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci WITH SYSTEM VERSIONING\n PARTITION BY SYSTEM_TIME LIMIT 1000\n(PARTITION `p0` HISTORY ENGINE = InnoDB,\n PARTITION `pn` CURRENT ENGINE = InnoDB);",
			true, []binlog.Column{mLong, mLong, mTS6, mTS6}, "id: x: rs: re:invisible"},
		{"sequence", "CREATE SEQUENCE `s` start with 1 minvalue 1 maxvalue 9223372036854775806 increment by 1 cache 1000 nocycle ENGINE=InnoDB;",
			true, []binlog.Column{mBigint, mBigint, mBigint, mBigint, mBigint, mBigint, mTiny, mBigint},
			"next_not_cached_value: minimum_value: maximum_value: start_value: increment: cache_size: cycle_option: cycle_count:"},
		{"sequence as table", "CREATE TABLE `s` (\n  `next_not_cached_value` bigint(21) NOT NULL,\n  `minimum_value` bigint(21) NOT NULL,\n  `maximum_value` bigint(21) NOT NULL,\n  `start_value` bigint(21) NOT NULL,\n  `increment` bigint(21) NOT NULL,\n  `cache_size` bigint(21) unsigned NOT NULL,\n  `cycle_option` tinyint(1) unsigned NOT NULL,\n  `cycle_count` bigint(21) NOT NULL\n) ENGINE=InnoDB SEQUENCE=1;",
			true, []binlog.Column{mBigint, mBigint, mBigint, mBigint, mBigint, mBigint, mTiny, mBigint},
			"next_not_cached_value: minimum_value: maximum_value: start_value: increment: cache_size: cycle_option: cycle_count:"},
		{"mysql functional index, vector, srid", "CREATE TABLE `m` (\n  `id` int NOT NULL,\n  `v` vector(3) DEFAULT NULL,\n  `g` point NOT NULL /*!80003 SRID 4326 */,\n  `j` json DEFAULT NULL,\n  PRIMARY KEY (`id`),\n  KEY `f` ((cast(json_extract(`j`,_utf8mb4'$.a') as unsigned))),\n  SPATIAL KEY `g` (`g`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci;",
			false, []binlog.Column{mLong, {Type: mysql.MYSQL_TYPE_VECTOR, Meta: 4}, mGeom, {Type: mysql.MYSQL_TYPE_JSON, Meta: 4}}, "id: v:binary/63 g: j:"},
		{"mysql 8 invisible and expression default", "CREATE TABLE `i` (\n  `id` int NOT NULL,\n  `h` int DEFAULT NULL /*!80023 INVISIBLE */,\n  `b` binary(16) DEFAULT (uuid_to_bin(uuid())),\n  `n` varchar(5) COLLATE utf8mb4_ja_0900_as_cs_ks DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci /*!50100 PARTITION BY HASH (`id`) PARTITIONS 4 */;",
			false, []binlog.Column{mLong, mLong, mBinary(16), mVarchar(20)}, "id: h:invisible b:binary/63 n:utf8mb4/304"},
		{"vector on mariadb", "CREATE TABLE `m` (\n  `id` int(11) NOT NULL,\n  `v` vector(3) NOT NULL,\n  PRIMARY KEY (`id`),\n  VECTOR KEY `v` (`v`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_uca1400_ai_ci;",
			true, []binlog.Column{mLong, mVarchar(12)}, "id: v:binary/63"},
		{"engine options, compressed, ignored index", "CREATE TABLE `a` (\n  `id` int(11) NOT NULL,\n  `t` text /*!100301 COMPRESSED*/ DEFAULT NULL,\n  `c` int(11) DEFAULT NULL CHECK (`c` > 0),\n  `g` int(11) GENERATED ALWAYS AS (`c` * 2) PERSISTENT,\n  PRIMARY KEY (`id`),\n  KEY `c` (`c`) IGNORED\n) ENGINE=Aria DEFAULT CHARSET=latin2 COLLATE=latin2_czech_cs PAGE_CHECKSUM=1 ROW_FORMAT=PAGE `encrypted`=yes;",
			true, []binlog.Column{mLong, mBlob, mLong, mLong}, "id: t:latin2/2 c: g:generated"},
		{"length checked", "CREATE TABLE `t` (`a` inet6, `b` varchar(5)) DEFAULT CHARSET=euckr;",
			true, []binlog.Column{mBinary(16), mVarchar(15)}, "holds 15 bytes in the binlog but is VARCHAR(5) euckr (10 bytes)"},
		{"type checked", "CREATE TABLE `t` (`a` uuid);",
			true, []binlog.Column{mLong}, "is int in the binlog but `a` uuid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dump.sql")
			os.WriteFile(path, []byte("-- Current Database: `d`\n"+tc.ddl+"\n"), 0o644)
			c := loadSchema(t, path)
			var table string
			for k := range c.tables {
				table = strings.TrimPrefix(k, "d.")
			}
			got, err := c.resolve(context.Background(), noLogMap("d", table, tc.mariaDB, tc.cols...))
			if err != nil {
				if !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrSchemaMismatch) {
					t.Fatalf("%v\nwant %s", err, tc.want)
				}
				return
			}
			var desc []string
			for _, bc := range got.Columns {
				d := bc.Name + ":"
				if bc.Collation != 0 {
					d += fmt.Sprintf("%s/%d", bc.Charset, bc.Collation)
				}
				if bc.Invisible {
					d += "invisible"
				}
				if bc.Generated {
					d += "generated"
				}
				desc = append(desc, d)
			}
			if strings.Join(desc, " ") != tc.want {
				t.Errorf("got  %s\nwant %s", strings.Join(desc, " "), tc.want)
			}
		})
	}
}

// TestAlterCharsetTracking: CONVERT TO CHARACTER SET, DEFAULT CHARSET changes, a MODIFY with or
// without a charset, and system versioning added and dropped in the window change what later
// NO_LOG table maps resolve to.
func TestAlterCharsetTracking(t *testing.T) {
	ctx := context.Background()
	c := newCatalog("test")
	if err := c.add(c.parser, "", "CREATE DATABASE `d` /*!40100 DEFAULT CHARACTER SET cp1251 */"); err != nil {
		t.Fatal(err)
	}
	if err := c.add(c.parser, "d", "CREATE TABLE t (id int PRIMARY KEY, a varchar(10), b text, bin varbinary(4), e enum('x','y')) DEFAULT CHARSET=latin1"); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		ddl  string
		cols []binlog.Column
		want string
	}{
		{"", []binlog.Column{mLong, mVarchar(10), mBlob, mVarchar(4), {Type: mysql.MYSQL_TYPE_ENUM, Meta: 1}},
			"id: a:latin1/8 b:latin1/8 bin:binary/63 e:utf8mb4/45"},
		{"ALTER TABLE t CONVERT TO CHARACTER SET euckr", []binlog.Column{mLong, mVarchar(20), mBlob, mVarchar(4), {Type: mysql.MYSQL_TYPE_ENUM, Meta: 1}},
			"id: a:euckr/19 b:euckr/19 bin:binary/63 e:utf8mb4/45"},
		{"ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_nopad_ci", []binlog.Column{mLong, mVarchar(40), mBlob, mVarchar(4), {Type: mysql.MYSQL_TYPE_ENUM, Meta: 1}},
			"id: a:utf8mb4/1270 b:utf8mb4/1270 bin:binary/63 e:utf8mb4/45"},
		{"ALTER TABLE t DEFAULT CHARSET=latin2, ADD COLUMN c varchar(3), ADD COLUMN k char(2) CHARACTER SET sjis", []binlog.Column{mLong, mVarchar(40), mBlob, mVarchar(4), {Type: mysql.MYSQL_TYPE_ENUM, Meta: 1}, mVarchar(3), {Type: mysql.MYSQL_TYPE_STRING, Meta: 0xFE04}},
			"id: a:utf8mb4/1270 b:utf8mb4/1270 bin:binary/63 e:utf8mb4/45 c:latin2/9 k:sjis/13"},
		{"ALTER TABLE t MODIFY a varchar(10) CHARACTER SET ucs2, MODIFY b mediumtext", []binlog.Column{mLong, mVarchar(20), {Type: mysql.MYSQL_TYPE_BLOB, Meta: 3}, mVarchar(4), {Type: mysql.MYSQL_TYPE_ENUM, Meta: 1}, mVarchar(3), {Type: mysql.MYSQL_TYPE_STRING, Meta: 0xFE04}},
			"id: a:ucs2/35 b:latin2/9 bin:binary/63 e:utf8mb4/45 c:latin2/9 k:sjis/13"},
		{"ALTER TABLE t CONVERT TO CHARACTER SET DEFAULT, DROP COLUMN e, DROP COLUMN k, DROP COLUMN bin", []binlog.Column{mLong, mVarchar(10), mBlob, mVarchar(3)},
			"id: a:cp1251/51 b:cp1251/51 c:cp1251/51"},
		{"ALTER TABLE t ADD SYSTEM VERSIONING", []binlog.Column{mLong, mVarchar(10), mBlob, mVarchar(3), mTS6, mTS6},
			"id: a:cp1251/51 b:cp1251/51 c:cp1251/51 row_start:invisible row_end:invisible"},
		{"ALTER TABLE t DROP SYSTEM VERSIONING, ADD COLUMN u uuid", []binlog.Column{mLong, mVarchar(10), mBlob, mVarchar(3), mBinary(16)},
			"id: a:cp1251/51 b:cp1251/51 c:cp1251/51 u:binary/63"},
		{"ALTER ONLINE TABLE t WAIT 5 ADD COLUMN w int, ALGORITHM=NOCOPY, LOCK=NONE", []binlog.Column{mLong, mVarchar(10), mBlob, mVarchar(3), mBinary(16), mLong},
			"id: a:cp1251/51 b:cp1251/51 c:cp1251/51 u:binary/63 w:"},
		{"ALTER TABLE t ALTER COLUMN w SET INVISIBLE, ALGORITHM=INSTANT", []binlog.Column{mLong, mVarchar(10), mBlob, mVarchar(3), mBinary(16), mLong},
			"id: a:cp1251/51 b:cp1251/51 c:cp1251/51 u:binary/63 w:invisible"},
		{"ALTER DATABASE d CHARACTER SET greek", nil, ""},
		{"CREATE TABLE t2 (a varchar(2))", nil, ""},
	}
	d := newDDLParser()
	for _, st := range steps {
		if st.ddl != "" {
			ch, err := d.change("d", []byte(st.ddl))
			if err != nil || ch == nil {
				t.Fatalf("%s: %v %v", st.ddl, ch, err)
			}
			if err := c.apply(ctx, ch); err != nil {
				t.Fatalf("%s: %v", st.ddl, err)
			}
		}
		if st.cols == nil {
			continue
		}
		got, err := c.resolve(ctx, noLogMap("d", "t", true, st.cols...))
		if err != nil {
			t.Fatalf("after %q: %v", st.ddl, err)
		}
		var desc []string
		for _, bc := range got.Columns {
			d := bc.Name + ":"
			if bc.Collation != 0 {
				d += fmt.Sprintf("%s/%d", bc.Charset, bc.Collation)
			}
			if bc.Invisible {
				d += "invisible"
			}
			desc = append(desc, d)
		}
		if strings.Join(desc, " ") != st.want {
			t.Errorf("after %q:\ngot  %s\nwant %s", st.ddl, strings.Join(desc, " "), st.want)
		}
	}
	// The database default changed in the window reaches tables created after it.
	got, err := c.resolve(ctx, noLogMap("d", "t2", true, mVarchar(2)))
	if err != nil || got.Columns[0].Charset != "greek" || got.Columns[0].Collation != 25 {
		t.Errorf("t2 after ALTER DATABASE: %+v %v", got, err)
	}
}

// TestUnreadableTable: a CREATE TABLE pitr cannot read fails only a run that needs that table,
// naming the file and line; its neighbours load.
func TestUnreadableTable(t *testing.T) {
	dump := "-- Current Database: `d`\n" +
		"CREATE TABLE `good` (`id` int NOT NULL, `a` varchar(3), PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=latin1;\n" +
		"CREATE TABLE `future` (\n  `id` int NOT NULL,\n  `f` varchar(10) FIELD_FORMAT='x'\n) ENGINE=CONNECT;\n"
	path := filepath.Join(t.TempDir(), "dump.sql")
	os.WriteFile(path, []byte(dump), 0o644)
	c := loadSchema(t, path)
	if _, err := c.resolve(context.Background(), noLogMap("d", "good", true, mLong, mVarchar(3))); err != nil {
		t.Fatal(err)
	}
	_, err := c.resolve(context.Background(), noLogMap("d", "future", true, mLong))
	if err == nil || !strings.Contains(err.Error(), path+":3:") || !strings.Contains(err.Error(), "d.future") {
		t.Errorf("unreadable table: %v", err)
	}
	// A window that creates the table anew reads that definition instead.
	ch, err := newDDLParser().change("d", []byte("CREATE TABLE future (id int NOT NULL)"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.apply(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	if _, err := c.resolve(context.Background(), noLogMap("d", "future", true, mLong)); err != nil {
		t.Errorf("after CREATE TABLE in the window: %v", err)
	}
	// DDL in the window that pitr cannot read makes its table unreadable from there on.
	c.unreadableDDL("d", []byte("ALTER TABLE `good` ADD COLUMN z int, ALGORITHM=NOCOPY"), errors.New("mysql-bin.000001:400: cannot parse"))
	if _, err := c.resolve(context.Background(), noLogMap("d", "good", true, mLong, mVarchar(3))); err == nil || !strings.Contains(err.Error(), "mysql-bin.000001:400") {
		t.Errorf("after unreadable ALTER: %v", err)
	}
}

// TestServerCatalogUnreadable: a table --schema-from gets in a form pitr cannot read stops only
// a run that needs it; MariaDB's types from SHOW CREATE TABLE load.
func TestServerCatalogUnreadable(t *testing.T) {
	ctx := context.Background()
	fetched := map[string]int{}
	c := NewServerCatalog("srv", func(ctx context.Context, db, table string) (string, error) {
		fetched[table]++
		switch table {
		case "good":
			return "CREATE TABLE `good` (\n  `id` int(11) NOT NULL,\n  `u` uuid DEFAULT uuid(),\n  `k` varchar(4) DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=euckr COLLATE=euckr_bin WITH SYSTEM VERSIONING", nil
		case "future":
			return "CREATE TABLE `future` (\n  `id` int(11) NOT NULL FIELD_FORMAT='x'\n) ENGINE=CONNECT", nil
		}
		return "", nil
	}, nil)
	got, err := c.resolve(ctx, noLogMap("d", "good", true, mLong, mBinary(16), mVarchar(8), mTS6, mTS6))
	if err != nil {
		t.Fatal(err)
	}
	if k := got.Columns[2]; k.Charset != "euckr" || k.Collation != 85 || got.Columns[1].Collation != 63 {
		t.Errorf("good: %+v", got.Columns)
	}
	for i := 0; i < 2; i++ {
		if _, err := c.resolve(ctx, noLogMap("d", "future", true, mLong)); err == nil || !strings.Contains(err.Error(), "srv") {
			t.Errorf("future: %v", err)
		}
	}
	if fetched["future"] != 1 {
		t.Errorf("future fetched %d times", fetched["future"])
	}
	// ALTER TABLE of it in the window is no error: the table has no definition to follow.
	ch, err := newDDLParser().change("d", []byte("ALTER TABLE future ADD COLUMN z inet6"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.apply(ctx, ch); err != nil {
		t.Errorf("ALTER of the unreadable table: %v", err)
	}
	if fetched["future"] != 1 {
		t.Errorf("future fetched %d times", fetched["future"])
	}
}

// TestCreateOrReplace: MariaDB's CREATE OR REPLACE TABLE / SEQUENCE takes the old table away
// (stop-before-drop and find see it) and defines the new one.
func TestCreateOrReplace(t *testing.T) {
	ctx := context.Background()
	c := newCatalog("test")
	c.add(c.parser, "d", "CREATE TABLE t (id int PRIMARY KEY, a varchar(3)) DEFAULT CHARSET=latin1")
	d := newDDLParser()
	for _, tc := range []struct {
		sql  string
		cols []binlog.Column
	}{
		{"CREATE OR REPLACE TABLE t (id int PRIMARY KEY, u uuid, a varchar(3) CHARACTER SET euckr)", []binlog.Column{mLong, mBinary(16), mVarchar(6)}},
		{"CREATE OR REPLACE SEQUENCE t", []binlog.Column{mBigint, mBigint, mBigint, mBigint, mBigint, mBigint, mTiny, mBigint}},
	} {
		ch, err := d.change("d", []byte(tc.sql))
		if err != nil || ch == nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		if rm := removalOf(ch); rm == nil || rm.Verb != "CREATE OR REPLACE" || rm.Keeps || len(rm.Tables) != 1 || rm.Tables[0].Table != "t" {
			t.Errorf("%s: removal %+v", tc.sql, rm)
		}
		if err := c.apply(ctx, ch); err != nil {
			t.Fatal(err)
		}
		if _, err := c.resolve(ctx, noLogMap("d", "t", true, tc.cols...)); err != nil {
			t.Errorf("after %s: %v", tc.sql, err)
		}
	}
}
