package restore

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// ErrNotInBackup means the backup holds no such table.
var ErrNotInBackup = errors.New("table not found in the backup")

// Extract streams one table's CREATE TABLE and rows out of a logical backup, as SQL that
// rebuilds the table in an empty server: a mysqldump/mariadb-dump file (plain or gzip) or a
// mydumper folder. Nothing is held in memory beyond a line's first bytes: dumps can be larger
// than the machine. Physical backups (xtrabackup) hold no SQL; restore them the usual way.
func Extract(ctx context.Context, w io.Writer, path, db, table string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.IsDir() {
		if _, err := os.Stat(filepath.Join(path, "xtrabackup_binlog_info")); err == nil {
			return fmt.Errorf("%s is a physical backup (xtrabackup/mariabackup): restore it with its own tool; extract reads logical backups", path)
		}
		return extractMydumper(ctx, w, path, db, table)
	}
	if filepath.Base(path) == "xtrabackup_binlog_info" {
		return fmt.Errorf("%s belongs to a physical backup (xtrabackup/mariabackup): restore it with its own tool; extract reads logical backups", path)
	}
	r, closeFn, err := openMaybeGzip(path)
	if err != nil {
		return err
	}
	defer closeFn()
	return extractDump(ctx, w, r, path, db, table)
}

func openMaybeGzip(path string) (*bufio.Reader, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(f, 256<<10)
	if m, _ := br.Peek(2); len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		return bufio.NewReaderSize(gz, 256<<10), func() error { gz.Close(); return f.Close() }, nil
	}
	return br, f.Close, nil
}

// extractHeader sets what a dump's own header sets, so that values load exactly as dumped; used
// when the backup has no header of its own (mydumper files set their own names).
const extractHeader = "/*!40101 SET NAMES utf8mb4 */;\n/*!40103 SET TIME_ZONE='+00:00' */;\n" +
	"/*!40101 SET SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n/*!40014 SET FOREIGN_KEY_CHECKS=0 */;\n/*!40014 SET UNIQUE_CHECKS=0 */;\n"

// CommentLine is s as one SQL comment line ("-- s\n"), through CommentText.
func CommentLine(s string) string { return "-- " + CommentText(s) + "\n" }

// extractComment says, at the top of an extracted table, where it comes from and what the
// session it loads in relaxes.
func extractComment(path, db, table string) string {
	return CommentLine(fmt.Sprintf("pitr extract: %s.%s from %s", quoteIdent(db), quoteIdent(table), path)) +
		CommentLine("foreign_key_checks=0 and unique_checks=0 while it loads, as in the dump: the table is rebuilt alone, so the") +
		CommentLine("tables its foreign keys name may be missing (ERROR 1452 otherwise), and its rows are checked already.") +
		CommentLine("The session settings below are the dump's own (character set, time zone, sql_mode), set here, not inherited.")
}

// restoreOld matches a dump trailer line that puts back a setting saved in the dump's header
// (SET TIME_ZONE=@OLD_TIME_ZONE): copied alone, it would set a variable that was never saved.
var restoreOld = regexp.MustCompile(`^/\*M?!\d+\s+SET\s+\w+\s*=\s*@OLD_\w+\s*\*/\s*;\s*$`)

// sessionSet matches a dump header line that sets session variables (saving the old values in
// @OLD_ variables first, as mysqldump does), copied as it is.
var sessionSet = regexp.MustCompile(`^/\*M?!\d+\s+SET\s.*\*/\s*;\s*$`)

// extractDump copies the sections of a mysqldump file that belong to db.table: its structure
// ("-- Table structure for table `t`") and its data ("-- Dumping data for table `t`"), within
// the database that "-- Current Database: `db`" (or a single-database dump's header) names.
func extractDump(ctx context.Context, w io.Writer, br *bufio.Reader, path, db, table string) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	curDB := ""
	copying := false
	found := false
	var prev []byte
	var settings []string // the dump header's session settings, before its first table
	inPreamble := true
	n := 0
	for {
		n++
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		head, long, err := peekLine(br, 4096)
		if err != nil && len(head) == 0 {
			if err == io.EOF {
				break
			}
			return fmt.Errorf("%s: %w", path, err)
		}
		line := bytes.TrimRight(head, "\r\n")
		if n == 1 && !looksLikeDumpLine(line) {
			return fmt.Errorf("%s: not a mysqldump or mariadb-dump file", path)
		}
		isHeader := bytes.Equal(bytes.TrimSpace(prev), []byte("--")) && bytes.HasPrefix(line, []byte("-- "))
		if isHeader && (bytes.HasPrefix(line, []byte("-- Current Database")) || bytes.HasPrefix(line, []byte("-- Table structure"))) {
			inPreamble = false
		}
		if inPreamble && !long && sessionSet.Match(line) {
			settings = append(settings, string(line))
		}
		if bytes.HasPrefix(line, []byte("-- Host: ")) && curDB == "" {
			// A single-database dump names its database only here, unquoted.
			if i := bytes.Index(line, []byte("Database: ")); i >= 0 {
				curDB = strings.TrimSpace(string(line[i+len("Database: "):]))
			}
		}
		if isHeader {
			if name, ok := quotedAfter(line, "-- Current Database: "); ok {
				curDB = name
				copying = false
			}
			if name, ok := quotedAfter(line, "-- Table structure for table "); ok {
				copying = curDB == db && name == table
				if copying && !found {
					found = true
					bw.WriteString(extractComment(path, db, table))
					writeSettings(bw, settings)
					fmt.Fprintf(bw, "CREATE DATABASE IF NOT EXISTS %s;\nUSE %s;\n", quoteIdent(db), quoteIdent(db))
				}
			} else if name, ok := quotedAfter(line, "-- Dumping data for table "); ok {
				copying = curDB == db && name == table
			} else if bytes.HasPrefix(line, []byte("-- Dumping events")) || bytes.HasPrefix(line, []byte("-- Dumping routines")) ||
				bytes.HasPrefix(line, []byte("-- Temporary view structure")) || bytes.HasPrefix(line, []byte("-- Final view structure")) ||
				bytes.HasPrefix(line, []byte("-- Current Database")) {
				copying = false
			}
		}
		if bytes.HasPrefix(line, []byte("USE `")) {
			if name, ok := quotedAfter(line, "USE "); ok {
				curDB = name
			}
		}
		prev = append(prev[:0], line...)
		if copying && !(!long && restoreOld.Match(line)) {
			bw.Write(head)
		}
		// The rest of a long line: copied through or skipped, never held.
		for long {
			chunk, err := br.ReadSlice('\n')
			if copying {
				bw.Write(chunk)
			}
			if err != bufio.ErrBufferFull {
				break
			}
		}
	}
	if !found {
		return fmt.Errorf("%s: %w: `%s`.`%s` (the dump has no \"Table structure for table\" section for it)", path, ErrNotInBackup, db, table)
	}
	return bw.Flush()
}

