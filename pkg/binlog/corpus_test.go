package binlog

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/internal/corpustest"
)

// corpusDir holds real server binlogs (see internal/corpustest); TestCorpus skips without it.
var corpusDir = corpustest.Dir()

// corpusFailures lists the corpus files that do not decode to the end, with where and why.
// Every other file must decode completely, every row of every rows event included.
var corpusFailures = map[string]struct {
	off int64
	err error
	why string
}{
	// NEGATIVE in MANIFEST.md: cut short on purpose.
	"rust_mysql_common/binlog_truncated_event.000001":           {4, ErrTruncated, "magic plus 10 bytes of an event header"},
	"rust_mysql_common/binlog_truncated_prev_gtid_event.000001": {120, ErrTruncated, "the Previous_gtids event after the FDE is cut short"},
	// A 5.2 development tree that numbers its events unlike any release (its format event gives
	// type 16, XID elsewhere, a 6-byte post-header; its type 20, pre-GA Write_rows elsewhere, is
	// an XID), so every event would be misread. Upstream skips an "XID" it cannot parse in _r.
	"rust_mysql_common/ver_5_1-wl2325_r.001": {4, ErrUnsupported, "5.2.2-a_drop6p13 event numbering"},
	"rust_mysql_common/ver_5_1-wl2325_s.001": {4, ErrUnsupported, "5.2.2-a_drop6p13 event numbering"},
}

// corpusCounts are event counts that upstream tests assert. pitr returns one Event per event
// after the magic, the FDE included, as upstream readers do.
var corpusCounts = map[string]struct {
	events     int
	rowsEvents map[RowsKind]int // nil: not asserted
	gtids      int              // -1: not asserted
}{
	"mysql-binlog-connector-java/mysql-bin.checksum-crc32": {303, nil, -1},
	"mysql-binlog-connector-java/mysql-bin.checksum-none":  {191, nil, -1},
	"mysql-binlog-connector-java/mysql-bin.sakila":         {1462, map[RowsKind]int{Insert: 1374}, -1},
	"mariadb-poc/domain_id_0/mariadb-repl-bin.000005":      {-1, map[RowsKind]int{}, 87},
	"MyFlash/haha.000041":                                  {-1, map[RowsKind]int{Insert: 7}, 7},
}

// manifestEntry is one row of MANIFEST.md's file table.
type manifestEntry struct {
	path, version, checksum, contents string
	size                              int64
}

