package binlog

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Backup is where a backup's binlog coordinates say replay must start.
type Backup struct {
	Kind  string   // "mysqldump", "xtrabackup", "mydumper", "mysqlsh"
	Path  string   // the file the coordinates came from
	Start Position // the first event not in the backup
	GTIDs *GTIDSet // transactions the backup holds (gtid_purged / gtid_slave_pos / executed set); may be empty
}

// ErrBackup means a backup's metadata could not be read or is ambiguous.
var ErrBackup = errors.New("backup metadata")

// ReadBackup finds a backup's binlog coordinates in its own metadata: a mysqldump or
// mariadb-dump file (plain or .gz, streamed, never held in memory) written with
// --master-data/--source-data (and --gtid), an xtrabackup/mariabackup xtrabackup_binlog_info, a
// mydumper metadata file (old and ini formats), or a MySQL Shell dump's @.json. A folder is
// searched for the last three.
func ReadBackup(path string) (*Backup, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBackup, err)
	}
	if st.IsDir() {
		for _, name := range []string{"@.json", "metadata", "xtrabackup_binlog_info"} {
			p := filepath.Join(path, name)
			if _, err := os.Stat(p); err == nil {
				return ReadBackup(p)
			}
		}
		return nil, fmt.Errorf("%w: %s holds none of @.json (MySQL Shell), metadata (mydumper), xtrabackup_binlog_info (xtrabackup/mariabackup)", ErrBackup, path)
	}
	var b *Backup
	switch filepath.Base(path) {
	case "@.json":
		b, err = readShell(path)
	case "xtrabackup_binlog_info":
		b, err = readXtrabackup(path)
	case "metadata":
		b, err = readMydumper(path)
	default:
		b, err = readDump(path)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBackup, path, err)
	}
	b.Path = path
	if b.GTIDs == nil {
		b.GTIDs = &GTIDSet{}
	}
	return b, nil
}

func gtids(s string) (*GTIDSet, error) {
	g, err := ParseGTIDSet(s)
	if err != nil {
		return nil, fmt.Errorf("GTID set: %w", err)
	}
	return g, nil
}

