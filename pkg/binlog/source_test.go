package binlog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/replication"
)

// dmlDir holds binlogs written by a real MariaDB 10.11 (see testdata/README.md).
var dmlDir = filepath.Join("..", "..", "testdata", "dml")

// evSummary is what the bad-input tests compare of an event.
type evSummary struct {
	Pos   Position
	End   int64
	Type  replication.EventType
	Kind  Kind
	Flags uint16
	Rows  int // rows decoded, for rows events
}

// drainResult is everything a source yielded until it stopped.
type drainResult struct {
	events []evSummary
	rows   int
	err    error // io.EOF after a clean end
	panic  any   // non-nil if decoding panicked
	stack  string
}

// drainSource reads src until it returns an error (io.EOF at a clean end) or maxEvents events
// were read, decoding every row of every rows event. A row decoding error ends the drain and is
// returned wrapped in a PosError at its event, as the restore package reports it. A panic is
// recovered and returned in the result, so one bad input does not stop a table of cases.
func drainSource(src *FileSource, maxEvents int) (res drainResult) {
	defer func() {
		if r := recover(); r != nil {
			res.panic = r
			res.stack = stackTrace()
		}
	}()
	ctx := context.Background()
	for {
		if maxEvents > 0 && len(res.events) >= maxEvents {
			return res
		}
		ev, err := src.Next(ctx)
		if err != nil {
			res.err = err
			// Once failed (or done), a source keeps saying so.
			if _, err2 := src.Next(ctx); err2 != err {
				res.err = fmt.Errorf("second Next after %v returned %v", err, err2)
			}
			return res
		}
		s := evSummary{Pos: ev.Pos, End: ev.End, Type: ev.Header.Type, Kind: ev.Kind, Flags: ev.Header.Flags}
		if ev.Kind == KindRows {
			if ev.Rows == nil || ev.Rows.Table == nil {
				res.err = fmt.Errorf("%s: rows event without rows or table", ev.Pos)
				return res
			}
			for ev.Rows.More() {
				if _, _, err := ev.Rows.Next(); err != nil {
					res.err = &PosError{Pos: ev.Pos, Err: err}
					return res
				}
				s.Rows++
			}
			res.rows += s.Rows
		}
		res.events = append(res.events, s)
	}
}

// drainPaths opens paths and drains them; an OpenFiles error is returned as the result's err.
func drainPaths(paths []string, opts FileOptions) drainResult {
	src, err := OpenFiles(paths, opts)
	if err != nil {
		return drainResult{err: err}
	}
	defer src.Close()
	return drainSource(src, 0)
}

// sameEvents compares event lists; nil and empty are the same.
func sameEvents(a, b []evSummary) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

func stackTrace() string { return string(debug.Stack()) }

// mustDrainOK drains paths and fails the test unless they decode to a clean end.
func mustDrainOK(t *testing.T, paths []string, opts FileOptions) drainResult {
	t.Helper()
	res := drainPaths(paths, opts)
	if res.panic != nil {
		t.Fatalf("panic: %v\n%s", res.panic, res.stack)
	}
	if res.err != io.EOF {
		t.Fatalf("want io.EOF, got %v", res.err)
	}
	return res
}

// wantPosErr checks that err is a *PosError at file:off wrapping target, and that its message
// starts with "file:off: ".
func wantPosErr(t *testing.T, err error, file string, off int64, targets ...error) {
	t.Helper()
	var pe *PosError
	if !errors.As(err, &pe) {
		t.Fatalf("want a *PosError at %s:%d, got %T %v", file, off, err, err)
	}
	if pe.Pos.File != file || pe.Pos.Offset != off {
		t.Errorf("error at %s, want %s:%d: %v", pe.Pos, file, off, err)
	}
	prefix := fmt.Sprintf("%s:%d: ", file, off)
	if !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("error message %q does not start with %q", err.Error(), prefix)
	}
	if len(targets) == 0 {
		return
	}
	for _, target := range targets {
		if errors.Is(err, target) {
			return
		}
	}
	t.Errorf("error %q wraps none of %v", err, targets)
}

// copyFixture copies testdata/dml files into a temp dir and returns their new paths.
func copyFixture(t *testing.T, dir string, names ...string) []string {
	t.Helper()
	var out []string
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dmlDir, n))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dmlDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtureEvents decodes an intact fixture file and checks that its events tile the file.
func fixtureEvents(t *testing.T, name string) ([]evSummary, []byte) {
	t.Helper()
	data := readFixture(t, name)
	res := mustDrainOK(t, []string{filepath.Join(dmlDir, name)}, FileOptions{})
	if len(res.events) < 10 {
		t.Fatalf("%s: only %d events", name, len(res.events))
	}
	off := int64(4)
	for _, e := range res.events {
		if e.Pos.File != name || e.Pos.Offset != off || e.End <= off {
			t.Fatalf("%s: event %+v does not start where the previous ended (%d)", name, e, off)
		}
		off = e.End
	}
	if off != int64(len(data)) {
		t.Fatalf("%s: events end at %d, file is %d bytes", name, off, len(data))
	}
	if res.events[0].Type != replication.FORMAT_DESCRIPTION_EVENT {
		t.Fatalf("%s: first event is %s", name, res.events[0].Type)
	}
	return res.events, data
}

