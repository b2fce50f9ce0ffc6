package binlog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/replication"
)

// fuzzMaxEvents bounds one input's work; no small input holds more events than this.
const fuzzMaxEvents = 10000

// FuzzSource feeds arbitrary bytes to the file source as a binlog file and reads it the way a
// replay does: every event, every row of every rows event, and the lookahead for the end of
// each transaction. Whatever the bytes, nothing may panic, and reading must end with io.EOF or a
// *PosError (row errors wrap one of the package's sentinel errors).
//
//	go test ./pkg/binlog -run '^$' -fuzz FuzzSource -fuzztime 3m   (or: make fuzz)
//
// Crashers are written to testdata/fuzz/FuzzSource/ and run by every later go test.
func FuzzSource(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	file := newScratchFile(f, f.TempDir(), "mysql-bin.000001")
	f.Fuzz(func(t *testing.T, data []byte) {
		file.set(t, data)
		fuzzRead(t, file.path, int64(len(data)))
		// Almost every mutation breaks a checksum, which stops reading before any decoder
		// sees the change. So read the input once more with its checksums made right.
		if fixed := fixChecksums(data); fixed != nil {
			file.set(t, fixed)
			fuzzRead(t, file.path, int64(len(fixed)))
		}
	})
}

// fixChecksums returns a copy of a binlog with the CRC32 of every whole event recomputed (the
// format event's with the in-use flag clear, as the server computes it), or nil if the input
// has no checksums to fix.
func fixChecksums(data []byte) []byte {
	if len(data) < 4+headerSize {
		return nil
	}
	out := append([]byte(nil), data...)
	var crc bool
	changed := false
	for off := 4; off+headerSize <= len(out); {
		size := int(binary.LittleEndian.Uint32(out[off+9:]))
		if size < headerSize+4 || size > len(out)-off {
			break
		}
		raw := out[off : off+size]
		if raw[4] == byte(replication.FORMAT_DESCRIPTION_EVENT) {
			f, err := parseFormat(raw)
			if err != nil {
				break
			}
			crc = f.checksum || f.fdeChecksum
			if crc {
				flags := raw[17]
				raw[17] &^= flagInUse
				sum := crc32.ChecksumIEEE(raw[:size-4])
				raw[17] = flags
				changed = changed || binary.LittleEndian.Uint32(raw[size-4:]) != sum
				binary.LittleEndian.PutUint32(raw[size-4:], sum)
			}
			crc = f.checksum
		} else if crc {
			sum := crc32.ChecksumIEEE(raw[:size-4])
			changed = changed || binary.LittleEndian.Uint32(raw[size-4:]) != sum
			binary.LittleEndian.PutUint32(raw[size-4:], sum)
		}
		off += size
	}
	if !changed {
		return nil
	}
	return out
}

// fuzzLine is one step of reading a source: an event, a row, or the end. peek is the lookahead
// answer for the event ("" if not asked, "none" if the source has none for it).
type fuzzLine struct {
	line, peek string
}

// fuzzPeekKind reports whether a replay may ask for the transaction end at an event of kind k.
func fuzzPeekKind(k Kind) bool { return k == KindGTID || k == KindQuery || k == KindRows }