func readShell(path string) (*Backup, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m struct {
		BinlogFile     string `json:"binlogFile"`
		BinlogPosition *int64 `json:"binlogPosition"`
		GTIDExecuted   string `json:"gtidExecuted"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("not a MySQL Shell dump's @.json: %v", err)
	}
	if m.BinlogFile == "" || m.BinlogPosition == nil {
		return nil, errors.New("@.json has no binlogFile and binlogPosition (was the dump made with binary logging on?)")
	}
	g, err := gtids(m.GTIDExecuted)
	if err != nil {
		return nil, err
	}
	return &Backup{Kind: "mysqlsh", Start: Position{File: m.BinlogFile, Offset: *m.BinlogPosition}, GTIDs: g}, nil
}

// readXtrabackup reads "FILE<TAB>POS[<TAB>GTID set]"; the GTID set may continue on more lines.
func readXtrabackup(path string) (*Backup, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	fields := strings.Fields(string(raw))
	if len(fields) < 2 {
		return nil, errors.New("want \"FILE POSITION [GTIDS]\" as xtrabackup and mariabackup write it")
	}
	pos, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("position %q is not a number", fields[1])
	}
	g, err := gtids(strings.Join(fields[2:], ""))
	if err != nil {
		return nil, err
	}
	return &Backup{Kind: "xtrabackup", Start: Position{File: fields[0], Offset: pos}, GTIDs: g}, nil
}

// readMydumper reads both metadata layouts: "SHOW MASTER STATUS:\n\tLog: f\n\tPos: n\n\tGTID:s"
// (before 0.12) and the ini form with a [master] or [source] section (File, Position,
// Executed_Gtid_Set).
func readMydumper(path string) (*Backup, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var file, pos, gtid string
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.ToLower(strings.Trim(line, "[]`'\" "))
			continue
		case strings.HasPrefix(line, "SHOW MASTER STATUS"), strings.HasPrefix(line, "SHOW BINARY LOG STATUS"):
			section = "master"
			continue
		case strings.HasPrefix(line, "SHOW SLAVE STATUS"), strings.HasPrefix(line, "SHOW REPLICA STATUS"), line == "":
			if section == "master" || section == "source" {
				section = "done"
			}
			continue
		}
		if section != "master" && section != "source" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if i := strings.IndexByte(line, '='); i >= 0 && (!ok || i < len(k)) {
			k, v, ok = line[:i], line[i+1:], true
		}
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.Trim(strings.TrimSpace(v), "'\"")
		switch k {
		case "log", "file":
			file = v
		case "pos", "position":
			pos = v
		case "gtid", "executed_gtid_set":
			gtid = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if file == "" || pos == "" {
		return nil, errors.New("mydumper metadata names no binlog file and position (SHOW MASTER STATUS section or [master]/[source] with File and Position)")
	}
	n, err := strconv.ParseInt(pos, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("position %q is not a number", pos)
	}
	g, err := gtids(gtid)
	if err != nil {
		return nil, err
	}
	return &Backup{Kind: "mydumper", Start: Position{File: file, Offset: n}, GTIDs: g}, nil
}

var (
	reChange = regexp.MustCompile(`(?i)^(?:--\s*)?CHANGE\s+(?:MASTER|REPLICATION\s+SOURCE)\s+TO\b.*?(?:MASTER|SOURCE)_LOG_FILE\s*=\s*'([^']+)'\s*,\s*(?:MASTER|SOURCE)_LOG_POS\s*=\s*(\d+)`)
	// MySQL: SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ 'uuid:1-5,...'; the set may span lines.
	reMySQLGTID = regexp.MustCompile(`(?is)^SET\s+@@GLOBAL\.GTID_PURGED\s*=\s*(?:/\*!80000\s*'\+'\s*\*/\s*)?'([^']*)'`)
	// MariaDB --gtid: "-- SET GLOBAL gtid_slave_pos='0-1-9';", written at the end of the dump.
	reMariaGTID = regexp.MustCompile(`(?i)^(?:--\s*)?SET\s+GLOBAL\s+gtid_(?:slave|binlog)_pos\s*=\s*'([^']*)'`)
)

// readDump scans a logical dump line by line for its replication coordinates. Data lines can be
// megabytes long; only their first bytes are looked at.
func readDump(path string) (*Backup, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer gz.Close()
		br = bufio.NewReaderSize(gz, 64<<10)
	}
	var (
		starts   []Position
		gtidText []string
		pending  []byte // a GTID_PURGED statement continued on the next lines
		lines    int
	)
	for {
		line, err := readLinePrefix(br, 8<<10)
		if len(line) > 0 {
			lines++
			if lines == 1 && !looksLikeDump(line) {
				return nil, errors.New("not a mysqldump or mariadb-dump file (no dump header on the first line)")
			}
			switch {
			case pending != nil:
				pending = append(append(pending, ' '), line...)
			case bytes.HasPrefix(line, []byte("SET @@GLOBAL.GTID_PURGED")), bytes.HasPrefix(line, []byte("SET @@global.gtid_purged")):
				pending = append([]byte(nil), line...)
			}
			if pending != nil {
				if m := reMySQLGTID.FindSubmatch(pending); m != nil {
					gtidText = append(gtidText, string(m[1]))
					pending = nil
				} else if len(pending) > 1<<20 {
					return nil, errors.New("unterminated SET @@GLOBAL.GTID_PURGED statement")
				}
			}
			if m := reChange.FindSubmatch(line); m != nil {
				n, _ := strconv.ParseInt(string(m[2]), 10, 64)
				starts = appendUnique(starts, Position{File: string(m[1]), Offset: n})
			}
			if m := reMariaGTID.FindSubmatch(line); m != nil {
				gtidText = append(gtidText, string(m[1]))
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if lines == 0 {
		return nil, errors.New("empty file")
	}
	switch len(starts) {
	case 0:
		return nil, errors.New("the dump has no CHANGE MASTER TO / CHANGE REPLICATION SOURCE TO line: make it with --master-data=2 (mysqldump before 8.0.26, mariadb-dump) or --source-data=2")
	case 1:
	default:
		return nil, fmt.Errorf("the dump names %d different binlog positions (%s, %s): was it made with both --master-data and --dump-slave? Give --start-position instead", len(starts), starts[0], starts[1])
	}
	g, err := gtids(strings.Join(uniqueStrings(gtidText), ","))
	if err != nil {
		return nil, err
	}
	return &Backup{Kind: "mysqldump", Start: starts[0], GTIDs: g}, nil
}

func looksLikeDump(line []byte) bool {
	for _, p := range []string{"-- MySQL dump", "-- MariaDB dump", "/*M!999999", "/*!999999", "-- mysqldump", "--"} {
		if bytes.HasPrefix(line, []byte(p)) {
			return true
		}
	}
	return false
}

// readLinePrefix returns up to max bytes of the next line, without its newline, and discards
// the rest of the line.
func readLinePrefix(br *bufio.Reader, max int) ([]byte, error) {
	var out []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(out) < max {
			out = append(out, chunk[:min(len(chunk), max-len(out))]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return bytes.TrimRight(out, "\r\n"), err
	}
}

func appendUnique(ps []Position, p Position) []Position {
	for _, q := range ps {
		if q == p {
			return ps
		}
	}
	return append(ps, p)
}

func uniqueStrings(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
