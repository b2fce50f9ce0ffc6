package restore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/go-sql-driver/mysql"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// A LoadSink replays LOAD DATA: LoadFile takes the file's contents (a copy that stays valid
// until the Sink is closed) and returns the name a LOAD DATA LOCAL INFILE statement reads it by.
// key is unique within the binlogs (file and position of the statement).
type LoadSink interface {
	Sink
	LoadFile(ctx context.Context, key string, data io.Reader) (name string, err error)
}

// errNoLoadSink is returned for a LOAD DATA when the Sink has nowhere to put its file.
var errNoLoadSink = errors.New("LOAD DATA: the data file has nowhere to go; write the SQL to a file with -o (the data files are written beside it), or apply it with --target")

// loadFiles holds the LOAD DATA files of Begin_load_query and Append_block events on disk, so
// that memory stays flat however large they are.
type loadFiles struct {
	dir   string
	files map[uint32]*os.File
}

func (l *loadFiles) begin(id uint32) (*os.File, error) {
	l.drop(id)
	if l.dir == "" {
		d, err := os.MkdirTemp("", "pitr-load-")
		if err != nil {
			return nil, fmt.Errorf("LOAD DATA: %w", err)
		}
		l.dir = d
	}
	f, err := os.Create(filepath.Join(l.dir, strconv.FormatUint(uint64(id), 10)))
	if err != nil {
		return nil, fmt.Errorf("LOAD DATA: %w", err)
	}
	if l.files == nil {
		l.files = map[uint32]*os.File{}
	}
	l.files[id] = f
	return f, nil
}

func (l *loadFiles) block(ev *binlog.Event) error {
	f := l.files[ev.Load.FileID]
	if ev.LoadBegin {
		var err error
		if f, err = l.begin(ev.Load.FileID); err != nil {
			return err
		}
	}
	if f == nil {
		return fmt.Errorf("%w: Append_block for LOAD DATA file %d, which no Begin_load_query started", binlog.ErrCorrupt, ev.Load.FileID)
	}
	if _, err := f.Write(ev.Load.Data); err != nil {
		return fmt.Errorf("LOAD DATA: %w", err)
	}
	return nil
}

func (l *loadFiles) drop(id uint32) {
	if f := l.files[id]; f != nil {
		f.Close()
		os.Remove(f.Name())
		delete(l.files, id)
	}
}

func (l *loadFiles) close() {
	for id := range l.files {
		l.drop(id)
	}
	if l.dir != "" {
		os.RemoveAll(l.dir)
	}
}

// loadStatement gives the file of an Execute_load_query event to the sink and returns the
// statement reading it: the logged text, with "[LOCAL] INFILE 'name'" replaced by LOCAL INFILE
// and the sink's name, as mysqlbinlog does.
func (r *runner) loadStatement(ctx context.Context, ev *binlog.Event, stmt []byte) ([]byte, error) {
	ls, ok := r.sink.(LoadSink)
	if !ok {
		return nil, errNoLoadSink
	}
	f := r.loads.files[ev.ExecLoad.FileID]
	if f == nil {
		return nil, fmt.Errorf("%w: LOAD DATA of file %d, whose Begin_load_query is not in the binlogs read (start earlier)", binlog.ErrCorrupt, ev.ExecLoad.FileID)
	}
	q := ev.Query.SQL
	s, e := ev.ExecLoad.NameStart, ev.ExecLoad.NameEnd
	tail, err := afterFileName(q[s:e])
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("LOAD DATA: %w", err)
	}
	name, err := ls.LoadFile(ctx, fmt.Sprintf("%s-%d", ev.Pos.File, ev.Pos.Offset), f)
	if err != nil {
		return nil, err
	}
	r.loads.drop(ev.ExecLoad.FileID)
	out := append([]byte(nil), q[:s]...)
	out = append(out, " LOCAL INFILE "...)
	out = appendQuoted(out, []byte(name))
	out = append(out, tail...)
	out = append(out, q[e:]...)
	return bytes.TrimSpace(out), nil
}

