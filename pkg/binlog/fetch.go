package binlog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/go-mysql-org/go-mysql/replication"
)

// FetchOptions configures Fetch.
type FetchOptions struct {
	// Stream says how to reach the server; its Start and StartGTID are ignored (Fetch starts
	// at From, or where an earlier run stopped).
	Stream StreamOptions
	// From is the first binlog file to save, e.g. "mysql-bin.000042"; "" means the oldest one
	// the server has.
	From string
	// Dir is where the files go, under the server's own names. It is created if missing.
	Dir string
	Log *slog.Logger
}

// FetchStats says what Fetch saved.
type FetchStats struct {
	Files    []string // paths written to, in order
	Bytes    int64    // bytes written in this run
	Resumed  Position // where an earlier run's file was continued; zero if none
	End      Position // the position after the last saved event
	Complete []string // files that ended (with their Rotate or Stop event) in this run
}

// Fetch saves a server's binlogs as files identical to the server's own: the same names, and
// byte for byte the same content, up to the server's current position when Fetch started (or
// until ctx is done, with opts.Stream.Follow).
//
// The file being written has the in-use flag (LOG_EVENT_BINLOG_IN_USE_F) set in its format
// event, as the server's active binlog has on disk; Fetch clears it once the server's file has
// ended with its Rotate or Stop event, as the server does when it closes a file. So the file the
// server is still writing is saved as the same bytes as its prefix on the server's disk, and no
// file looks complete that is not. (The server clears the flag in the copy it sends; Fetch sets
// it back, which the checksum allows: servers compute it with the flag clear.)
//
// Fetch is resumable: when Dir already holds files of the series from From on, the last one is
// re-read and verified, any torn event at its end is cut off, and streaming continues from there.
// Files are written one whole event at a time and synced when they end and when Fetch returns.
func Fetch(ctx context.Context, opts FetchOptions) (FetchStats, error) {
	var stats FetchStats
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Binlogs hold the data: the folder and the files are the owner's alone (the server keeps
	// its own 0660 in a 0700 datadir).
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return stats, err
	}
	so := opts.Stream
	so.StartGTID = ""
	// The stream opens at From, or any file the server has when there is no From yet: where
	// it starts is decided below, from what Dir holds. (The From file itself may be purged by
	// now when an earlier run saved it.)
	so.Start = Position{}
	if so.Log == nil {
		so.Log = log
	}
	s, err := openStream(ctx, so)
	if err != nil {
		return stats, err
	}
	defer s.close()
	f := &fetcher{dir: opts.Dir, log: log, stats: &stats}
	defer f.closeFile()
	from := opts.From
	if from == "" {
		from = s.info.Binlogs[0]
	}
	s.file, s.off = from, 4
	resume, err := resumePoint(opts.Dir, from)
	if err != nil {
		return stats, err
	}
	switch {
	case resume.IsZero():
	case resume.Offset <= 4:
		// Not even a whole format event: fetch the file again from its start.
		if err := os.Remove(filepath.Join(opts.Dir, resume.File)); err != nil {
			return stats, err
		}
		s.file, s.off = resume.File, 4
	default:
		stats.Resumed = resume
		log.Info("continuing an earlier fetch", slog.String("pos", resume.String()))
		if err := f.open(resume); err != nil {
			return stats, err
		}
		s.file, s.off = resume.File, resume.Offset
	}
	if !slices.Contains(s.info.Binlogs, s.file) {
		return stats, fmt.Errorf("%s: %s: %w (it has %s to %s; purged, or a wrong name)", s.opts.Name, s.file, ErrSourcePurged,
			s.info.Binlogs[0], s.info.Binlogs[len(s.info.Binlogs)-1])
	}
	for {
		ev, err := s.next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			if f.w != nil {
				err = errors.Join(err, f.sync())
			}
			return stats, err
		}
		if ev.Resent {
			continue
		}
		if err := f.write(ev); err != nil {
			return stats, err
		}
	}
	if f.w != nil {
		if err := f.sync(); err != nil {
			return stats, err
		}
	}
	return stats, nil
}

type fetcher struct {
	dir   string
	log   *slog.Logger
	stats *FetchStats
	w     *os.File
	name  string
	off   int64
	inUse bool // the file's format event has the in-use flag set by us
}

