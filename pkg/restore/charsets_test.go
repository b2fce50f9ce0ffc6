package restore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/pitr-tool/pitr/pkg/binlog"
	"github.com/pitr-tool/pitr/pkg/binlog/collation"
)

// noLogMap is a table map as binlog_row_metadata=NO_LOG writes it: types and lengths only.
func noLogMap(db, table string, mariaDB bool, cols ...binlog.Column) *binlog.TableMap {
	return &binlog.TableMap{Schema: db, Table: table, MariaDB: mariaDB, Columns: cols}
}

// TestEveryCollationLoads: a CREATE TABLE naming any collation of either server loads, with the
// column's charset and collation, and a NO_LOG table map gets that collation's id on the
// binlog's server.
func TestEveryCollationLoads(t *testing.T) {
	ctx := context.Background()
	for _, f := range []collation.Flavor{collation.MySQL, collation.MariaDB} {
		n := 0
		for _, co := range collation.Collations(f) {
			if co.Charset == "binary" {
				continue
			}
			c := newCatalog("test")
			ddl := fmt.Sprintf("CREATE TABLE `t` (\n  `a` varchar(10) CHARACTER SET %s COLLATE %s NOT NULL,\n  `b` text,\n  `c` char(3) COLLATE %s\n) ENGINE=InnoDB DEFAULT CHARSET=%s COLLATE=%s",
				co.Charset, co.Name, co.Name, co.Charset, co.Name)
			if err := c.add(c.parser, "d", ddl); err != nil {
				t.Errorf("%s: %v", co.Name, err)
				continue
			}
			def := c.tables["d.t"]
			for _, col := range def.columns {
				if col.charset != co.Charset || col.collation != co.Name {
					t.Errorf("%s: column %s has %s %s", co.Name, col.name, col.charset, col.collation)
				}
			}
			cs, _ := collation.CharsetByName(co.Charset)
			tm := noLogMap("d", "t", f == collation.MariaDB,
				binlog.Column{Type: mysql.MYSQL_TYPE_VARCHAR, Meta: uint16(10 * cs.Maxlen)},
				binlog.Column{Type: mysql.MYSQL_TYPE_BLOB, Meta: 2},
				binlog.Column{Type: mysql.MYSQL_TYPE_STRING, Meta: uint16(mysql.MYSQL_TYPE_STRING)<<8 | uint16(3*cs.Maxlen)})
			got, err := c.resolve(ctx, tm)
			if err != nil {
				t.Errorf("%s: %v", co.Name, err)
				continue
			}
			for i, bc := range got.Columns {
				if bc.Collation != uint64(co.ID) || bc.Charset != co.Charset {
					t.Errorf("%s on %d: column %d resolved to collation %d %q", co.Name, f, i+1, bc.Collation, bc.Charset)
				}
			}
			n++
		}
		if n < 280 {
			t.Errorf("flavor %d: only %d collations tried", f, n)
		}
	}
}

// TestEveryCharsetLoads: a column or table naming only a character set gets that charset's
// default collation on the binlog's server; a table without one gets its database's.
func TestEveryCharsetLoads(t *testing.T) {
	ctx := context.Background()
	for _, cs := range collation.Charsets() {
		if cs.Name == "binary" {
			continue
		}
		for _, f := range []collation.Flavor{collation.MySQL, collation.MariaDB} {
			want, ok := collation.Default(f, cs.Name)
			if !ok {
				continue // gb18030 on MariaDB
			}
			c := newCatalog("test")
			ddl := fmt.Sprintf("CREATE DATABASE `d` /*!40100 DEFAULT CHARACTER SET %s */;", cs.Name)
			if err := c.add(c.parser, "", ddl); err != nil {
				t.Fatalf("%s: %v", ddl, err)
			}
			for _, ddl := range []string{
				fmt.Sprintf("CREATE TABLE `t1` (`a` varchar(4) CHARACTER SET %s)", cs.Name),
				fmt.Sprintf("CREATE TABLE `t2` (`a` varchar(4)) DEFAULT CHARSET=%s", cs.Name),
				"CREATE TABLE `t3` (`a` varchar(4))",
			} {
				if err := c.add(c.parser, "d", ddl); err != nil {
					t.Errorf("%s: %v", ddl, err)
				}
			}
			for _, table := range []string{"t1", "t2", "t3"} {
				got, err := c.resolve(ctx, noLogMap("d", table, f == collation.MariaDB,
					binlog.Column{Type: mysql.MYSQL_TYPE_VARCHAR, Meta: uint16(4 * cs.Maxlen)}))
				if err != nil {
					t.Errorf("%s %s: %v", cs.Name, table, err)
					continue
				}
				if bc := got.Columns[0]; bc.Collation != uint64(want.ID) || bc.Charset != cs.Name {
					t.Errorf("%s %s on %d: collation %d %q, want %d (%s)", cs.Name, table, f, bc.Collation, bc.Charset, want.ID, want.Name)
				}
			}
		}
	}
}

// TestMySQLOnlyCollationsParse: MySQL 8's collations and gb18030 in a mysqldump file.
func TestMySQLOnlyCollationsParse(t *testing.T) {
	dump := "-- Host: localhost    Database: shop\n" +
		"CREATE TABLE `names` (\n" +
		"  `id` int NOT NULL,\n" +
		"  `a` varchar(10) COLLATE utf8mb4_0900_as_cs DEFAULT NULL,\n" +
		"  `b` varchar(10) CHARACTER SET gb18030 COLLATE gb18030_unicode_520_ci DEFAULT NULL,\n" +
		"  `c` varchar(10) CHARACTER SET utf8mb3 COLLATE utf8mb3_unicode_520_ci DEFAULT NULL,\n" +
		"  `d` varchar(10) COLLATE utf8mb4_mn_cyrl_0900_as_cs DEFAULT NULL,\n" +
		"  `e` text,\n" +
		"  PRIMARY KEY (`id`)\n" +
		") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci;\n"
	path := filepath.Join(t.TempDir(), "dump.sql")
	if err := os.WriteFile(path, []byte(dump), 0o644); err != nil {
		t.Fatal(err)
	}
	c := loadSchema(t, path)
	got, err := c.resolve(context.Background(), noLogMap("shop", "names", false,
		binlog.Column{Type: mysql.MYSQL_TYPE_LONG},
		binlog.Column{Type: mysql.MYSQL_TYPE_VARCHAR, Meta: 40},
		binlog.Column{Type: mysql.MYSQL_TYPE_VARCHAR, Meta: 40},
		binlog.Column{Type: mysql.MYSQL_TYPE_VARCHAR, Meta: 30},
		binlog.Column{Type: mysql.MYSQL_TYPE_VARCHAR, Meta: 40},
		binlog.Column{Type: mysql.MYSQL_TYPE_BLOB, Meta: 2}))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, bc := range got.Columns[1:] {
		ids = append(ids, fmt.Sprintf("%d/%s", bc.Collation, bc.Charset))
	}
	if want := "278/utf8mb4 250/gb18030 214/utf8mb3 323/utf8mb4 255/utf8mb4"; strings.Join(ids, " ") != want {
		t.Errorf("collations %s, want %s", strings.Join(ids, " "), want)
	}
}
