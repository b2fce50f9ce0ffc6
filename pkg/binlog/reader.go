package binlog

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

const (
	headerSize = 19
	// maxEventSize bounds what a corrupt length field can make us allocate. Servers cap events at
	// max_allowed_packet, at most 1 GiB.
	maxEventSize = 1<<30 + 1<<20
	readBufSize  = 1 << 20

	flagInUse = 0x0001 // LOG_EVENT_BINLOG_IN_USE_F
)

var magic = []byte{0xfe, 0x62, 0x69, 0x6e}

// Header is the common 19-byte event header.
type Header struct {
	Timestamp uint32 // seconds since the epoch, UTC: when the statement started
	Type      replication.EventType
	ServerID  uint32
	EventSize uint32
	LogPos    uint32 // end_log_pos as written by the server (wraps at 4 GiB; informational)
	Flags     uint16
}

func parseHeader(b []byte) Header {
	return Header{
		Timestamp: binary.LittleEndian.Uint32(b[0:]),
		Type:      replication.EventType(b[4]),
		ServerID:  binary.LittleEndian.Uint32(b[5:]),
		EventSize: binary.LittleEndian.Uint32(b[9:]),
		LogPos:    binary.LittleEndian.Uint32(b[13:]),
		Flags:     binary.LittleEndian.Uint16(b[17:]),
	}
}

// format is what the latest Format_description event says about the events after it.
type format struct {
	serverVersion string
	mariaDB       bool
	checksum      bool   // events end with a CRC32
	fdeChecksum   bool   // the format event itself ends with a CRC32 (even when the events after it do not)
	postHeader    []byte // post-header length per event type (index type-1)
	fde           *replication.FormatDescriptionEvent
}

func (f *format) postHeaderLen(t replication.EventType) int {
	if i := int(t) - 1; f != nil && i >= 0 && i < len(f.postHeader) {
		return int(f.postHeader[i])
	}
	return -1
}

// fileReader frames the events of one binlog file. It reads through a large buffer with large
// reads and hands out events that alias it, so events are never copied. Under a Prefetcher
// (chunks set) a buffer is never overwritten once events of it were handed out: the reader moves
// on to a fresh buffer and hands the old one back through the pool when the consumer is done
// with its events.
type fileReader struct {
	path string
	name string
	f    *os.File
	in   io.Reader // f, or the decompressor of an archive
	buf  []byte    // unread bytes are buf[r:w]
	r, w int
	rerr error      // what the last read of in said (io.EOF at the end), sticky
	size int        // size of a buffer: readBufSize, less for a small file
	pool *chunkPool // set under a Prefetcher
	// Under a Prefetcher a regular file is read at explicit offsets (rdOff: of buf[w]), and the
	// next buffer is read on a goroutine of its own while this one's events are framed.
	pread bool
	rdOff int64
	ahead *readAhead
	// mapped: under a Prefetcher a regular file is not read at all but mapped, a window at a
	// time, and events alias the page cache: the read(2) copy was two fifths of a filtered
	// replay's CPU. The pool unmaps a window once no event points into it.
	mapped bool
	fsize  int64 // the file's size when last looked at
	off    int64
	fmt    *format

	warnedCRC bool // the warning that the file has no checksums was given
	// relay: a second format event (a relay log's copy of the source's) was read; the events
	// after it carry the source server's positions, not this file's.
	relay bool

	stream bool      // read once, forward only (a pipe, stdin, a compressed archive)
	unzip  io.Closer // the decompressor of a compressed archive
}

func openFile(path string) (*fileReader, error) { return openFileWith(path, nil) }