// open continues the file at pos (already verified to hold whole events up to it).
func (f *fetcher) open(pos Position) error {
	path := filepath.Join(f.dir, pos.File)
	w, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := w.Truncate(pos.Offset); err != nil {
		w.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if _, err := w.Seek(pos.Offset, io.SeekStart); err != nil {
		w.Close()
		return err
	}
	var flags [1]byte
	if _, err := w.ReadAt(flags[:], 4+17); err == nil {
		f.inUse = flags[0]&flagInUse != 0
	}
	f.w, f.name, f.off = w, pos.File, pos.Offset
	f.stats.Files = append(f.stats.Files, path)
	return nil
}

func (f *fetcher) write(ev rawEvent) error {
	if ev.Pos.File != f.name {
		if err := f.closeFile(); err != nil {
			return err
		}
		if ev.Pos.Offset != 4 {
			return fmt.Errorf("%s: the server sent its first event at offset %d, not 4", ev.Pos, ev.Pos.Offset)
		}
		path := filepath.Join(f.dir, ev.Pos.File)
		w, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		f.w, f.name, f.off, f.inUse = w, ev.Pos.File, 4, false
		f.stats.Files = append(f.stats.Files, path)
		if _, err := w.Write(magic); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		f.stats.Bytes += 4
	}
	if ev.Pos.Offset != f.off {
		return fmt.Errorf("%s: the server sent an event at %d where the file has %d bytes", ev.Pos, ev.Pos.Offset, f.off)
	}
	raw := ev.Raw
	if ev.Header.Type == replication.FORMAT_DESCRIPTION_EVENT && ev.Pos.Offset == 4 {
		raw = append([]byte(nil), raw...)
		raw[17] |= flagInUse
		f.inUse = true
	}
	if _, err := f.w.Write(raw); err != nil {
		return fmt.Errorf("%s: %w", Position{File: f.name, Offset: f.off}, err)
	}
	f.off += int64(len(raw))
	f.stats.Bytes += int64(len(raw))
	f.stats.End = Position{File: f.name, Offset: f.off}
	if ev.Header.Type == replication.ROTATE_EVENT || ev.Header.Type == replication.STOP_EVENT {
		f.stats.Complete = append(f.stats.Complete, f.name)
		f.log.Info("saved binlog", slog.String("file", filepath.Join(f.dir, f.name)), slog.Int64("bytes", f.off))
		return f.finish()
	}
	return nil
}

// finish marks the file complete (clears the in-use flag, as the server does) and closes it.
func (f *fetcher) finish() error {
	if f.inUse {
		var b [1]byte
		if _, err := f.w.ReadAt(b[:], 4+17); err != nil {
			return err
		}
		b[0] &^= flagInUse
		if _, err := f.w.WriteAt(b[:], 4+17); err != nil {
			return err
		}
		f.inUse = false
	}
	return f.closeFile()
}

func (f *fetcher) sync() error {
	if f.w == nil {
		return nil
	}
	return f.w.Sync()
}

// closeFile syncs and closes the current file, leaving its in-use flag as it is.
func (f *fetcher) closeFile() error {
	if f.w == nil {
		return nil
	}
	err := f.w.Sync()
	if cerr := f.w.Close(); err == nil {
		err = cerr
	}
	f.w, f.name = nil, ""
	return err
}

// resumePoint finds the last file of from's series (from on) in dir and returns the position
// after its last whole, verified event. It returns the zero Position when there is none.
func resumePoint(dir, from string) (Position, error) {
	fromSeq, ok := fileSeq(from)
	if !ok {
		return Position{}, fmt.Errorf("--from %s: binlog file name has no numeric extension", from)
	}
	base := from[:strings.LastIndexByte(from, '.')]
	entries, err := os.ReadDir(dir)
	if err != nil {
		return Position{}, err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(n, base+".") {
			continue
		}
		if seq, ok := fileSeq(n); ok && seq >= fromSeq && len(n) == len(from) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return Position{}, nil
	}
	sort.Strings(names) // same length, zero-padded: lexical is numeric order
	last := names[len(names)-1]
	end, err := verifiedLength(filepath.Join(dir, last))
	if err != nil {
		return Position{}, err
	}
	return Position{File: last, Offset: end}, nil
}

// verifiedLength reads a saved binlog with the file reader and returns the offset after its last
// event that is whole and whose checksum matches. A file too short for its magic counts as 4.
func verifiedLength(path string) (int64, error) {
	fr, err := openFile(path)
	if err != nil {
		if errors.Is(err, ErrTruncated) {
			return 4, nil // the magic itself is rewritten
		}
		return 0, fmt.Errorf("cannot continue %s: %w", path, err)
	}
	defer fr.Close()
	good := fr.off
	for {
		at := fr.pos()
		h, raw, err := fr.next()
		if err != nil {
			return good, nil // io.EOF, or a torn or bad event: cut here
		}
		if _, err := fr.body(h, raw, at); err != nil {
			return good, nil
		}
		good = fr.off
	}
}