func readManifest(t *testing.T) map[string]manifestEntry {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]manifestEntry{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cols := strings.Split(strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|"), "|")
		if len(cols) != 8 {
			continue // the sources table
		}
		for i := range cols {
			cols[i] = strings.TrimSpace(cols[i])
		}
		var size int64
		if _, err := fmt.Sscan(cols[3], &size); err != nil {
			continue // the header row
		}
		e := manifestEntry{path: cols[0], size: size, version: strings.Trim(cols[5], "`"), checksum: cols[6], contents: cols[7]}
		out[e.path] = e
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// corpusVal is a decoded cell, copied out of the row buffers.
type corpusVal struct {
	Kind ValueKind
	Text string
	Uint uint64
}

type corpusRow struct {
	table         string
	kind          RowsKind
	before, after []corpusVal
}

// corpusResult is what decoding one corpus file gave.
type corpusResult struct {
	events      int
	rowsEvents  map[RowsKind]int
	rows        int
	gtids       []string
	fdeFlags    []uint16 // header flags of each format event
	versions    []string
	checksums   []bool
	tables      map[string]*TableMap // by schema.table, the last map seen
	rowValues   []corpusRow          // only when asked for
	err         error
	panicked    any
	panicTrace  string
	lastEventAt Position
}

func decodeCorpusFile(path string, keepRows bool) (res corpusResult) {
	res.rowsEvents = map[RowsKind]int{}
	res.tables = map[string]*TableMap{}
	defer func() {
		if r := recover(); r != nil {
			res.panicked = r
			res.panicTrace = string(debug.Stack())
		}
	}()
	src, err := OpenFiles([]string{path}, FileOptions{})
	if err != nil {
		res.err = err
		return res
	}
	defer src.Close()
	snap := func(vs []Value) []corpusVal {
		if vs == nil {
			return nil
		}
		out := make([]corpusVal, len(vs))
		for i, v := range vs {
			out[i] = corpusVal{Kind: v.Kind, Text: string(v.Text), Uint: v.Uint}
		}
		return out
	}
	for {
		ev, err := src.Next(context.Background())
		if err != nil {
			res.err = err
			return res
		}
		res.events++
		res.lastEventAt = ev.Pos
		switch ev.Kind {
		case KindFormat:
			res.fdeFlags = append(res.fdeFlags, ev.Header.Flags)
			res.versions = append(res.versions, ev.Server)
			res.checksums = append(res.checksums, src.cur.fmt.checksum)
		case KindGTID:
			res.gtids = append(res.gtids, ev.GTID.String())
		case KindTableMap:
			res.tables[ev.TableMap.String()] = ev.TableMap
		case KindRows:
			res.rowsEvents[ev.Rows.Kind]++
			for ev.Rows.More() {
				before, after, err := ev.Rows.Next()
				if err != nil {
					res.err = &PosError{Pos: ev.Pos, Err: err}
					return res
				}
				res.rows++
				if keepRows {
					res.rowValues = append(res.rowValues, corpusRow{table: ev.Rows.Table.String(), kind: ev.Rows.Kind,
						before: snap(before), after: snap(after)})
				}
			}
		}
	}
}

func TestCorpus(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("no binlog corpus (shared/corpus beside the checkout or a parent folder, or PITR_CORPUS; optional, see README.md): %v", err)
	}
	manifest := readManifest(t)
	if len(manifest) == 0 {
		t.Fatal("MANIFEST.md lists no files")
	}
	var files []string
	err := filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "MANIFEST.md" {
			return err
		}
		rel, err := filepath.Rel(corpusDir, p)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	for _, f := range files {
		if _, ok := manifest[f]; !ok {
			t.Errorf("%s is not in MANIFEST.md", f)
		}
	}
	for f := range manifest {
		if _, err := os.Stat(filepath.Join(corpusDir, f)); err != nil {
			t.Errorf("MANIFEST.md lists %s: %v", f, err)
		}
	}
	for f := range corpusFailures {
		if _, ok := manifest[f]; !ok {
			t.Errorf("expected failure for %s, which is not in the corpus", f)
		}
	}

	inUseOK := 0
	for _, rel := range files {
		m := manifest[rel]
		t.Run(rel, func(t *testing.T) {
			path := filepath.Join(corpusDir, filepath.FromSlash(rel))
			base := filepath.Base(rel)
			check := corpusChecks[rel]
			res := decodeCorpusFile(path, check != nil)
			if res.panicked != nil {
				t.Fatalf("panic after %d events (last at %s): %v\n%s", res.events, res.lastEventAt, res.panicked, res.panicTrace)
			}
			negative := strings.HasPrefix(m.contents, "NEGATIVE:")
			want, failing := corpusFailures[rel]
			if negative && !failing {
				t.Fatalf("MANIFEST.md marks %s NEGATIVE, but corpusFailures has no entry for it", rel)
			}
			if failing {
				if res.err == io.EOF {
					t.Fatalf("want %v at %s:%d (%s), got a clean end after %d events", want.err, base, want.off, want.why, res.events)
				}
				var pe *PosError
				if !errors.As(res.err, &pe) || pe.Pos != (Position{File: base, Offset: want.off}) || !errors.Is(res.err, want.err) {
					t.Fatalf("want %v at %s:%d (%s), got %v", want.err, base, want.off, want.why, res.err)
				}
			} else if res.err != io.EOF {
				t.Fatalf("after %d events: %v", res.events, res.err)
			}
			if res.err != io.EOF {
				if prefix := fmt.Sprintf("%s:%d: ", base, want.off); !strings.HasPrefix(res.err.Error(), prefix) {
					t.Errorf("error %q does not start with %q", res.err, prefix)
				}
				t.Logf("stops as expected: %v", res.err)
			}

			// The first FDE's server version and checksum setting match the manifest.
			if len(res.versions) > 0 {
				if res.versions[0] != m.version {
					t.Errorf("server version %q, manifest says %q", res.versions[0], m.version)
				}
				if wantCRC := m.checksum == "CRC32"; res.checksums[0] != wantCRC {
					t.Errorf("checksum %v, manifest says %q", res.checksums[0], m.checksum)
				}
				if res.fdeFlags[0]&flagInUse != 0 && res.checksums[0] && !failing {
					inUseOK++ // an in-use log whose FDE checksum verified
				}
			} else if m.version != "none (no FDE)" && !(failing && want.off == 4) {
				t.Errorf("no format description event decoded; manifest says server %q", m.version)
			}
			if strings.Contains(m.contents, "IN_USE flag") && (len(res.fdeFlags) == 0 || res.fdeFlags[0]&flagInUse == 0) {
				t.Errorf("manifest says the FDE has the in-use flag set; decoded flags %v", res.fdeFlags)
			}

			if c, ok := corpusCounts[rel]; ok {
				if c.events >= 0 && res.events != c.events {
					t.Errorf("%d events, upstream asserts %d", res.events, c.events)
				}
				if c.rowsEvents != nil {
					for k, n := range c.rowsEvents {
						if res.rowsEvents[k] != n {
							t.Errorf("%d %s rows events, want %d (all: %v)", res.rowsEvents[k], k, n, res.rowsEvents)
						}
					}
					total, want := 0, 0
					for _, n := range res.rowsEvents {
						total += n
					}
					for _, n := range c.rowsEvents {
						want += n
					}
					if total != want {
						t.Errorf("%d rows events in all, want %d (%v)", total, want, res.rowsEvents)
					}
				}
				if c.gtids >= 0 && len(res.gtids) != c.gtids {
					t.Errorf("%d GTID events, want %d", len(res.gtids), c.gtids)
				}
			}
			if check != nil {
				check(t, res)
			}
			comparePrefetcher(t, path)
		})
	}
	// In-use logs (MySQL 8.0, 5.7 and MariaDB 10.5 among them) must verify, not just decode.
	if inUseOK < 6 {
		t.Errorf("only %d corpus files with the FDE in-use flag decoded with verified checksums, want at least 6", inUseOK)
	}
}

// corpusChecks assert decoded values of files whose values upstream projects assert.
var corpusChecks = map[string]func(t *testing.T, res corpusResult){
	// binlog_transaction_compression=ON: the transaction is one zstd Transaction_payload event
	// holding BEGIN, the table map, the rows and the XID, asserted upstream.
	"rust_mysql_common/transaction_compression.000001": func(t *testing.T, res corpusResult) {
		wantRows(t, res, 1)
		wantVal(t, res.rowValues[0].after, 0, ValInt, "1")
		if res.events != 8 || res.rowsEvents[Insert] != 1 {
			t.Errorf("%d events, %d write-rows events; want 8 (FDE, previous GTIDs, GTID, BEGIN, table map, rows, XID, rotate) and 1", res.events, res.rowsEvents[Insert])
		}
	},
	"rust_mysql_common/time_issue.000001": func(t *testing.T, res corpusResult) {
		wantRows(t, res, 1)
		wantVal(t, res.rowValues[0].after, 0, ValTemporal, "-507:48:27")
	},
	"rust_mysql_common/minimal_row_metadata.000001": func(t *testing.T, res corpusResult) {
		wantRows(t, res, 1)
		r := res.rowValues[0]
		if r.table != "noria.t1" {
			t.Errorf("table %s", r.table)
		}
		wantVal(t, r.after, 0, ValInt, "1")
		wantVal(t, r.after, 1, ValAbsent, "") // binlog_row_image=MINIMAL: only the inserted columns
		wantVal(t, r.after, 2, ValString, "a")
		wantVal(t, r.after, 3, ValAbsent, "")
		wantVal(t, r.after, 4, ValInt, "3230202323") // INT UNSIGNED above 2^31
		tm := res.tables["noria.t1"]
		if tm == nil || tm.HasNames || !tm.Columns[4].Unsigned || tm.Columns[2].Collation != 255 {
			t.Errorf("MINIMAL metadata: want no names, column 5 unsigned, column 3 utf8mb4_0900_ai_ci (255); got %+v", tm)
		}
	},
	"rust_mysql_common/mysql_type_bit.000001": func(t *testing.T, res corpusResult) {
		wantRows(t, res, 1)
		a := res.rowValues[0].after
		wantVal(t, a, 0, ValBit, "\x04")
		wantVal(t, a, 1, ValString, "foo")
		wantVal(t, a, 2, ValBit, "\x20")
		if a[0].Uint != 0b100 || a[2].Uint != 0b100000 {
			t.Errorf("BIT values %d, %d; want 4, 32", a[0].Uint, a[2].Uint)
		}
	},
	"rust_mysql_common/mysql-enum-string-set.000001": func(t *testing.T, res corpusResult) {
		wantRows(t, res, 3)
		tm := res.tables["mysql.t"]
		if tm == nil {
			t.Fatal("no table map for mysql.t")
		}
		enum, set := tm.Columns[2], tm.Columns[3]
		if fmt.Sprintf("%q %q", enum.Enum, set.Set) != `["var1" "variant2" "foo"] ["one" "two" "three" "four"]` {
			t.Errorf("ENUM members %q, SET members %q", enum.Enum, set.Set)
		}
		long := strings.Repeat("0123456789", 10)
		longer := strings.Repeat("0123456789", 12) + "012345678" + strings.Repeat("0123456789", 12) + "012345678" + strings.Repeat("0123456789", 4)
		first := []corpusVal{{ValString, long, 0}, {ValString, longer, 0}, {ValEnum, "", 1}, {ValSet, "", 0b101}, {ValString, "0123456789", 0}}
		second := []corpusVal{{ValString, "field1", 0}, {ValString, "field_2", 0}, {ValEnum, "", 2}, {ValSet, "", 0b1010}, {ValString, longer, 0}}
		wantRow(t, res.rowValues[0], Insert, nil, first)
		wantRow(t, res.rowValues[1], Update, first, second)
		wantRow(t, res.rowValues[2], Delete, second, nil)
		// By name: ENUM index 1 is 'var1', 2 'variant2'; SET 0b101 is 'one,three', 0b1010 'two,four'.
		if string(enum.Enum[0]) != "var1" || string(enum.Enum[1]) != "variant2" ||
			setNames(set.Set, 0b101) != "one,three" || setNames(set.Set, 0b1010) != "two,four" {
			t.Errorf("ENUM/SET names do not resolve")
		}
	},
	"rust_mysql_common/mariadb-bin.000001": func(t *testing.T, res corpusResult) {
		wantRows(t, res, 2)
		tm := res.tables["toddy_test.outbox"]
		if tm == nil {
			t.Fatal("no table map for toddy_test.outbox")
		}
		var names []string
		for _, c := range tm.Columns {
			names = append(names, c.Name)
		}
		if !tm.HasNames || strings.Join(names, ",") != "id,topic,event_type,event,created" {
			t.Errorf("column names %q", names)
		}
		if fmt.Sprint(tm.PrimaryKey) != "[0]" {
			t.Errorf("primary key %v, want [0]", tm.PrimaryKey)
		}
		// Character sets as upstream asserts them: utf8mb4_general_ci (45) for the strings,
		// binary (63) for the BLOB.
		if tm.Columns[1].Collation != 45 || tm.Columns[2].Collation != 45 || tm.Columns[3].Collation != 63 {
			t.Errorf("collations %d %d %d, want 45 45 63", tm.Columns[1].Collation, tm.Columns[2].Collation, tm.Columns[3].Collation)
		}
		if fmt.Sprintf("%q", tm.Columns[2].Enum) != `["BLOB" "JSON" "PROTOBUF"]` {
			t.Errorf("ENUM members %q", tm.Columns[2].Enum)
		}
		a := res.rowValues[0].after
		wantVal(t, a, 0, ValInt, "62")
		wantVal(t, a, 1, ValString, "foo")
		if a[2].Kind != ValEnum || a[2].Uint != 2 {
			t.Errorf("event_type = %+v, want ENUM index 2 ('JSON')", a[2])
		}
		wantVal(t, a, 3, ValBinary, `{"foo":1}`)
		wantVal(t, a, 4, ValTemporal, "2022-04-20 22:18:04")
	},
	"rust_mysql_common/vector.binlog": func(t *testing.T, res corpusResult) {
		if len(res.rowValues) < 2 {
			t.Fatalf("%d rows", len(res.rowValues))
		}
		r := res.rowValues[0]
		if r.table != "dtb.foo" {
			t.Fatalf("first row of %s", r.table)
		}
		if got := float32s(r.after[1].Text); fmt.Sprint(got) != "[1.1 2.2 3.3]" {
			t.Errorf("vector %v, want [1.1 2.2 3.3]", got)
		}
		if got := float32s(res.rowValues[1].after[1].Text); fmt.Sprint(got) != "[1 -1 0]" {
			t.Errorf("vector %v, want [1 -1 0]", got)
		}
	},
	// binlog_row_value_options=PARTIAL_JSON with MINIMAL images: six rows inserted, updated in
	// full (UPDATE_ROWS_EVENT), then JSON_SET(j, '$.age', age+1) on each, which MySQL logs as
	// PARTIAL_UPDATE_ROWS_EVENT with a one-diff REPLACE of $.age.
	"rust_mysql_common/json.binlog.000001": func(t *testing.T, res corpusResult) {
		wantRows(t, res, 18)
		if res.rowsEvents[Update] != 2 || res.rowsEvents[Insert] != 4 {
			t.Errorf("rows events %v", res.rowsEvents)
		}
		wantVal(t, res.rowValues[6].after, 1, ValJSON, `{"age": 25, "data": "xxxxxxxxxx", "name": "Joe"}`)
		for i, age := range []string{"26", "34", "42", "26", "34", "42"} {
			r := res.rowValues[12+i]
			wantVal(t, r.before, 0, ValInt, strconv.Itoa(i+1))
			wantVal(t, r.before, 1, ValAbsent, "")
			wantVal(t, r.after, 0, ValAbsent, "")
			wantVal(t, r.after, 3, ValInt, age)
			if r.after[1].Kind != ValJSONDiff {
				t.Fatalf("row %d: JSON column is %v, want a diff", 12+i, r.after[1].Kind)
			}
			op, path, val, rest, ok := NextJSONDiff([]byte(r.after[1].Text))
			if !ok || op != JSONReplace || string(path) != "$.age" || string(val) != age || len(rest) != 0 {
				t.Errorf("row %d: diff %v %q %q, %d bytes after; want replace $.age %s", 12+i, op, path, val, len(rest), age)
			}
		}
	},
	"rust_mysql_common/json-opaque.binlog": func(t *testing.T, res corpusResult) {
		want := []string{
			`{"a": "base64:type15:VQ=="}`,
			`{"b": "2012-03-18"}`,
			`{"c": "2012-03-18 11:30:45.000000"}`,
			`{"c": "87:31:46.654321"}`,
			`{"d": 123.456}`,
			`{"e": 9.00}`,
			`{"e": [0, 1, true, false]}`,
			`{"e": null}`,
		}
		wantRows(t, res, len(want))
		for i, w := range want {
			wantVal(t, res.rowValues[i].after, 0, ValJSON, w)
		}
	},
	"mysql-cdc-rs/8.0/19_30_Table_map_event_Write_rows_log_event/binlog.000018": func(t *testing.T, res corpusResult) {
		wantRows(t, res, 1)
		for i, w := range []string{"1", "11", "111", "1111", "11111", "1"} { // TINYINT..BIGINT, MEDIUMINT
			wantVal(t, res.rowValues[0].after, i, ValInt, w)
		}
	},
	"rust_mysql_common/binlog_transaction_with_GTID_TAG.000001": func(t *testing.T, res corpusResult) {
		if fmt.Sprint(res.gtids) != "[55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3]" {
			t.Errorf("GTIDs %v", res.gtids)
		}
	},
}

func wantRows(t *testing.T, res corpusResult, n int) {
	t.Helper()
	if len(res.rowValues) != n {
		t.Fatalf("%d rows, want %d", len(res.rowValues), n)
	}
}

func wantVal(t *testing.T, row []corpusVal, i int, kind ValueKind, text string) {
	t.Helper()
	if i >= len(row) {
		t.Errorf("column %d of a %d-column row", i+1, len(row))
		return
	}
	if row[i].Kind != kind || row[i].Text != text {
		t.Errorf("column %d = kind %d %q, want kind %d %q", i+1, row[i].Kind, row[i].Text, kind, text)
	}
}

func wantRow(t *testing.T, r corpusRow, kind RowsKind, before, after []corpusVal) {
	t.Helper()
	if r.kind != kind {
		t.Errorf("%s row, want %s", r.kind, kind)
	}
	for _, img := range []struct {
		name      string
		got, want []corpusVal
	}{{"before", r.before, before}, {"after", r.after, after}} {
		if len(img.got) != len(img.want) {
			t.Errorf("%s %s image has %d columns, want %d", kind, img.name, len(img.got), len(img.want))
			continue
		}
		for i := range img.want {
			if img.got[i] != img.want[i] {
				t.Errorf("%s %s image column %d = %+v, want %+v", kind, img.name, i+1, img.got[i], img.want[i])
			}
		}
	}
}

func setNames(members [][]byte, mask uint64) string {
	var out []string
	for i, m := range members {
		if mask&(1<<uint(i)) != 0 {
			out = append(out, string(m))
		}
	}
	return strings.Join(out, ",")
}

func float32s(b string) []float32 {
	var out []float32
	for i := 0; i+4 <= len(b); i += 4 {
		out = append(out, math.Float32frombits(binary.LittleEndian.Uint32([]byte(b[i:]))))
	}
	return out
}

// comparePrefetcher checks that a Prefetcher, which the CLI reads through, yields exactly the
// events, lookahead answers, rows and final error that the FileSource does.
func comparePrefetcher(t *testing.T, path string) {
	t.Helper()
	src, err := OpenFiles([]string{path}, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := fuzzTrace(t, src, nil)
	src.Close()
	src, err = OpenFiles([]string{path}, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pf := NewPrefetcher(src, 64, func(*TableMap) bool { return true })
	defer pf.Close()
	compareTraces(t, want, fuzzTrace(t, pf, nil))
}
