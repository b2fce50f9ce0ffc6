package restore

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sampleDump = "-- MariaDB dump 10.19\n--\n-- Host: localhost    Database: \n--\n" +
	"--\n-- Current Database: `a`\n--\n\nCREATE DATABASE `a`;\nUSE `a`;\n\n" +
	"--\n-- Table structure for table `t`\n--\n\nDROP TABLE IF EXISTS `t`;\nCREATE TABLE `t` (\n  `id` int NOT NULL\n);\n\n" +
	"--\n-- Dumping data for table `t`\n--\n\nLOCK TABLES `t` WRITE;\nINSERT INTO `t` VALUES\n(1),\n(2);\nUNLOCK TABLES;\n\n" +
	"--\n-- Table structure for table `u`\n--\n\nCREATE TABLE `u` (`x` int);\n\n" +
	"--\n-- Current Database: `b`\n--\n\nUSE `b`;\n\n" +
	"--\n-- Table structure for table `t`\n--\n\nCREATE TABLE `t` (`other` int);\n\n" +
	"--\n-- Dumping data for table `t`\n--\n\nINSERT INTO `t` VALUES (99);\n"

func TestExtract(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "dump.sql")
	os.WriteFile(plain, []byte(sampleDump), 0o644)
	gz := filepath.Join(dir, "dump.sql.gz")
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write([]byte(sampleDump))
	zw.Close()
	os.WriteFile(gz, zb.Bytes(), 0o644)
	long := filepath.Join(dir, "long.sql")
	os.WriteFile(long, []byte(strings.Replace(sampleDump, "(2);", "(2),('"+strings.Repeat("x", 300000)+"');", 1)), 0o644)

	my := filepath.Join(dir, "mydumper")
	os.Mkdir(my, 0o755)
	os.WriteFile(filepath.Join(my, "metadata"), []byte("[master]\nFile = b.1\nPosition = 4\n"), 0o644)
	os.WriteFile(filepath.Join(my, "a.t-schema.sql"), []byte("CREATE TABLE `t` (`id` int);\n"), 0o644)
	os.WriteFile(filepath.Join(my, "a.t.00001.sql"), []byte("INSERT INTO `t` VALUES (2);\n"), 0o644)
	os.WriteFile(filepath.Join(my, "a.t.00000.sql"), []byte("INSERT INTO `t` VALUES (1);\n"), 0o644)
	os.WriteFile(filepath.Join(my, "a.tt.sql"), []byte("INSERT INTO `tt` VALUES (7);\n"), 0o644)

	cases := []struct {
		name, path, db, table string
		want, not             []string
		err                   error
	}{
		{name: "plain", path: plain, db: "a", table: "t", want: []string{"CREATE TABLE `t` (\n  `id` int NOT NULL\n);", "(1),\n(2);", "USE `a`;"}, not: []string{"`u`", "`other`", "(99)"}},
		{name: "gzip", path: gz, db: "b", table: "t", want: []string{"`other`", "(99)"}, not: []string{"(1),"}},
		{name: "long line", path: long, db: "a", table: "t", want: []string{strings.Repeat("x", 300000) + "');"}},
		{name: "mydumper", path: my, db: "a", table: "t", want: []string{"CREATE TABLE `t` (`id` int);\n\nINSERT INTO `t` VALUES (1);\n\nINSERT INTO `t` VALUES (2);"}, not: []string{"(7)"}},
		{name: "missing", path: plain, db: "a", table: "nope", err: ErrNotInBackup},
		{name: "missing in mydumper", path: my, db: "a", table: "nope", err: ErrNotInBackup},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := Extract(context.Background(), &out, tc.path, tc.db, tc.table)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %.80q:\n%.500s", w, out.String())
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out.String(), n) {
					t.Errorf("output has %q", n)
				}
			}
		})
	}
	xb := filepath.Join(dir, "xb")
	os.Mkdir(xb, 0o755)
	os.WriteFile(filepath.Join(xb, "xtrabackup_binlog_info"), []byte("b.1\t4\n"), 0o644)
	if err := Extract(context.Background(), &bytes.Buffer{}, xb, "a", "t"); err == nil || !strings.Contains(err.Error(), "physical backup") {
		t.Errorf("xtrabackup folder: %v", err)
	}
}

// TestExtractSession: an extracted table runs on its own in an empty server. It sets the
// session the dump's header sets (saving @OLD_ values as the dump does), never copies the
// dump's closing SET ...=@OLD_... lines (ERROR 1231 when the header is not there), says what
// it relaxes, and keeps a file name in its comment on one line.
func TestExtractSession(t *testing.T) {
	dump := "-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB\n--\n-- Host: localhost    Database: \n-- ------\n" +
		"/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n/*!40101 SET NAMES utf8mb4 */;\n" +
		"/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;\n/*!40103 SET TIME_ZONE='+00:00' */;\n" +
		"/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;\n" +
		"/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */;\n\n" +
		"--\n-- Current Database: `a`\n--\n\nUSE `a`;\n\n" +
		"--\n-- Table structure for table `t`\n--\n\nCREATE TABLE `t` (\n  `id` int NOT NULL\n);\n\n" +
		"--\n-- Dumping data for table `t`\n--\n\nINSERT INTO `t` VALUES (1);\n" +
		"/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n\n/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;\n" +
		"/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;\n/*M!100616 SET NOTE_VERBOSITY=@OLD_NOTE_VERBOSITY */;\n\n-- Dump completed on 2026-11-29 10:00:00\n"
	path := filepath.Join(t.TempDir(), "odd\nname.sql")
	os.WriteFile(path, []byte(dump), 0o644)
	var out bytes.Buffer
	if err := Extract(context.Background(), &out, path, "a", "t"); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, w := range []string{"/*!40101 SET NAMES utf8mb4 */;\n", "/*!40103 SET TIME_ZONE='+00:00' */;\n", "SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n",
		"/*!40014 SET FOREIGN_KEY_CHECKS=0 */;\n", "-- foreign_key_checks=0", "odd\\nname.sql", "INSERT INTO `t` VALUES (1);"} {
		if !strings.Contains(got, w) {
			t.Errorf("lacks %q:\n%s", w, got)
		}
	}
	if strings.Contains(got, "=@OLD_") || strings.Contains(got, "odd\nname") {
		t.Errorf("copies the dump's closing @OLD_ lines, or breaks a comment line:\n%s", got)
	}
	if i, j := strings.Index(got, "SET NAMES"), strings.Index(got, "CREATE TABLE"); i < 0 || j < i {
		t.Errorf("the session is not set before the table:\n%s", got)
	}
}