func fuzzRead(t *testing.T, path string, size int64) {
	src, err := OpenFiles([]string{path}, FileOptions{})
	if err != nil {
		t.Fatalf("OpenFiles: %v", err) // the file exists and is a regular file
	}
	defer src.Close()
	trace := fuzzTrace(t, src, func(ev *Event, last int64) {
		if ev.Pos.File != "mysql-bin.000001" || ev.Pos.Offset != max(last, 4) || ev.End <= ev.Pos.Offset || ev.End > size {
			t.Fatalf("event %s..%d does not follow the previous one (ended at %d) inside the %d-byte file", ev.Pos, ev.End, last, size)
		}
	})
	if end := trace[len(trace)-1].line; strings.HasPrefix(end, "error ") && !strings.HasPrefix(end, "error *binlog.PosError ") {
		t.Fatalf("Next ended with %s, want a *PosError", end)
	}

	// The CLI reads through a Prefetcher, which must yield exactly what the FileSource does.
	src2, err := OpenFiles([]string{path}, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pf := NewPrefetcher(src2, 4, func(*TableMap) bool { return true })
	defer pf.Close()
	compareTraces(t, trace, fuzzTrace(t, pf, nil))
}

// compareTraces fails the test at the first step where a Prefetcher's trace differs from the
// FileSource's. The Prefetcher may have no lookahead answer for an event the FileSource has
// one for; where it has one, it must be the same.
func compareTraces(t *testing.T, file, prefetch []fuzzLine) {
	t.Helper()
	for i := 0; i < len(file) || i < len(prefetch); i++ {
		var a, b fuzzLine
		if i < len(file) {
			a = file[i]
		}
		if i < len(prefetch) {
			b = prefetch[i]
		}
		if a.line != b.line || b.peek != "none" && a.peek != b.peek {
			t.Fatalf("step %d: FileSource gave %+v, Prefetcher %+v", i, a, b)
		}
	}
}

// fuzzTrace reads src as a replay does (every event, the lookahead at transaction starts,
// every row) and describes each step. It checks what holds for any source; check, if not nil,
// is called on each event with the end of the one before.
func fuzzTrace(t *testing.T, src interface {
	Next(context.Context) (*Event, error)
	PeekTxnEnd(context.Context) (TxnEnd, error)
}, check func(ev *Event, last int64)) []fuzzLine {
	ctx := context.Background()
	var trace []fuzzLine
	last := int64(0)
	for n := 0; n < fuzzMaxEvents; n++ {
		ev, err := src.Next(ctx)
		if err == io.EOF {
			return append(trace, fuzzLine{line: "EOF"})
		}
		if err != nil {
			return append(trace, fuzzLine{line: fmt.Sprintf("error %T %v", err, err)})
		}
		if check != nil {
			check(ev, last)
		}
		last = ev.End
		l := fuzzLine{line: fmt.Sprintf("%s-%d %s kind %d", ev.Pos, ev.End, ev.Header.Type, ev.Kind)}
		if fuzzPeekKind(ev.Kind) {
			// Errors of the lookahead are reported by Next when it gets there.
			end, err := src.PeekTxnEnd(ctx)
			switch {
			case errors.Is(err, errNoLookahead):
				l.peek = "none"
			case err != nil:
				l.peek = "error " + err.Error()
			default:
				l.peek = fmt.Sprintf("%+v", end)
			}
		}
		trace = append(trace, l)
		if ev.Kind != KindRows {
			continue
		}
		rows := ev.Rows
		if rows == nil || rows.Table == nil {
			t.Fatalf("%s: rows event without rows or table map", ev.Pos)
		}
		for i := 0; rows.More(); i++ {
			if i > 1<<20 {
				t.Fatalf("%s: More is still true after %d rows", ev.Pos, i)
			}
			before, after, err := rows.Next()
			if err != nil {
				if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) {
					t.Fatalf("%s: row %d: error wraps no sentinel: %v", ev.Pos, i, err)
				}
				trace = append(trace, fuzzLine{line: "row error " + err.Error()})
				break
			}
			if n := len(rows.Table.Columns); before != nil && len(before) != n || after != nil && len(after) != n {
				t.Fatalf("%s: row %d has %d/%d values for %d columns", ev.Pos, i, len(before), len(after), n)
			}
			trace = append(trace, fuzzLine{line: fmt.Sprintf("row %v %v", before, after)})
		}
	}
	return append(trace, fuzzLine{line: "cap"})
}

// fuzzSeeds are the fixture binlogs, cut and damaged copies of them, and the small files of the
// real-server corpus when it is present.
func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, fix := range []string{"dml", "minimal_image", "minimal_metadata", "types"} {
		paths, _ := filepath.Glob(filepath.Join("..", "..", "testdata", fix, "mysql-bin.[0-9]*"))
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			seeds = append(seeds, b)
			if fix == "dml" && filepath.Base(p) == "mysql-bin.000003" {
				seeds = append(seeds, b[:len(b)/2], b[:len(b)-1], b[:4], b[:30])
				for _, off := range []int{4 + 9, 4 + 17, 300, 700, len(b) - 10} {
					c := append([]byte(nil), b...)
					c[off] ^= 0x5a
					seeds = append(seeds, c)
				}
			}
		}
	}
	if len(seeds) < 8 {
		f.Fatal("no fixture binlogs found")
	}
	for _, rel := range []string{
		"rust_mysql_common/json.binlog.000001",
		"rust_mysql_common/mysql-enum-string-set.000001",
		"rust_mysql_common/vector.binlog",
		"rust_mysql_common/mariadb-bin.000001",
		"rust_mysql_common/binlog_transaction_with_GTID_TAG.000001",
		"rust_mysql_common/update-full-row.binlog",
		"MySqlCdc/mysql-bin.000001",
		"mysql-binlog-connector-java/mysql-bin.checksum-none",
	} {
		if b, err := os.ReadFile(filepath.Join(corpusDir, filepath.FromSlash(rel))); err == nil {
			seeds = append(seeds, b)
		}
	}
	return seeds
}