// scratchFile is a file that tests change many times through one open descriptor: shrinking it
// or patching bytes in place is some hundred times faster than rewriting it with os.WriteFile
// (on ext4, a file truncated to zero is flushed when closed).
type scratchFile struct {
	path string
	f    *os.File
}

func newScratchFile(t testing.TB, dir, name string) *scratchFile {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &scratchFile{path: p, f: f}
}

// set replaces the contents. It truncates to the new size rather than to zero: ext4 flushes a
// file truncated to zero when any descriptor of it is closed, which costs a millisecond.
func (s *scratchFile) set(t testing.TB, data []byte) {
	t.Helper()
	if err := s.f.Truncate(int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.f.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
}

func (s *scratchFile) truncate(t testing.TB, size int) {
	t.Helper()
	if err := s.f.Truncate(int64(size)); err != nil {
		t.Fatal(err)
	}
}

func (s *scratchFile) patch(t testing.TB, off int64, b ...byte) {
	t.Helper()
	if _, err := s.f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func writeTemp(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSourceBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := readFixture(t, "mysql-bin.000003")
	cases := []struct {
		name  string
		setup func() []string
		// check inspects the result; nil means "must end with a PosError at name:0 wrapping want".
		want  error
		check func(t *testing.T, res drainResult)
	}{
		{
			name:  "missing file",
			setup: func() []string { return []string{filepath.Join(dir, "nope", "mysql-bin.000001")} },
			check: func(t *testing.T, res drainResult) {
				if !errors.Is(res.err, fs.ErrNotExist) || !strings.Contains(res.err.Error(), "mysql-bin.000001") {
					t.Errorf("want a not-exist error naming the file, got %v", res.err)
				}
			},
		},
		{
			name: "directory",
			setup: func() []string {
				p := filepath.Join(dir, "adir.000001")
				if err := os.Mkdir(p, 0o755); err != nil {
					t.Fatal(err)
				}
				return []string{p}
			},
			check: func(t *testing.T, res drainResult) {
				if res.err == nil || res.err == io.EOF || !strings.Contains(res.err.Error(), "is a directory") ||
					!strings.Contains(res.err.Error(), "adir.000001") {
					t.Errorf("want an error naming the directory, got %v", res.err)
				}
			},
		},
		{
			name:  "empty file",
			setup: func() []string { return []string{writeTemp(t, dir, "empty.000001", nil)} },
			want:  ErrNotBinlog,
		},
		{
			name:  "partial magic",
			setup: func() []string { return []string{writeTemp(t, dir, "partial.000001", good[:3])} },
			want:  ErrTruncated,
		},
		{
			name: "text file",
			setup: func() []string {
				return []string{writeTemp(t, dir, "text.000001", []byte("-- this is SQL, not a binlog\nSELECT 1;\n"))}
			},
			want: ErrNotBinlog,
		},
		{
			name: "gzipped binlog",
			setup: func() []string {
				return []string{writeTemp(t, dir, "gz.000001", []byte{0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 3})}
			},
			want: ErrNotBinlog,
		},
		{
			// The magic alone, given alone: a cut-off copy, not a replay of nothing with exit 0
			// (issue 17). As the last of several files it is what a server that crashed right
			// after rotating leaves: see "magic only last".
			name:  "magic only",
			setup: func() []string { return []string{writeTemp(t, dir, "magic.000001", good[:4])} },
			check: func(t *testing.T, res drainResult) {
				if !errors.Is(res.err, ErrTruncated) || !strings.HasPrefix(res.err.Error(), "magic.000001:4: ") ||
					!strings.Contains(res.err.Error(), "format description") || !strings.Contains(res.err.Error(), "(file "+dir) {
					t.Errorf("got %d events and %v", len(res.events), res.err)
				}
			},
		},
		{
			name: "magic only last",
			setup: func() []string {
				return []string{writeTemp(t, dir, "magiclast.000001", good), writeTemp(t, dir, "magiclast.000002", good[:4])}
			},
			check: func(t *testing.T, res drainResult) {
				if res.err != io.EOF || len(res.events) == 0 {
					t.Errorf("want the first file's events and io.EOF, got %d events and %v", len(res.events), res.err)
				}
			},
		},
		{
			name: "magic then zeros",
			setup: func() []string {
				return []string{writeTemp(t, dir, "zeros.000001", append(append([]byte(nil), good[:4]...), make([]byte, 64)...))}
			},
			check: func(t *testing.T, res drainResult) {
				wantPosErr(t, res.err, "zeros.000001", 4, ErrCorrupt)
			},
		},
		{
			// The second file of a sequence is not a binlog: the first file's events come out,
			// then the error names the second file.
			name: "bad second file",
			setup: func() []string {
				d := t.TempDir()
				paths := copyFixture(t, d, "mysql-bin.000002")
				return append(paths, writeTemp(t, d, "mysql-bin.000003", []byte("garbage garbage garbage")))
			},
			check: func(t *testing.T, res drainResult) {
				wantPosErr(t, res.err, "mysql-bin.000003", 0, ErrNotBinlog)
				if len(res.events) == 0 || res.events[len(res.events)-1].Kind != KindRotate {
					t.Errorf("want the whole first file before the error, got %d events", len(res.events))
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			paths := tc.setup()
			res := drainPaths(paths, FileOptions{})
			if res.panic != nil {
				t.Fatalf("panic: %v\n%s", res.panic, res.stack)
			}
			if tc.check != nil {
				tc.check(t, res)
				return
			}
			wantPosErr(t, res.err, filepath.Base(paths[0]), 0, tc.want)
			if len(res.events) != 0 {
				t.Errorf("got %d events from a bad file", len(res.events))
			}
		})
	}
}

// TestSourceTruncatedEveryOffset cuts mysql-bin.000003 at every offset after the magic: a cut at
// an event boundary is a clean end after the events before it, a cut inside an event is
// ErrTruncated at that event's start, with every earlier event delivered first.
func TestSourceTruncatedEveryOffset(t *testing.T) {
	const name = "mysql-bin.000003"
	events, data := fixtureEvents(t, name)
	file := newScratchFile(t, t.TempDir(), name)
	file.set(t, data)
	for cut := len(data) - 1; cut >= 5; cut-- {
		file.truncate(t, cut)
		res := drainPaths([]string{file.path}, FileOptions{})
		if res.panic != nil {
			t.Fatalf("cut at %d: panic: %v\n%s", cut, res.panic, res.stack)
		}
		whole := 0 // events that end at or before the cut
		for whole < len(events) && events[whole].End <= int64(cut) {
			whole++
		}
		if !sameEvents(res.events, events[:whole]) {
			t.Errorf("cut at %d: got %d events, want the %d whole ones", cut, len(res.events), whole)
			continue
		}
		if whole > 0 && events[whole-1].End == int64(cut) {
			if res.err != io.EOF {
				t.Errorf("cut at %d (an event boundary): want io.EOF, got %v", cut, res.err)
			}
			continue
		}
		var start int64 = 4
		if whole > 0 {
			start = events[whole-1].End
		}
		if !errors.Is(res.err, ErrTruncated) {
			t.Errorf("cut at %d: want ErrTruncated at %d, got %v", cut, start, res.err)
			continue
		}
		wantPosErr(t, res.err, name, start, ErrTruncated)
	}
}

// TestSourceFlippedBytes changes every byte after the magic of mysql-bin.000003, one at a
// time. Every change must be caught (CRC32 detects any error burst of up to 32 bits), at the
// event that holds the byte, with every earlier event delivered.
func TestSourceFlippedBytes(t *testing.T) {
	const name = "mysql-bin.000003"
	events, data := fixtureEvents(t, name)
	file := newScratchFile(t, t.TempDir(), name)
	file.set(t, data)
	fde := events[0]
	for i, e := range events {
		for off := e.Pos.Offset; off < e.End; off++ {
			rel := off - e.Pos.Offset
			for _, mask := range []byte{0xff, 0x01} {
				if i == 0 && rel == 17 && mask == 0x01 {
					continue // the FDE's LOG_EVENT_BINLOG_IN_USE_F: see TestSourceInUseFlag
				}
				flipped := data[off] ^ mask
				file.patch(t, off, flipped)
				res := drainPaths([]string{file.path}, FileOptions{})
				file.patch(t, off, data[off])
				what := fmt.Sprintf("byte %d (%s byte %d) ^%#x", off, e.Type, rel, mask)
				if res.panic != nil {
					t.Fatalf("%s: panic: %v\n%s", what, res.panic, res.stack)
				}
				if res.err == io.EOF {
					t.Errorf("%s: went unnoticed", what)
					continue
				}
				if len(res.events) > i || !sameEvents(res.events, events[:len(res.events)]) {
					t.Errorf("%s: got %d events before the error, want at most the %d before it", what, len(res.events), i)
				}
				switch {
				case i == 0:
					// The format event: a changed checksum algorithm, header length, binlog
					// version or server version is reported as such; anything else fails the
					// checksum. Either way no event may come out.
					wantPosErr(t, res.err, name, fde.Pos.Offset, ErrChecksum, ErrCorrupt, ErrUnsupported, ErrTruncated)
					if len(res.events) != 0 {
						t.Errorf("%s: got %d events from a corrupt format event", what, len(res.events))
					}
				case rel >= 9 && rel < 13:
					// The event length: the event is framed wrong, so its checksum fails, or it
					// runs past the end of the file, or is impossibly short or long.
					wantPosErr(t, res.err, name, e.Pos.Offset, ErrChecksum, ErrTruncated, ErrCorrupt)
				case rel == 4 && flipped == byte(replication.FORMAT_DESCRIPTION_EVENT):
					wantPosErr(t, res.err, name, e.Pos.Offset)
				default:
					if len(res.events) != i {
						t.Errorf("%s: got %d events before the error, want %d", what, len(res.events), i)
					}
					wantPosErr(t, res.err, name, e.Pos.Offset, ErrChecksum)
				}
			}
		}
	}
}

// TestSourceInUseFlag sets LOG_EVENT_BINLOG_IN_USE_F in the format description event, as the
// server does in its active log: the checksum, computed with the flag clear, must still verify.
// The flag is only excluded from the format event's checksum: set on any other event, or with
// another flag bit, it is a checksum error.
func TestSourceInUseFlag(t *testing.T) {
	const name = "mysql-bin.000003"
	events, data := fixtureEvents(t, name)
	dir := t.TempDir()
	path := filepath.Join(dir, name)

	inUse := append([]byte(nil), data...)
	inUse[4+17] |= flagInUse
	if data[4+17]&flagInUse != 0 {
		t.Fatal("fixture already has the in-use flag set")
	}
	if err := os.WriteFile(path, inUse, 0o644); err != nil {
		t.Fatal(err)
	}
	res := mustDrainOK(t, []string{path}, FileOptions{})
	want := append([]evSummary(nil), events...)
	want[0].Flags |= flagInUse
	if !sameEvents(res.events, want) {
		t.Errorf("in-use log decodes differently:\n got %+v\nwant %+v", res.events, want)
	}

	// Starting past the format event must verify it the same way.
	res = mustDrainOK(t, []string{path}, FileOptions{Start: Position{File: name, Offset: events[3].Pos.Offset}})
	if !sameEvents(res.events, events[3:]) {
		t.Errorf("in-use log from %s: got %d events, want %d", events[3].Pos, len(res.events), len(events)-3)
	}

	other := append([]byte(nil), data...)
	other[4+17] |= 0x02 // LOG_EVENT_THREAD_SPECIFIC_F: covered by the checksum
	if err := os.WriteFile(path, other, 0o644); err != nil {
		t.Fatal(err)
	}
	res = drainPaths([]string{path}, FileOptions{})
	wantPosErr(t, res.err, name, 4, ErrChecksum)

	second := events[1]
	notFDE := append([]byte(nil), data...)
	notFDE[second.Pos.Offset+17] |= flagInUse
	if err := os.WriteFile(path, notFDE, 0o644); err != nil {
		t.Fatal(err)
	}
	res = drainPaths([]string{path}, FileOptions{})
	wantPosErr(t, res.err, name, second.Pos.Offset, ErrChecksum)
}

func TestSourceStartPosition(t *testing.T) {
	all := []string{
		filepath.Join(dmlDir, "mysql-bin.000002"),
		filepath.Join(dmlDir, "mysql-bin.000003"),
		filepath.Join(dmlDir, "mysql-bin.000004"),
	}
	full := mustDrainOK(t, all, FileOptions{})
	ev3, data3 := fixtureEvents(t, "mysql-bin.000003")
	// index of the first event of a position in the full sequence
	indexOf := func(p Position) int {
		for i, e := range full.events {
			if e.Pos == p {
				return i
			}
		}
		t.Fatalf("no event at %s", p)
		return -1
	}
	var gtid3, rows3 Position // a transaction start and a rows event in mysql-bin.000003
	for _, e := range ev3 {
		if e.Kind == KindGTID && gtid3.IsZero() {
			gtid3 = e.Pos
		}
		if e.Kind == KindRows && rows3.IsZero() {
			rows3 = e.Pos
		}
	}

	okCases := []struct {
		name  string
		start Position
		first Position // the first event Next returns
	}{
		{"zero", Position{}, Position{File: "mysql-bin.000002", Offset: 4}},
		{"first file, offset 4", Position{Offset: 4}, Position{File: "mysql-bin.000002", Offset: 4}},
		{"bare offset means the first file", Position{Offset: full.events[1].Pos.Offset}, full.events[1].Pos},
		{"second file, offset 4", Position{File: "mysql-bin.000003", Offset: 4}, Position{File: "mysql-bin.000003", Offset: 4}},
		{"transaction start in the second file", gtid3, gtid3},
		{"last event of the last file", full.events[len(full.events)-1].Pos, full.events[len(full.events)-1].Pos},
		// mysqlbinlog, too, reads a position inside the magic as the first event.
		{"offset inside the magic", Position{File: "mysql-bin.000003", Offset: 2}, Position{File: "mysql-bin.000003", Offset: 4}},
		// The end of a file is a boundary: the replay goes on with the next file.
		{"end of a file", Position{File: "mysql-bin.000003", Offset: int64(len(data3))}, Position{File: "mysql-bin.000004", Offset: 4}},
	}
	for _, tc := range okCases {
		t.Run(tc.name, func(t *testing.T) {
			res := mustDrainOK(t, all, FileOptions{Start: tc.start})
			if len(res.events) == 0 {
				t.Fatal("no events")
			}
			i := indexOf(tc.first)
			if !sameEvents(res.events, full.events[i:]) {
				t.Errorf("from %s: got %d events starting at %s, want %d starting at %s",
					tc.start, len(res.events), res.events[0].Pos, len(full.events)-i, tc.first)
			}
		})
	}

	// A start inside a transaction (here on a rows event, after its table map) is refused with
	// where the transaction starts, which is the fix.
	t.Run("rows event without its table map", func(t *testing.T) {
		var txn Position // the last GTID event before rows3
		for _, e := range ev3 {
			if e.Kind == KindGTID && e.Pos.Before(rows3) {
				txn = e.Pos
			}
		}
		res := drainPaths(all, FileOptions{Start: rows3})
		if res.panic != nil {
			t.Fatalf("panic: %v", res.panic)
		}
		if !errors.Is(res.err, ErrStartInTxn) || !strings.Contains(res.err.Error(), "start position "+rows3.String()+" is inside the transaction that starts at "+txn.String()) {
			t.Errorf("got %v, want ErrStartInTxn naming %s and %s", res.err, rows3, txn)
		}
		if len(res.events) != 0 {
			t.Errorf("got %d events before the error", len(res.events))
		}
	})

	badCases := []struct {
		name  string
		start Position
		want  []string // substrings of the error
	}{
		{"inside the format event", Position{File: "mysql-bin.000003", Offset: 100}, []string{"mysql-bin.000003:100", "event boundary"}},
		{"inside an event", Position{File: "mysql-bin.000003", Offset: gtid3.Offset + 1}, []string{fmt.Sprintf("mysql-bin.000003:%d", gtid3.Offset+1), "event boundary"}},
		{"bare offset inside an event", Position{Offset: 5}, []string{"mysql-bin.000002:5", "event boundary"}},
		{"past the end", Position{File: "mysql-bin.000003", Offset: int64(len(data3)) + 1}, []string{"past the end", fmt.Sprintf("%d bytes", len(data3))}},
		{"far past the end", Position{File: "mysql-bin.000004", Offset: 1 << 40}, []string{"past the end"}},
	}
	for _, tc := range badCases {
		t.Run(tc.name, func(t *testing.T) {
			res := drainPaths(all, FileOptions{Start: tc.start})
			if res.panic != nil {
				t.Fatalf("panic: %v", res.panic)
			}
			if res.err == nil || res.err == io.EOF {
				t.Fatalf("want an error, got %v after %d events", res.err, len(res.events))
			}
			if len(res.events) != 0 {
				t.Errorf("got %d events before the error", len(res.events))
			}
			for _, s := range tc.want {
				if !strings.Contains(res.err.Error(), s) {
					t.Errorf("error %q does not mention %q", res.err, s)
				}
			}
		})
	}

	t.Run("file not in the list", func(t *testing.T) {
		_, err := OpenFiles(all, FileOptions{Start: Position{File: "mysql-bin.000009", Offset: 4}})
		if err == nil || !strings.Contains(err.Error(), "mysql-bin.000009") || !strings.Contains(err.Error(), "not among") {
			t.Errorf("want an error naming the file, got %v", err)
		}
	})
}

func TestOrderFiles(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	copyFixture(t, dir, "mysql-bin.000002", "mysql-bin.000003", "mysql-bin.000004")
	idx := writeTemp(t, dir, "mysql-bin.index", []byte("./mysql-bin.000002\n./mysql-bin.000003\n\n./mysql-bin.000004\n"))
	// A server's index names files relative to its datadir, or absolutely; the index may
	// have moved since, so each is looked up next to the index.
	idxAbs := writeTemp(t, dir, "abs.index", []byte("/var/lib/mysql/mysql-bin.000003\r\n"+p("mysql-bin.000004")+"\n"))
	emptyIdx := writeTemp(t, dir, "empty.index", []byte("\n\n"))

	cases := []struct {
		name      string
		in        []string
		allowGaps bool
		want      []string
		errHas    []string
	}{
		{name: "in order", in: []string{p("mysql-bin.000002"), p("mysql-bin.000003")}, want: []string{p("mysql-bin.000002"), p("mysql-bin.000003")}},
		{name: "out of order", in: []string{p("mysql-bin.000004"), p("mysql-bin.000002"), p("mysql-bin.000003")},
			want: []string{p("mysql-bin.000002"), p("mysql-bin.000003"), p("mysql-bin.000004")}},
		{name: "numeric not lexical order", in: []string{"b.1000", "b.999"}, want: []string{"b.999", "b.1000"}},
		{name: "duplicate path", in: []string{p("mysql-bin.000003"), p("mysql-bin.000003")}, want: []string{p("mysql-bin.000003")}},
		{name: "gap", in: []string{p("mysql-bin.000002"), p("mysql-bin.000004")}, errHas: []string{"gap", "mysql-bin.000002", "mysql-bin.000004", "--allow-gaps"}},
		{name: "gap allowed", in: []string{p("mysql-bin.000004"), p("mysql-bin.000002")}, allowGaps: true, want: []string{p("mysql-bin.000002"), p("mysql-bin.000004")}},
		{name: "index", in: []string{idx}, want: []string{p("mysql-bin.000002"), p("mysql-bin.000003"), p("mysql-bin.000004")}},
		{name: "index with absolute and moved paths", in: []string{idxAbs}, want: []string{p("mysql-bin.000003"), p("mysql-bin.000004")}},
		{name: "empty index", in: []string{emptyIdx}, errHas: []string{"empty.index", "no binlog files"}},
		{name: "missing index", in: []string{p("gone.index")}, errHas: []string{"gone.index"}},
		{name: "mixed base names", in: []string{p("mysql-bin.000002"), p("other-bin.000003")}, errHas: []string{"different binlog series"}},
		{name: "same name in two folders", in: []string{"a/mysql-bin.000002", "b/mysql-bin.000002"}, errHas: []string{"same file name"}},
		{name: "single file without a sequence number", in: []string{"dump.bin"}, want: []string{"dump.bin"}},
		{name: "two files without sequence numbers", in: []string{"x.bin", "y.bin"}, errHas: []string{"no numeric extension"}},
		{name: "nothing", in: nil, errHas: []string{"no binlog files"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := OrderFiles(tc.in, tc.allowGaps)
			if tc.errHas != nil {
				if err == nil {
					t.Fatalf("want an error, got %v", got)
				}
				for _, s := range tc.errHas {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("OpenFiles reads an index and keeps going across files", func(t *testing.T) {
		res := mustDrainOK(t, []string{idx}, FileOptions{})
		direct := mustDrainOK(t, []string{p("mysql-bin.000002"), p("mysql-bin.000003"), p("mysql-bin.000004")}, FileOptions{})
		if !sameEvents(res.events, direct.events) {
			t.Errorf("index: %d events, files: %d", len(res.events), len(direct.events))
		}
	})
	t.Run("OpenFiles refuses a gap", func(t *testing.T) {
		_, err := OpenFiles([]string{p("mysql-bin.000002"), p("mysql-bin.000004")}, FileOptions{})
		if err == nil || !strings.Contains(err.Error(), "--allow-gaps") {
			t.Errorf("want a gap error, got %v", err)
		}
		mustDrainOK(t, []string{p("mysql-bin.000002"), p("mysql-bin.000004")}, FileOptions{AllowGaps: true})
	})
}

func TestParsePosition(t *testing.T) {
	cases := []struct {
		in     string
		want   Position
		errHas string
	}{
		{in: "mysql-bin.000002:4", want: Position{File: "mysql-bin.000002", Offset: 4}},
		{in: "120", want: Position{Offset: 120}},
		{in: "0", want: Position{}},
		{in: "binlog.000001:9223372036854775807", want: Position{File: "binlog.000001", Offset: 1<<63 - 1}},
		// A file name may contain a colon; the offset follows the last one.
		{in: "c:mysql-bin.000001:256", want: Position{File: "c:mysql-bin.000001", Offset: 256}},
		{in: "", errHas: "empty position"},
		{in: ":5", errHas: "empty file name"},
		{in: "f:-1", errHas: "non-negative integer"},
		{in: "f:x", errHas: "non-negative integer"},
		{in: "f:", errHas: "non-negative integer"},
		{in: "-3", errHas: "non-negative integer"},
		{in: "f:1.5", errHas: "non-negative integer"},
		{in: "f:99999999999999999999", errHas: "non-negative integer"},
	}
	for _, tc := range cases {
		got, err := ParsePosition(tc.in)
		if tc.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("ParsePosition(%q) = %v, %v; want an error mentioning %q", tc.in, got, err, tc.errHas)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParsePosition(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if tc.want.File != "" && got.String() != tc.in {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), tc.in)
		}
	}
}

func TestPositionBefore(t *testing.T) {
	pos := func(f string, o int64) Position { return Position{File: f, Offset: o} }
	cases := []struct {
		a, b Position
		want bool
	}{
		{pos("mysql-bin.000002", 100), pos("mysql-bin.000002", 200), true},
		{pos("mysql-bin.000002", 200), pos("mysql-bin.000002", 100), false},
		{pos("mysql-bin.000002", 100), pos("mysql-bin.000002", 100), false},
		{pos("mysql-bin.000002", 9999), pos("mysql-bin.000003", 4), true},
		{pos("mysql-bin.999999", 4), pos("mysql-bin.1000000", 4), true}, // numeric, not lexical
		{pos("mysql-bin.000003", 4), pos("mysql-bin.000002", 9999), false},
	}
	for _, tc := range cases {
		if got := tc.a.Before(tc.b); got != tc.want {
			t.Errorf("%s.Before(%s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestSourceChecksumNone rewrites mysql-bin.000003 as a server with binlog_checksum=NONE writes
// it: no CRC32 after the events, checksum algorithm 0 in the format event, which still ends in
// its own CRC32 (log_event.cc: "FD of checksum-aware server is always checksum-equipped"). That
// CRC32 is verified when present, so a flipped algorithm byte cannot silently turn verification
// off; a zero there means the writer did not compute one.
func TestSourceChecksumNone(t *testing.T) {
	const name = "mysql-bin.000003"
	events, data := fixtureEvents(t, name)
	fde := append([]byte(nil), data[4:events[0].End]...)
	if fde[len(fde)-5] != 1 {
		t.Fatalf("fixture checksum algorithm %d, want 1 (CRC32)", fde[len(fde)-5])
	}
	fde[len(fde)-5] = 0
	binary.LittleEndian.PutUint32(fde[len(fde)-4:], crc32.ChecksumIEEE(fde[:len(fde)-4]))
	out := append(append([]byte(nil), data[:4]...), fde...)
	for _, e := range events[1:] {
		ev := append([]byte(nil), data[e.Pos.Offset:e.End-4]...)
		binary.LittleEndian.PutUint32(ev[9:], uint32(len(ev)))
		binary.LittleEndian.PutUint32(ev[13:], uint32(len(out)+len(ev)))
		out = append(out, ev...)
	}
	dir := t.TempDir()
	path := writeTemp(t, dir, name, out)
	res := mustDrainOK(t, []string{path}, FileOptions{})
	if len(res.events) != len(events) {
		t.Fatalf("%d events, want %d", len(res.events), len(events))
	}
	for i, e := range res.events {
		w := events[i]
		if e.Type != w.Type || e.Kind != w.Kind || e.Rows != w.Rows || e.End-e.Pos.Offset != w.End-w.Pos.Offset-4*int64(min(i, 1)) {
			t.Errorf("event %d: got %+v, want %+v less its checksum", i, e, w)
		}
	}

	// V = 0: no checksum at all, accepted.
	zero := append([]byte(nil), out...)
	binary.LittleEndian.PutUint32(zero[events[0].End-4:], 0)
	writeTemp(t, dir, name, zero)
	mustDrainOK(t, []string{path}, FileOptions{})

	// A damaged format event is caught by its own checksum.
	bad := append([]byte(nil), out...)
	bad[4+19+10] ^= 0x20 // a byte of the server version
	writeTemp(t, dir, name, bad)
	res = drainPaths([]string{path}, FileOptions{})
	wantPosErr(t, res.err, name, 4, ErrChecksum)
}

// TestSourceHugeEventSize: a length field claiming a near-1-GiB event in a small file (a
// damaged header, or a crash while the server wrote a huge event) is reported as truncated
// without first allocating the gigabyte.
func TestSourceHugeEventSize(t *testing.T) {
	const name = "mysql-bin.000003"
	events, data := fixtureEvents(t, name)
	for _, size := range []uint32{readBufSize + 1, maxEventSize} {
		b := append([]byte(nil), data[:events[2].End]...)
		hdr := append([]byte(nil), data[events[2].End:events[2].End+headerSize]...)
		binary.LittleEndian.PutUint32(hdr[9:], size)
		b = append(append(b, hdr...), make([]byte, 100)...)
		path := writeTemp(t, t.TempDir(), name, b)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		res := drainPaths([]string{path}, FileOptions{})
		runtime.ReadMemStats(&after)
		wantPosErr(t, res.err, name, events[2].End, ErrTruncated)
		if len(res.events) != 3 {
			t.Errorf("%d events before the error, want 3", len(res.events))
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
			t.Errorf("event size %d in a %d-byte file: allocated %d MiB", size, len(b), alloc>>20)
		}
	}
}

// TestOrderFilesIndexAndFiles: mysql-bin.* in a server's binlog folder names the files and the
// .index listing them; each file is read once.
func TestOrderFilesIndexAndFiles(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"mysql-bin.000001", "mysql-bin.000002"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "mysql-bin.index"), []byte("./mysql-bin.000001\n./mysql-bin.000002\n"), 0o644)
	glob, _ := filepath.Glob(filepath.Join(dir, "mysql-bin.*"))
	got, err := OrderFiles(glob, false)
	if err != nil || len(got) != 2 || filepath.Base(got[0]) != "mysql-bin.000001" || filepath.Base(got[1]) != "mysql-bin.000002" {
		t.Errorf("OrderFiles(%q) = %q, %v; want the two files once each", glob, got, err)
	}
}

// TestSourceChecksumNoneFlips flips single bytes of a binlog written with binlog_checksum=NONE
// and counts what each flip does: an error, or a replay that reads differently with no error
// (only a checksum could catch that: the flip hit a value). No error may carry Go runtime text,
// and the file's missing checksums are warned about once.
func TestSourceChecksumNoneFlips(t *testing.T) {
	const name = "mysql-bin.000003"
	events, data := fixtureEvents(t, name)
	fde := append([]byte(nil), data[4:events[0].End]...)
	fde[len(fde)-5] = 0
	binary.LittleEndian.PutUint32(fde[len(fde)-4:], crc32.ChecksumIEEE(fde[:len(fde)-4]))
	out := append(append([]byte(nil), data[:4]...), fde...)
	for _, e := range events[1:] {
		ev := append([]byte(nil), data[e.Pos.Offset:e.End-4]...)
		binary.LittleEndian.PutUint32(ev[9:], uint32(len(ev)))
		binary.LittleEndian.PutUint32(ev[13:], uint32(len(out)+len(ev)))
		out = append(out, ev...)
	}
	dir := t.TempDir()
	path := writeTemp(t, dir, name, out)

	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	read := func() (string, error) {
		src, err := OpenFiles([]string{path}, FileOptions{Log: log})
		if err != nil {
			return "", err
		}
		defer src.Close()
		var b strings.Builder
		for {
			ev, err := src.Next(context.Background())
			if err == io.EOF {
				return b.String(), nil
			}
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "%s %s %d|", ev.Pos, ev.Header.Type, ev.Kind)
			if ev.Kind == KindRows {
				for ev.Rows.More() {
					before, after, err := ev.Rows.Next()
					if err != nil {
						return "", &PosError{Pos: ev.Pos, Err: err}
					}
					fmt.Fprintf(&b, "%v %v|", before, after)
				}
			}
		}
	}
	want, err := read()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "binlog_checksum=NONE"); n != 1 {
		t.Errorf("%d warnings about the missing checksums, want 1:\n%s", n, logs.String())
	}
	detected, silent, same := 0, 0, 0
	step := max(1, (len(out)-4)/400)
	for off := 4 + int(events[0].End-4); off < len(out); off += step {
		flipped := append([]byte(nil), out...)
		flipped[off] ^= 0x5a
		writeTemp(t, dir, name, flipped)
		got, err := func() (got string, err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic: %v", r)
				}
			}()
			return read()
		}()
		switch {
		case err != nil:
			detected++
			if m := err.Error(); strings.Contains(m, "runtime error") || strings.Contains(m, "panic") || strings.Contains(m, "goroutine") || !strings.HasPrefix(m, name+":") {
				t.Errorf("flip at %d: message %q", off, m)
			}
		case got == want:
			same++
		default:
			silent++
			if testing.Verbose() {
				t.Logf("silent flip at %d: %s", off, firstDiff(want, got))
			}
		}
	}
	t.Logf("binlog_checksum=NONE, %d single-byte flips after the format event: %d errors, %d read differently without an error (values), %d read the same (unused bytes)",
		detected+silent+same, detected, silent, same)
	// Before the structure checks: 66 errors, 57 silent, 304 same. The event type byte (8 flips)
	// is caught by refusing unknown, non-ignorable type codes; an event length or log_pos byte by
	// log_pos != offset+length (which turns 26 formerly unread log_pos flips into errors too).
	// The 48 still silent are all valid encodings of different values (class a), which only a
	// checksum could catch: 17 INT bytes, 7 DECIMAL digit bytes that stay within 0..999999999
	// per word, 10 string content bytes, 13 DATETIME(6) bytes whose fields stay in range
	// (2024-00-12 is a zero-in-date value a server stores), and one column bitmap byte of a write
	// event that leaves a valid MINIMAL-image bitmap (MySQL sets the padding bits past the
	// column count, corpus ver_trunk_row_v2.001, so they prove nothing) whose remaining bytes
	// decode as valid rows. Run with -v to list them.
	if detected != 101 || silent != 48 || same != 278 {
		t.Errorf("got %d errors, %d silent, %d same; want 101, 48, 278 (a check was lost, or one was added: update the classes above)",
			detected, silent, same)
	}
}

func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-80)
	ha, hb := min(len(a), i+60), min(len(b), i+60)
	return fmt.Sprintf("want ...%q\n got ...%q", a[lo:ha], b[lo:hb])
}

// TestPrefetchFileShrinks: a binlog truncated while the Prefetcher reads it through a mapping
// (its pages then fault) stops the read with ErrTruncated at a position, instead of crashing.
func TestPrefetchFileShrinks(t *testing.T) {
	path := synthBinlog(t, "oltp", 4<<20)
	src, err := OpenFiles([]string{path}, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := StartPrefetch(src, PrefetchOptions{Depth: 2})
	defer p.Close()
	ctx := context.Background()
	for range 3 {
		if _, err := p.Next(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The reader is a few batches ahead, inside its first mapped megabyte: cut the file
	// before where it is.
	if err := os.Truncate(path, 64<<10); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := p.Next(ctx)
		if err == nil {
			continue
		}
		var pe *PosError
		if !errors.Is(err, ErrTruncated) || !errors.As(err, &pe) || pe.Pos.Offset == 0 {
			t.Fatalf("after the file shrank: %v; want ErrTruncated at a position", err)
		}
		t.Log(err)
		return
	}
}

// TestMappedReader: a file read through mapped windows (under a chunk pool, as a Prefetcher
// reads) yields the same events as one read with read(2), also when mapping stops working
// part way (a file system that refuses it: the reader falls back to reading, keeping the
// window it has).
func TestMappedReader(t *testing.T) {
	path := synthBinlog(t, "oltp", 3<<20)
	ctx := context.Background()
	read := func(pool bool, stopMapAt int) []string {
		src, err := OpenFiles([]string{path}, FileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		if pool {
			src.pool = newChunkPool(readBufSize, 8)
		}
		var out []string
		for i := 0; ; i++ {
			if i == stopMapAt {
				if !src.cur.mapped {
					t.Fatalf("event %d: the file is not mapped", i)
				}
				src.cur.mapped = false
			}
			ev, err := src.Next(ctx)
			if err == io.EOF {
				return out
			}
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %s %08x", ev.Pos, ev.Header.Type, crc32.ChecksumIEEE(ev.Body)))
		}
	}
	want := read(false, -1)
	for _, stop := range []int{-1, 1, 7777, len(want) - 1} {
		got := read(true, stop)
		if !slices.Equal(got, want) {
			t.Errorf("mapping stopped at event %d: %d events, want %d", stop, len(got), len(want))
		}
	}
}
