package restore

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/internal/corpustest"
	"github.com/pitr-tool/pitr/pkg/binlog"
)

func TestObjectsOf(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want string // the objects as Kind db.name[@db.table], "" when not an object statement
	}{
		{"CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v1` AS select 1", "VIEW shop.v1"},
		{"CREATE OR REPLACE VIEW crm.`we``ird` AS SELECT * FROM shop.orders", "VIEW crm.we`ird"},
		{"ALTER DEFINER=CURRENT_USER VIEW v2 AS SELECT 2", "VIEW shop.v2"},
		{"DROP VIEW IF EXISTS v1, crm.v3", "VIEW shop.v1,VIEW crm.v3"},
		{"CREATE DEFINER=`app`@`%` PROCEDURE `p`(IN x INT)\nBEGIN\n  INSERT INTO t VALUES (x);\nEND", "PROCEDURE shop.p"},
		{"CREATE DEFINER=`app`@`%` FUNCTION IF NOT EXISTS crm.f() RETURNS int RETURN 1", "FUNCTION crm.f"},
		{"CREATE AGGREGATE FUNCTION agg(x INT) RETURNS INT BEGIN RETURN 1; END", "FUNCTION shop.agg"},
		{"CREATE FUNCTION metaphon RETURNS STRING SONAME 'udf_example.so'", ""},
		{"DROP PROCEDURE IF EXISTS `p`", "PROCEDURE shop.p"},
		{"CREATE DEFINER=`root`@`localhost` TRIGGER trg BEFORE INSERT ON crm.orders FOR EACH ROW SET NEW.a = 1", "TRIGGER shop.trg@crm.orders"},
		{"CREATE TRIGGER crm.trg AFTER UPDATE ON orders FOR EACH ROW BEGIN END", "TRIGGER crm.trg@crm.orders"},
		{"CREATE TRIGGER trg BEFORE INSERT OR UPDATE ON `o` FOR EACH ROW SET NEW.a = 1", "TRIGGER shop.trg@shop.o"},
		{"DROP TRIGGER IF EXISTS crm.trg", "TRIGGER crm.trg"},
		{"CREATE DEFINER=`root`@`localhost` EVENT `ev` ON SCHEDULE EVERY 1 HOUR DO DELETE FROM t", "EVENT shop.ev"},
		{"ALTER EVENT crm.ev DISABLE", "EVENT crm.ev"},
		{"CREATE PACKAGE BODY pk AS BEGIN END", "PACKAGE shop.pk"},
		{"/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */ /*!50001 VIEW `v9` AS select 1 */", "VIEW shop.v9"},
		{"-- comment\nCREATE DATABASE IF NOT EXISTS `new_db` CHARACTER SET utf8mb4", "DATABASE new_db.*"},
		{"CREATE SCHEMA other", "DATABASE other.*"},
		{"ALTER DATABASE CHARACTER SET latin1", "DATABASE shop.*"},
		{"ALTER DATABASE crm DEFAULT CHARACTER SET latin1", "DATABASE crm.*"},
		{"CREATE USER 'view'@'%' IDENTIFIED BY 'x'", ""},
		{"GRANT SELECT ON shop.* TO app", ""},
		{"CREATE TABLE t (a int)", ""},
		{"CREATE SEQUENCE s", ""},
		{"SET PASSWORD FOR app = PASSWORD('x')", ""},
		{"CREATE VIEW", ""},
		{"DROP VIEW `unterminated", ""},
	} {
		objs, ok := objectsOf("shop", []byte(tc.sql))
		got := ""
		for i, o := range objs {
			if i > 0 {
				got += ","
			}
			got += fmt.Sprintf("%s %s.%s", o.Kind, o.Ref.DB, o.Ref.Table)
			if o.Table.Table != "" {
				got += "@" + o.Table.DB + "." + o.Table.Table
			}
		}
		if !ok {
			got = ""
		}
		if got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.sql, got, tc.want)
		}
	}
}

// TestCorpusObjects: every view, routine, trigger and event statement real MySQL and MariaDB
// servers logged in the corpus is read for its object and database, as -d needs.
func TestCorpusObjects(t *testing.T) {
	dir := corpustest.Dir()
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no binlog corpus: %v", err)
	}
	head := regexp.MustCompile(`(?is)^\s*(CREATE|ALTER|DROP)\b.{0,200}?\b(VIEW|TRIGGER|PROCEDURE|FUNCTION|EVENT)\b`)
	seen := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".md") {
			return err
		}
		s, err := binlog.OpenFiles([]string{p}, binlog.FileOptions{})
		if err != nil {
			return nil // not a binlog, or one TestCorpus knows to fail
		}
		defer s.Close()
		for {
			ev, err := s.Next(context.Background())
			if err != nil {
				return nil // the end, or a failure TestCorpus checks
			}
			if ev.Kind != binlog.KindQuery || !head.Match(ev.Query.SQL) {
				continue
			}
			seen++
			objs, ok := objectsOf(ev.Query.Schema, ev.Query.SQL)
			if !ok || len(objs) == 0 || objs[0].Ref.DB == "" {
				t.Errorf("%s %s: %v %v: %.200s", filepath.Base(p), ev.Pos, ok, objs, ev.Query.SQL)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen == 0 {
		t.Error("the corpus holds no view, routine, trigger or event statement")
	}
	t.Logf("%d statements", seen)
}
