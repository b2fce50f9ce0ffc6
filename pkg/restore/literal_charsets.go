package restore

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/pitr-tool/pitr/pkg/binlog"
	"github.com/pitr-tool/pitr/pkg/binlog/collation"
)

// Regenerate the tables with `make charsets`.

// charsetInfo is what the server's conversions prove about a character set (charsets_gen.go,
// made by internal/charsetgen from a real server).
type charsetInfo struct {
	name           string
	minLen, maxLen int
	ascii          [2]uint64  // bytes below 0x80 that are the same ASCII character both ways
	multi          bool       // charsets_mb.bin.gz holds its characters of more than one byte
	single         *[256]rune // single-byte charsets: each byte's character, -1 where it does not round-trip
}

// isUTF8 reports whether quoted text is carried to the charset by a utf8mb4 connection unconverted.
func (c *charsetInfo) isUTF8() bool { return c != nil && (c.name == "utf8mb4" || c.name == "utf8mb3") }

// literalCharset returns what is known of a column's character set: the name the table map or
// the schema gave (by the flavor of the binlog's server), or else its collation id's, which
// MySQL and MariaDB agree on for every id both use. nil if unknown.
func literalCharset(c *binlog.Column) *charsetInfo {
	name := c.Charset
	if name == "" && c.Collation != 0 && c.Collation <= math.MaxInt32 {
		for _, f := range []collation.Flavor{collation.MariaDB, collation.MySQL} {
			if co, ok := collation.ByID(f, int(c.Collation)); ok {
				name = co.Charset
				break
			}
		}
	}
	return charsetByName(name)
}

func charsetByName(name string) *charsetInfo {
	if name == "" {
		return nil
	}
	i, ok := sort.Find(len(charsetTable), func(i int) int { return strings.Compare(name, charsetTable[i].name) })
	if !ok {
		return nil
	}
	return &charsetTable[i]
}

//go:embed charsets_mb.bin.gz
var multiData []byte

var multiTables struct {
	sync.Mutex
	m map[string]map[uint32]rune
}

// multiTable returns the characters of more than one byte (and the single bytes above 0x7F) of a
// multi-byte charset, keyed by code length<<24 | code, read from the embedded table on first use.
func multiTable(name string) map[uint32]rune {
	multiTables.Lock()
	defer multiTables.Unlock()
	if t, ok := multiTables.m[name]; ok {
		return t
	}
	t, err := readMultiTable(name)
	if err != nil {
		// The table is built into the binary; it cannot be unreadable unless the build is broken.
		panic(fmt.Sprintf("charsets_mb.bin.gz: %v", err))
	}
	if multiTables.m == nil {
		multiTables.m = map[string]map[uint32]rune{}
	}
	multiTables.m[name] = t
	return t
}

func readMultiTable(name string) (map[uint32]rune, error) {
	zr, err := gzip.NewReader(bytes.NewReader(multiData))
	if err != nil {
		return nil, err
	}
	r := bufio.NewReader(zr)
	for {
		n, err := r.ReadByte()
		if err == io.EOF {
			return map[uint32]rune{}, nil
		}
		if err != nil {
			return nil, err
		}
		nb := make([]byte, n)
		if _, err := io.ReadFull(r, nb); err != nil {
			return nil, err
		}
		count, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, err
		}
		var t map[uint32]rune
		if string(nb) == name {
			t = make(map[uint32]rune, count)
		}
		var code uint32
		var ru rune
		ln := byte(0)
		for range count {
			l, err := r.ReadByte()
			if err != nil {
				return nil, err
			}
			if l != ln {
				code, ln = 0, l
			}
			dc, err := binary.ReadUvarint(r)
			if err != nil {
				return nil, err
			}
			dr, err := binary.ReadVarint(r)
			if err != nil {
				return nil, err
			}
			code += uint32(dc)
			ru += rune(dr)
			if t != nil {
				t[uint32(l)<<24|code] = ru
			}
		}
		if t != nil {
			return t, nil
		}
	}
}
