package binlog

import (
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/klauspost/compress/zstd"
)

// xidEvent is an inner event as a payload holds it: header and body, no checksum.
func xidEvent(xid uint64) []byte {
	b := make([]byte, headerSize+8)
	b[4] = byte(replication.XID_EVENT)
	binary.LittleEndian.PutUint32(b[9:], uint32(len(b)))
	binary.LittleEndian.PutUint64(b[headerSize:], xid)
	return b
}

func payloadBody(compression byte, data []byte) []byte {
	// Fields: type, length, little-endian value; then the end mark and the events.
	b := []byte{payloadCompressionType, 1, compression, payloadSizeField, 2, byte(len(data)), byte(len(data) >> 8), payloadEndMark}
	return append(b, data...)
}

func TestPayloadReader(t *testing.T) {
	events := append(xidEvent(7), xidEvent(8)...)
	enc, _ := zstd.NewWriter(nil)
	compressed := enc.EncodeAll(events, nil)
	cases := []struct {
		name string
		body []byte
		want []uint64 // XIDs read, then io.EOF
		err  error
	}{
		{"none", payloadBody(compressionNone, events), []uint64{7, 8}, nil},
		{"zstd", payloadBody(compressionZstd, compressed), []uint64{7, 8}, nil},
		{"unknown compression", payloadBody(9, events), nil, ErrUnsupported},
		{"header cut", []byte{payloadCompressionType, 1}, nil, ErrCorrupt},
		{"field too long", []byte{payloadSizeField, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0}, nil, ErrCorrupt},
		{"inner event cut", payloadBody(compressionNone, events[:len(events)-3]), []uint64{7}, ErrCorrupt},
		{"inner header cut", payloadBody(compressionNone, append(xidEvent(7), 1, 2, 3)), []uint64{7}, ErrCorrupt},
		{"zstd garbage", payloadBody(compressionZstd, []byte("not zstd at all")), nil, ErrCorrupt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p payloadReader
			err := p.open(tc.body, Position{}, 0)
			var got []uint64
			for err == nil {
				var raw []byte
				_, raw, err = p.next()
				if err == nil {
					got = append(got, binary.LittleEndian.Uint64(raw[headerSize:]))
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("read XIDs %v, want %v", got, tc.want)
			}
			if tc.err == nil && err != io.EOF || tc.err != nil && !errors.Is(err, tc.err) {
				t.Errorf("ended with %v, want %v", err, tc.err)
			}
		})
	}
}