// openFileWith opens path reading into buffers of pool (nil: buffers of its own).
func openFileWith(path string, pool *chunkPool) (*fileReader, error) {
	f, err := openInput(path)
	if err != nil {
		return nil, err
	}
	fr := &fileReader{path: path, name: inputName(path), f: f, pool: pool}
	var in io.Reader = f
	bufSize := readBufSize
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() < int64(bufSize) && compression(path) == "" {
		bufSize = max(int(st.Size()), 4096) // small files need no megabyte buffer
	} else if err != nil || !st.Mode().IsRegular() {
		fr.stream = true // a pipe, a terminal, /dev/stdin: read once, forward only
	}
	switch compression(path) {
	case ".gz":
		zr, err := gzip.NewReader(bufio.NewReaderSize(f, 64<<10))
		if err != nil {
			f.Close()
			return nil, &PosError{Pos: Position{File: fr.name}, Path: path, Err: fmt.Errorf("%w: not a gzip file (%v)", ErrNotBinlog, err)}
		}
		in, fr.unzip, fr.stream = zr, zr, true
	case ".zst":
		zr, err := zstd.NewReader(bufio.NewReaderSize(f, 64<<10))
		if err != nil {
			f.Close()
			return nil, &PosError{Pos: Position{File: fr.name}, Path: path, Err: err}
		}
		in, fr.unzip, fr.stream = zr, zr.IOReadCloser(), true
	}
	fr.in, fr.size = in, bufSize
	if pool != nil {
		fr.size = pool.size
		fr.pread = !fr.stream && fr.unzip == nil
		fr.mapped = fr.pread && canMap
	}
	err = fr.fill(4)
	m := fr.buf[fr.r:fr.w]
	if len(m) >= 4 {
		m, err = m[:4], nil
	}
	n := len(m)
	if err != nil || !bytes.Equal(m, magic) {
		partial := n < 4 && n > 0 && bytes.HasPrefix(magic, m) // before Close: m may be unmapped by it
		fr.Close()
		if partial {
			return nil, &PosError{Pos: Position{File: fr.name}, Path: path, Err: ErrTruncated}
		}
		if err != nil && n == 0 && !errors.Is(err, io.EOF) {
			return nil, &PosError{Pos: Position{File: fr.name}, Path: path, Err: fmt.Errorf("%w: %v", ErrCorrupt, err)}
		}
		return nil, &PosError{Pos: Position{File: fr.name}, Path: path, Err: ErrNotBinlog}
	}
	fr.r += 4
	fr.off = 4
	return fr, nil
}

// fill makes at least n unread bytes available in buf[r:w], reading as much as the buffer
// holds at a time. It returns nil when they are there, else what the input said (io.EOF at its
// end, with fewer bytes available).
func (fr *fileReader) fill(n int) error {
	if fr.w-fr.r >= n {
		return nil
	}
	if fr.mapped {
		if err := fr.mapWindow(n); err != errNoMap {
			return err
		}
	}
	if fr.r+n > len(fr.buf) {
		fr.move(n)
	}
	for fr.w-fr.r < n && fr.rerr == nil {
		k, err := fr.read(fr.buf[fr.w:])
		fr.w += k
		if err != nil {
			fr.rerr = err
		} else if k == 0 {
			fr.rerr = io.ErrNoProgress
		}
	}
	fr.startAhead()
	if fr.w-fr.r >= n {
		return nil
	}
	return fr.rerr
}

// errNoMap: the file could not be mapped; it is read from then on.
var errNoMap = errors.New("not mapped")

// mapWindow maps the file from the page that holds the first unread byte: at least n bytes,
// fewer at the file's end (then io.EOF, as a read would say), as fill does.
func (fr *fileReader) mapWindow(n int) error {
	if fr.rerr != nil {
		return fr.rerr
	}
	pos := fr.rdOff - int64(fr.w-fr.r) // the file offset of buf[r]
	if pos+int64(n) > fr.fsize {
		st, err := fr.f.Stat()
		if err != nil {
			fr.rerr = err
			return err
		}
		fr.fsize = st.Size() // a server may be appending to it
	}
	start := pos &^ (pageSize - 1)
	size := min(max(int64(fr.size), pos+int64(n)-start), fr.fsize-start)
	if size <= pos-start {
		fr.rerr = io.EOF // nothing after buf[r:w], which is then empty
		return io.EOF
	}
	m, err := mapFile(fr.f, start, size)
	if err != nil {
		fr.mapped = false
		return errNoMap
	}
	fr.pool.addMap(m)
	if fr.buf != nil {
		fr.pool.retire(fr.buf)
	}
	fr.buf, fr.r, fr.w, fr.rdOff = m, int(pos-start), len(m), start+size
	if fr.w-fr.r < n {
		fr.rerr = io.EOF
		return io.EOF
	}
	return nil
}