// afterFileName returns what follows the file name in the part of a logged LOAD DATA the event
// marks: " [LOCAL] INFILE 'name' [REPLACE|IGNORE] INTO".
func afterFileName(part []byte) ([]byte, error) {
	i := bytes.Index(bytes.ToUpper(part), []byte("INFILE"))
	if i < 0 {
		return nil, fmt.Errorf("%w: LOAD DATA statement without INFILE where its event says: %q", binlog.ErrCorrupt, part)
	}
	p := i + len("INFILE")
	for p < len(part) && (part[p] == ' ' || part[p] == '\t' || part[p] == '\n') {
		p++
	}
	if p >= len(part) || part[p] != '\'' && part[p] != '"' {
		return nil, fmt.Errorf("%w: LOAD DATA file name is not a string: %q", binlog.ErrCorrupt, part)
	}
	quote := part[p]
	for p++; p < len(part); p++ {
		switch part[p] {
		case '\\':
			p++
		case quote:
			if p+1 < len(part) && part[p+1] == quote {
				p++
				continue
			}
			return part[p+1:], nil
		}
	}
	return nil, fmt.Errorf("%w: LOAD DATA file name does not end: %q", binlog.ErrCorrupt, part)
}

// LoadDir makes the SQLWriter write LOAD DATA files into dir, named after the output file.
func (s *SQLWriter) LoadDir(dir, prefix string) {
	s.loadDir, s.loadPrefix = dir, prefix
}

// LoadFile implements LoadSink: the file is written into the load directory and read by the
// client (mariadb --local-infile=1).
func (s *SQLWriter) LoadFile(_ context.Context, key string, data io.Reader) (string, error) {
	if s.loadDir == "" {
		return "", errNoLoadSink
	}
	path, err := filepath.Abs(filepath.Join(s.loadDir, s.loadPrefix+key+".data"))
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("LOAD DATA file: %w", err)
	}
	if _, err := io.Copy(f, data); err != nil {
		f.Close()
		return "", fmt.Errorf("LOAD DATA file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("LOAD DATA file %s: %w", path, err)
	}
	return path, nil
}

// LoadFile implements LoadSink: the data is copied aside and handed to the driver as a reader
// under a name unique to this Applier, which a LOAD DATA LOCAL INFILE 'Reader::name' reads.
func (a *Applier) LoadFile(_ context.Context, key string, data io.Reader) (string, error) {
	if a.loadDir == "" {
		d, err := os.MkdirTemp("", "pitr-apply-load-")
		if err != nil {
			return "", fmt.Errorf("LOAD DATA: %w", err)
		}
		var id [6]byte
		rand.Read(id[:])
		a.loadDir, a.loadID = d, hex.EncodeToString(id[:])
	}
	path := filepath.Join(a.loadDir, strconv.Itoa(len(a.loadNames)))
	f, err := os.Create(path)
	if err != nil {
		return "", fmt.Errorf("LOAD DATA: %w", err)
	}
	_, err = io.Copy(f, data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("LOAD DATA: %w", err)
	}
	name := "pitr-" + a.loadID + "-" + key
	mysql.RegisterReaderHandler(name, func() io.Reader {
		f, err := os.Open(path)
		if err != nil {
			return errReader{err}
		}
		return f // the driver closes a reader that is an io.ReadCloser
	})
	a.loadNames = append(a.loadNames, name)
	return "Reader::" + name, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// closeLoads forgets the Applier's LOAD DATA readers and removes their files.
func (a *Applier) closeLoads() {
	for _, n := range a.loadNames {
		mysql.DeregisterReaderHandler(n)
	}
	a.loadNames = nil
	if a.loadDir != "" {
		os.RemoveAll(a.loadDir)
		a.loadDir = ""
	}
}
