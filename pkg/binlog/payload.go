package binlog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// A Transaction_payload event (MySQL 8.0.20+ with binlog_transaction_compression=ON) holds a
// whole transaction's events, compressed, without checksums. payloadReader hands them out one
// at a time from a streaming decompressor, so a big transaction is never held decompressed.
type payloadReader struct {
	zr  *zstd.Decoder
	r   *bufio.Reader
	at  Position // the payload event: inner events have no position of their own
	end int64    // where it ends, which is where a replay that applied them resumes
}

const (
	payloadEndMark         = 0
	payloadSizeField       = 1
	payloadCompressionType = 2
	payloadUncompressed    = 3

	compressionZstd = 0
	compressionNone = 255
)

// open starts reading the events of the Transaction_payload event at `at`, ending at end.
func (p *payloadReader) open(body []byte, at Position, end int64) error {
	p.at, p.end = at, end
	var compression uint64 = compressionNone
	i := 0
	for {
		if i >= len(body) {
			return fmt.Errorf("%w: transaction payload header runs past the event", ErrCorrupt)
		}
		field := body[i]
		i++
		if field == payloadEndMark {
			break
		}
		if i >= len(body) {
			return fmt.Errorf("%w: transaction payload header runs past the event", ErrCorrupt)
		}
		n := int(body[i])
		i++
		if n > 8 || i+n > len(body) {
			return fmt.Errorf("%w: transaction payload field of %d bytes", ErrCorrupt, n)
		}
		var v uint64
		for k := n - 1; k >= 0; k-- {
			v = v<<8 | uint64(body[i+k])
		}
		if field == payloadCompressionType {
			compression = v
		}
		i += n
	}
	data := body[i:]
	switch compression {
	case compressionNone:
		p.r = bufio.NewReader(bytes.NewReader(data))
	case compressionZstd:
		var err error
		if p.zr == nil {
			p.zr, err = zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
				zstd.WithDecoderMaxMemory(maxEventSize))
		} else {
			err = p.zr.Reset(bytes.NewReader(data))
		}
		if err != nil {
			return fmt.Errorf("%w: transaction payload: %v", ErrCorrupt, err)
		}
		p.r = bufio.NewReaderSize(p.zr, 64<<10)
	default:
		return fmt.Errorf("%w: transaction payload compressed with algorithm %d", ErrUnsupported, compression)
	}
	return nil
}

// next returns the next inner event (header and body; inner events carry no checksum), or
// io.EOF after the last. The bytes are the caller's to keep.
func (p *payloadReader) next() (Header, []byte, error) {
	var hb [headerSize]byte
	n, err := io.ReadFull(p.r, hb[:])
	if n == 0 && errors.Is(err, io.EOF) {
		p.r = nil
		return Header{}, nil, io.EOF
	}
	if err != nil {
		return Header{}, nil, fmt.Errorf("%w: transaction payload: event header: %v", ErrCorrupt, err)
	}
	h := parseHeader(hb[:])
	if h.EventSize < headerSize || h.EventSize > maxEventSize {
		return h, nil, fmt.Errorf("%w: transaction payload: event size %d", ErrCorrupt, h.EventSize)
	}
	raw := make([]byte, h.EventSize)
	copy(raw, hb[:])
	if _, err := io.ReadFull(p.r, raw[headerSize:]); err != nil {
		return h, nil, fmt.Errorf("%w: transaction payload: %s event cut short: %v", ErrCorrupt, h.Type, err)
	}
	return h, raw, nil
}

func (p *payloadReader) active() bool { return p.r != nil }

// decodeNext decodes the next inner event into ev; false after the last.
func (p *payloadReader) decodeNext(dec *decoder, f *format, ev *Event) (bool, error) {
	h, raw, err := p.next()
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, &PosError{Pos: p.at, Err: err}
	}
	*ev = Event{Pos: p.at, End: p.end, Header: h, Body: raw[headerSize:]}
	dec.inner = true
	err = dec.decode(ev, raw, f)
	dec.inner = false
	if err != nil {
		return false, &PosError{Pos: p.at, Err: fmt.Errorf("in transaction payload: %w", err)}
	}
	return true, nil
}