// read reads the input after buf[w].
func (fr *fileReader) read(p []byte) (int, error) {
	if !fr.pread {
		return fr.in.Read(p)
	}
	k, err := fr.f.ReadAt(p, fr.rdOff)
	fr.rdOff += int64(k)
	if k > 0 && err == io.EOF {
		err = nil // as Read says it: the next call reads nothing
	}
	return k, err
}

// readAhead is the next buffer of a file, being read on a goroutine: the read(2) of a megabyte
// (the kernel copying it from the page cache) overlaps the framing and checking of the last.
type readAhead struct {
	buf  []byte // read into buf[aheadRoom:]
	off  int64  // the file offset of buf[aheadRoom]
	n    int
	err  error
	done chan struct{}
}

// aheadRoom is left free at the start of a buffer read ahead, for the unread end of the one
// before (usually the start of an event that straddles them).
const aheadRoom = 64 << 10

// startAhead reads the buffer after the current one on a goroutine.
func (fr *fileReader) startAhead() {
	if !fr.pread || fr.mapped || fr.ahead != nil || fr.rerr != nil || fr.size <= 2*aheadRoom {
		return
	}
	a := &readAhead{buf: fr.pool.get(fr.size), off: fr.rdOff, done: make(chan struct{})}
	fr.ahead = a
	go func() {
		a.n, a.err = fr.f.ReadAt(a.buf[aheadRoom:], a.off)
		close(a.done)
	}()
}

// takeAhead waits for the buffer read ahead; nil if none.
func (fr *fileReader) takeAhead() *readAhead {
	a := fr.ahead
	if a != nil {
		<-a.done
		fr.ahead = nil
	}
	return a
}

// move puts the unread bytes at the start of a buffer that holds at least n bytes: the same one
// when no event handed out can point into it, else a fresh one.
func (fr *fileReader) move(n int) {
	if a := fr.takeAhead(); a != nil {
		tail := fr.w - fr.r
		if a.off == fr.rdOff && tail <= aheadRoom && n <= tail+a.n && (a.n > 0 || a.err != nil) {
			// The next bytes are there already: put the unread ones before them.
			copy(a.buf[aheadRoom-tail:], fr.buf[fr.r:fr.w])
			if fr.buf != nil {
				fr.pool.retire(fr.buf)
			}
			fr.buf, fr.r, fr.w = a.buf, aheadRoom-tail, aheadRoom+a.n
			fr.rdOff += int64(a.n)
			if a.err != nil && a.err != io.EOF {
				fr.rerr = a.err
			} else if a.n == 0 {
				fr.rerr = io.EOF
			}
			return
		}
		fr.pool.put(a.buf) // not what is needed: read again below
	}
	size := max(fr.size, n)
	var nb []byte
	switch {
	case fr.pool != nil:
		nb = fr.pool.get(size)
	case size > len(fr.buf):
		nb = make([]byte, size)
	default:
		nb = fr.buf
	}
	k := copy(nb, fr.buf[fr.r:fr.w])
	if fr.pool != nil && fr.buf != nil {
		// After the copy: a retired window of a mapped file may be unmapped at once.
		fr.pool.retire(fr.buf)
	}
	fr.buf, fr.r, fr.w = nb, 0, k
}

// peekAhead returns the unread bytes k to k+n without consuming them, reading more if needed
// (without overwriting bytes of events handed out). Fewer bytes come back at the end of the input.
func (fr *fileReader) peekAhead(k, n int) ([]byte, error) {
	if fr.w-fr.r < k+n && fr.r+k+n > len(fr.buf) && fr.pool == nil {
		// The event last handed out must stay where it is while its caller looks ahead.
		nb := make([]byte, max(fr.size, k+n))
		c := copy(nb, fr.buf[fr.r:fr.w])
		fr.buf, fr.r, fr.w = nb, 0, c
	}
	err := fr.fill(k + n)
	end := min(fr.r+k+n, fr.w)
	if fr.r+k > end {
		return nil, err
	}
	return fr.buf[fr.r+k : end], err
}

