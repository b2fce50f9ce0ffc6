package binlog

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/go-mysql-org/go-mysql/replication"
)

// synthBinlog writes a binlog of about size bytes made from the events of a fixture file: its
// header events, then either its transactions over and over (oltp: many small events) or one
// transaction whose rows event repeats (bulk: one long transaction, as a bulk load writes).
// Events are copied whole, so their checksums stay right.
func synthBinlog(tb testing.TB, shape string, size int) string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(dmlDir, "mysql-bin.000002"))
	if err != nil {
		tb.Fatal(err)
	}
	var events [][]byte
	for off := 4; off+headerSize <= len(data); {
		n := int(binary.LittleEndian.Uint32(data[off+9:]))
		events = append(events, data[off:off+n])
		off += n
	}
	first, last := -1, -1
	for i, ev := range events {
		switch replication.EventType(ev[4]) {
		case replication.MARIADB_GTID_EVENT, replication.GTID_EVENT:
			if first < 0 {
				first = i
			}
		case replication.XID_EVENT:
			last = i
		}
	}
	if first < 0 || last < first {
		tb.Fatal("fixture without a transaction")
	}
	out := append([]byte(nil), data[:4]...)
	for _, ev := range events[:first] {
		out = append(out, ev...)
	}
	switch shape {
	case "oltp":
		for len(out) < size {
			for _, ev := range events[first : last+1] {
				out = append(out, ev...)
			}
		}
	case "bulk":
		// The first transaction up to its first rows event, that event again and again, its XID.
		var rows []byte
		i := first
		for ; rows == nil; i++ {
			ev := events[i]
			switch replication.EventType(ev[4]) {
			case replication.WRITE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv1, replication.DELETE_ROWS_EVENTv1,
				replication.WRITE_ROWS_EVENTv2, replication.UPDATE_ROWS_EVENTv2, replication.DELETE_ROWS_EVENTv2:
				rows = ev
				continue
			}
			out = append(out, ev...)
		}
		for len(out) < size {
			out = append(out, rows...)
		}
		for ; replication.EventType(events[i][4]) != replication.XID_EVENT; i++ {
		}
		out = append(out, events[i]...)
	}
	p := filepath.Join(tb.TempDir(), "mysql-bin.000001")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// benchRead reads path to its end b.N times with read, reporting bytes per second of binlog.
func benchRead(b *testing.B, path string, read func(*FileSource) error) {
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		src, err := OpenFiles([]string{path}, FileOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := read(src); err != nil {
			b.Fatal(err)
		}
	}
}

func drain(src Source, peek func() (TxnEnd, error)) error {
	defer src.Close()
	for {
		ev, err := src.Next(context.Background())
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if peek != nil && (ev.Kind == KindGTID || ev.Kind == KindRows) {
			if _, err := peek(); err != nil {
				return err
			}
		}
	}
}

// BenchmarkRead measures the read path of a replay (framing, checksums, decoding what a replay
// needs, the transaction lookahead) on 32 MiB binlogs of small transactions (oltp) and of one
// long one (bulk): plain, through the Prefetcher as replay uses it, and through the Prefetcher
// with every table dropped, as a filtered replay reads the tables it leaves out. make bench
// measures the whole command against mariadb-binlog.
func BenchmarkRead(b *testing.B) {
	for _, shape := range []string{"oltp", "bulk"} {
		path := synthBinlog(b, shape, 32<<20)
		b.Run(shape+"/source", func(b *testing.B) {
			benchRead(b, path, func(s *FileSource) error {
				return drain(s, func() (TxnEnd, error) { return s.PeekTxnEnd(context.Background()) })
			})
		})
		b.Run(shape+"/prefetch", func(b *testing.B) {
			benchRead(b, path, func(s *FileSource) error {
				p := StartPrefetch(s, PrefetchOptions{Depth: 4})
				return drain(p, func() (TxnEnd, error) { return p.PeekTxnEnd(context.Background()) })
			})
		})
		b.Run(shape+"/prefetch-drop", func(b *testing.B) {
			benchRead(b, path, func(s *FileSource) error {
				p := StartPrefetch(s, PrefetchOptions{Depth: 4, Drop: func(*TableMap) bool { return true }})
				return drain(p, func() (TxnEnd, error) { return p.PeekTxnEnd(context.Background()) })
			})
		})
	}
}

// BenchmarkCRC32 is the checksum every event gets: hash/crc32's IEEE table uses the CPU's
// carry-less multiply (PCLMULQDQ on amd64, PMULL on arm64) for all but the last bytes.
func BenchmarkCRC32(b *testing.B) {
	for _, n := range []int{64, 1 << 10, 8 << 10} {
		buf := make([]byte, n)
		b.Run(fmtSize(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			var sum uint32
			for i := 0; i < b.N; i++ {
				buf[0] = byte(i) // a different input each time
				sum += crc32.ChecksumIEEE(buf)
			}
			crcSink = sum
		})
	}
}

var crcSink uint32

func fmtSize(n int) string {
	if n >= 1<<10 {
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}