// writeSettings writes the dump header's session settings, or extractHeader when it has none,
// and foreign_key_checks=0 in any case.
func writeSettings(bw *bufio.Writer, settings []string) {
	if len(settings) == 0 {
		bw.WriteString(extractHeader)
		return
	}
	fk := false
	for _, l := range settings {
		bw.WriteString(l + "\n")
		if strings.Contains(strings.ToUpper(l), "FOREIGN_KEY_CHECKS") {
			fk = true
		}
	}
	if !fk {
		bw.WriteString("/*!40014 SET FOREIGN_KEY_CHECKS=0 */;\n")
	}
}

// skipLine discards the rest of the current line.
func skipLine(br *bufio.Reader) error {
	for {
		_, err := br.ReadSlice('\n')
		if err != bufio.ErrBufferFull {
			return err
		}
	}
}

// peekLine returns up to max bytes of the next line (newline included when reached) and
// whether the line goes on.
func peekLine(br *bufio.Reader, max int) ([]byte, bool, error) {
	var out []byte
	for len(out) < max {
		chunk, err := br.ReadSlice('\n')
		out = append(out, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		return out, false, err
	}
	return out, true, nil
}

func looksLikeDumpLine(line []byte) bool {
	return bytes.HasPrefix(line, []byte("--")) || bytes.HasPrefix(line, []byte("/*M!999999")) || bytes.HasPrefix(line, []byte("/*!999999"))
}

// quotedAfter returns the backquoted name after prefix in line.
func quotedAfter(line []byte, prefix string) (string, bool) {
	i := bytes.Index(line, []byte(prefix))
	if i < 0 {
		return "", false
	}
	rest := line[i+len(prefix):]
	if len(rest) < 2 || rest[0] != '`' {
		return "", false
	}
	var name []byte
	for j := 1; j < len(rest); j++ {
		if rest[j] == '`' {
			if j+1 < len(rest) && rest[j+1] == '`' {
				name = append(name, '`')
				j++
				continue
			}
			return string(name), true
		}
		name = append(name, rest[j])
	}
	return "", false
}

func quoteIdent(s string) string { return string(appendIdent(nil, s)) }

// extractMydumper copies db.table-schema.sql and the table's data files (db.table.sql,
// db.table.00000.sql, ...; plain or .gz) from a mydumper folder.
func extractMydumper(ctx context.Context, w io.Writer, dir, db, table string) error {
	schema := ""
	for _, name := range []string{db + "." + table + "-schema.sql", db + "." + table + "-schema.sql.gz"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			schema = filepath.Join(dir, name)
		}
	}
	if schema == "" {
		return fmt.Errorf("%s: %w: `%s`.`%s` (no %s.%s-schema.sql in the mydumper folder)", dir, ErrNotInBackup, db, table, db, table)
	}
	data, err := filepath.Glob(filepath.Join(dir, db+"."+table+".*sql*"))
	if err != nil {
		return err
	}
	files := []string{schema}
	for _, f := range data {
		base := filepath.Base(f)
		if strings.HasSuffix(base, ".zst") {
			return fmt.Errorf("%s: zstd-compressed mydumper files are not read; decompress them first (zstd -d)", f)
		}
		if strings.Contains(base, "-schema") || !(strings.HasSuffix(base, ".sql") || strings.HasSuffix(base, ".sql.gz")) {
			continue
		}
		files = append(files, f)
	}
	sort.Strings(files[1:])
	bw := bufio.NewWriterSize(w, 256<<10)
	bw.WriteString(extractComment(dir, db, table))
	bw.WriteString(extractHeader)
	fmt.Fprintf(bw, "CREATE DATABASE IF NOT EXISTS %s;\nUSE %s;\n", quoteIdent(db), quoteIdent(db))
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, closeFn, err := openMaybeGzip(f)
		if err != nil {
			return err
		}
		_, err = io.Copy(bw, r)
		closeFn()
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		bw.WriteString("\n")
	}
	return bw.Flush()
}