// openInput opens a binlog path; "-" is stdin.
func openInput(path string) (*os.File, error) {
	if path == "-" {
		return os.Stdin, nil
	}
	return os.Open(path)
}

// compression returns ".gz" or ".zst" for a compressed binlog archive, "" otherwise.
func compression(path string) string {
	for _, ext := range []string{".gz", ".zst"} {
		if strings.HasSuffix(path, ext) {
			return ext
		}
	}
	return ""
}

// FileName is the binlog file name of a path, for positions: its base name without a
// compression suffix (mysql-bin.000042.gz holds mysql-bin.000042); "stdin" for "-".
func FileName(path string) string { return inputName(path) }

func inputName(path string) string {
	if path == "-" {
		return "stdin"
	}
	return strings.TrimSuffix(filepath.Base(path), compression(path))
}

// IsStream reports whether path can only be read once, forward: stdin, a pipe, a compressed
// archive. Such input has no transaction lookahead (as a server stream has none).
func IsStream(path string) bool {
	if path == "-" || compression(path) != "" {
		return true
	}
	st, err := os.Stat(path)
	return err == nil && !st.Mode().IsRegular()
}

func (fr *fileReader) Close() error {
	if a := fr.takeAhead(); a != nil {
		fr.pool.put(a.buf)
	}
	if fr.pool != nil && fr.buf != nil {
		fr.pool.retire(fr.buf) // events of it may still be on their way
		fr.buf, fr.r, fr.w = nil, 0, 0
	}
	if fr.unzip != nil {
		fr.unzip.Close()
	}
	if fr.f == os.Stdin {
		return nil
	}
	return fr.f.Close()
}

func (fr *fileReader) pos() Position { return Position{File: fr.name, Offset: fr.off} }

// next returns the next event's header and its bytes (header included, checksum included). The
// bytes are valid until the following call. It returns io.EOF at a clean end of file.
func (fr *fileReader) next() (Header, []byte, error) {
	if err := fr.fill(headerSize); err != nil {
		hb := fr.buf[fr.r:fr.w]
		if len(hb) == 0 && errors.Is(err, io.EOF) {
			return Header{}, nil, io.EOF
		}
		if errors.Is(err, io.EOF) {
			// go-mysql reports this as a clean end of file; it is a crashed server's half-written event.
			return Header{}, nil, &PosError{Pos: fr.pos(), Err: fmt.Errorf("%w: %d of %d header bytes", ErrTruncated, len(hb), headerSize)}
		}
		return Header{}, nil, &PosError{Pos: fr.pos(), Err: err}
	}
	h := parseHeader(fr.buf[fr.r:])
	if err := fr.checkSize(h); err != nil {
		return h, nil, err
	}
	size := int(h.EventSize)
	if size > len(fr.buf)-fr.r && size > fr.size {
		if avail := fr.available(); int64(size) > avail {
			// Do not allocate up to a gigabyte for a length the file cannot hold.
			return h, nil, &PosError{Pos: fr.pos(), Err: fmt.Errorf("%w: %s event of %d bytes, %d present",
				ErrTruncated, h.Type, size, avail)}
		}
	}
	if err := fr.fill(size); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return h, nil, &PosError{Pos: fr.pos(), Err: fmt.Errorf("%w: %s event of %d bytes, %d present",
				ErrTruncated, h.Type, size, fr.w-fr.r)}
		}
		return h, nil, &PosError{Pos: fr.pos(), Err: err}
	}
	raw := fr.buf[fr.r : fr.r+size : fr.r+size]
	if h.Type == replication.FORMAT_DESCRIPTION_EVENT && fr.off != 4 {
		fr.relay = true
	}
	if err := checkEnd(fr.fmt, fr.relay, h, Position{File: fr.name, Offset: fr.off}); err != nil {
		return h, nil, err
	}
	fr.r += size
	fr.off += int64(size)
	return h, raw, nil
}

// checkSize refuses an event length no event can have.
func (fr *fileReader) checkSize(h Header) error {
	if h.EventSize < headerSize || h.EventSize > maxEventSize {
		return &PosError{Pos: fr.pos(), Err: fmt.Errorf("%w: event size %d", ErrCorrupt, h.EventSize)}
	}
	return nil
}

// checkEnd compares the end position in the header of the event at "at" with where it ends.
// A server writes each event's end position into its header (log_pos). In a file without
// checksums a mismatch is the only sign of a flipped length or position byte (with them, the
// checksum names it). Zero is what artificial events carry; a relay log's events after its
// second format event carry the source server's positions.
func checkEnd(f *format, relay bool, h Header, at Position) error {
	if end := uint32(at.Offset + int64(h.EventSize)); f != nil && !f.checksum && !relay && h.LogPos != 0 && h.LogPos != end {
		return &PosError{Pos: at, Err: fmt.Errorf("%w: %s event of %d bytes ends at %d, its header says %d",
			ErrCorrupt, h.Type, h.EventSize, end, h.LogPos)}
	}
	return nil
}

func (fr *fileReader) available() int64 {
	if fr.stream {
		return maxEventSize // unknown until read
	}
	st, err := fr.f.Stat()
	if err != nil {
		return 0
	}
	return st.Size() - fr.off
}

// body checks the checksum of a framed event and returns its body without header and checksum.
func (fr *fileReader) body(h Header, raw []byte, at Position) ([]byte, error) {
	return checkEvent(&fr.fmt, h, raw, at)
}

// checkEvent checks the checksum of a framed event (header, body and checksum, as in a file or
// a replication stream) under the format *cur, and returns its body without header and
// checksum. A Format_description event replaces *cur. File and stream input share it, so both
// verify and frame events identically.
func checkEvent(cur **format, h Header, raw []byte, at Position) ([]byte, error) {
	if h.Type == replication.FORMAT_DESCRIPTION_EVENT {
		f, err := parseFormat(raw)
		if err != nil {
			return nil, &PosError{Pos: at, Err: err}
		}
		if f.checksum || f.fdeChecksum {
			if err := verifyCRC(raw, true); err != nil {
				return nil, &PosError{Pos: at, Err: err}
			}
		}
		*cur = f
		return raw[headerSize:], nil
	}
	if *cur == nil {
		return nil, &PosError{Pos: at, Err: fmt.Errorf("%w: %s event before any format description event", ErrCorrupt, h.Type)}
	}
	if !(*cur).checksum {
		return raw[headerSize:], nil
	}
	if len(raw) < headerSize+4 {
		return nil, &PosError{Pos: at, Err: fmt.Errorf("%w: %s event too short for its checksum", ErrCorrupt, h.Type)}
	}
	if err := verifyCRC(raw, false); err != nil {
		return nil, &PosError{Pos: at, Err: err}
	}
	return raw[headerSize : len(raw)-4], nil
}

// verifyCRC checks the trailing CRC32 of raw. The server computes the Format_description
// checksum with LOG_EVENT_BINLOG_IN_USE_F cleared and sets that flag afterwards in place, so the
// active log of a running server (the file an incident needs) carries it set.
func verifyCRC(raw []byte, clearInUse bool) error {
	n := len(raw) - 4
	want := binary.LittleEndian.Uint32(raw[n:])
	var got uint32
	if clearInUse && raw[17]&flagInUse != 0 {
		got = crc32.Update(0, crc32.IEEETable, raw[:17])
		got = crc32.Update(got, crc32.IEEETable, []byte{raw[17] &^ flagInUse})
		got = crc32.Update(got, crc32.IEEETable, raw[18:n])
	} else {
		got = crc32.ChecksumIEEE(raw[:n])
	}
	if got != want {
		return fmt.Errorf("%w: stored %08x, computed %08x", ErrChecksum, want, got)
	}
	return nil
}

// parseFormat decodes a Format_description event (binlog v4, MySQL 5.0+ and MariaDB).
func parseFormat(raw []byte) (*format, error) {
	body := raw[headerSize:]
	// 2 version + 50 server version + 4 create time + 1 header length, then post-header lengths.
	if len(body) < 57 {
		return nil, fmt.Errorf("%w: format description event of %d bytes", ErrCorrupt, len(raw))
	}
	if v := binary.LittleEndian.Uint16(body); v != 4 {
		return nil, fmt.Errorf("%w: binlog format version %d (only version 4, MySQL 5.0 and later, is supported)", ErrUnsupported, v)
	}
	if body[56] != headerSize {
		return nil, fmt.Errorf("%w: event header length %d", ErrCorrupt, body[56])
	}
	sv := body[2:52]
	if i := bytes.IndexByte(sv, 0); i >= 0 {
		sv = sv[:i]
	}
	f := &format{serverVersion: string(sv)}
	f.mariaDB = strings.Contains(strings.ToLower(f.serverVersion), "mariadb")
	if versionNumber(f.serverVersion) < 50000 {
		// Only 5.0 and later write binlog version 4. A damaged version string would otherwise
		// decide, unverified, that the events carry no checksum.
		return nil, fmt.Errorf("%w: format description event names server version %q", ErrCorrupt, f.serverVersion)
	}
	post := body[57:]
	if hasChecksumField(f.serverVersion, f.mariaDB) {
		if len(post) < 5 {
			return nil, fmt.Errorf("%w: format description event lacks its checksum field", ErrCorrupt)
		}
		alg := post[len(post)-5]
		switch alg {
		case 0:
			// A checksum-aware server checksums its format event even when binlog_checksum=NONE;
			// a zero value means it did not (log_event.cc: "(A) == 0, (V) != 0 means it's the
			// checksum-aware server's FD event that heads checksum-free binlog file").
			f.fdeChecksum = binary.LittleEndian.Uint32(raw[len(raw)-4:]) != 0
		case 1:
			f.checksum = true
		default:
			return nil, fmt.Errorf("%w: checksum algorithm %d", ErrUnsupported, alg)
		}
		post = post[:len(post)-5]
	}
	f.postHeader = append([]byte(nil), post...)
	// Events are read by type code. Every release gives XID a 0-byte and Table_map a 6- or 8-byte
	// post-header; a format that does not numbers its events differently (5.1/5.2 development
	// trees did) and would be misread.
	if xid, tm := f.postHeaderLen(replication.XID_EVENT), f.postHeaderLen(replication.TABLE_MAP_EVENT); xid > 0 || tm >= 0 && tm != 6 && tm != 8 {
		return nil, fmt.Errorf("%w: server %s numbers its events unlike any MySQL or MariaDB release (post-header lengths: XID %d, Table_map %d)",
			ErrUnsupported, f.serverVersion, xid, tm)
	}
	fde := &replication.FormatDescriptionEvent{Version: 4, ServerVersion: f.serverVersion, EventHeaderLength: headerSize,
		EventTypeHeaderLengths: f.postHeader}
	if f.checksum {
		fde.ChecksumAlgorithm = replication.BINLOG_CHECKSUM_ALG_CRC32
	}
	f.fde = fde
	return f, nil
}

// hasChecksumField reports whether the server wrote the checksum-algorithm byte into its format
// description event: MySQL from 5.6.1, MariaDB from 5.3.
func hasChecksumField(version string, mariaDB bool) bool {
	v := versionNumber(version)
	if mariaDB {
		return v >= 50300
	}
	return v >= 50601
}

func versionNumber(s string) int {
	parts := strings.SplitN(s, ".", 3)
	n := 0
	for i := 0; i < 3; i++ {
		d := 0
		if i < len(parts) {
			p := parts[i]
			j := 0
			for j < len(p) && p[j] >= '0' && p[j] <= '9' {
				j++
			}
			d, _ = strconv.Atoi(p[:j])
		}
		n = n*100 + d
	}
	return n
}
