package restore

import (
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/pingcap/tidb/pkg/parser/charset"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

const hexDigits = "0123456789ABCDEF"

// appendLiteral writes v as an SQL literal that stores exactly the same bytes when assigned to
// column c, under the session the output header sets (utf8mb4 connection, time_zone +00:00,
// backslash escapes on). where selects the comparison form for a WHERE clause.
func appendLiteral(dst []byte, c *binlog.Column, v *binlog.Value, where bool) []byte {
	switch v.Kind {
	case binlog.ValNull:
		return append(dst, "NULL"...)
	case binlog.ValInt, binlog.ValDecimal, binlog.ValYear:
		return append(dst, v.Text...)
	case binlog.ValFloat:
		if where {
			// A literal without exponent is DECIMAL; FLOAT columns compare as double, so give the
			// float's exact double value in E notation.
			return strconv.AppendFloat(dst, math.Float64frombits(v.Uint), 'e', -1, 64)
		}
		return append(dst, v.Text...)
	case binlog.ValTemporal:
		dst = append(dst, '\'')
		dst = append(dst, v.Text...)
		return append(dst, '\'')
	case binlog.ValString:
		if where {
			// Compare bytes, not collation weights: 'a' = 'A ' under most collations.
			dst = append(dst, "CAST("...)
			dst = appendString(dst, c.Collation, v.Text)
			return append(dst, " AS BINARY)"...)
		}
		return appendString(dst, c.Collation, v.Text)
	case binlog.ValBinary, binlog.ValGeometry, binlog.ValVector:
		return appendHex(dst, v.Text)
	case binlog.ValBit:
		dst = append(dst, "b'"...)
		dst = strconv.AppendUint(dst, v.Uint, 2)
		return append(dst, '\'')
	case binlog.ValEnum:
		if v.Uint >= 1 && int(v.Uint) <= len(c.Enum) && !where {
			return appendString(dst, c.Collation, c.Enum[v.Uint-1])
		}
		// The index is exact whatever the member names are.
		return strconv.AppendUint(dst, v.Uint, 10)
	case binlog.ValSet:
		if len(c.Set) > 0 && !where && (len(c.Set) >= 64 || v.Uint>>uint(len(c.Set)) == 0) {
			var names []byte
			for i := range c.Set {
				if v.Uint&(1<<uint(i)) != 0 {
					if len(names) > 0 {
						names = append(names, ',')
					}
					names = append(names, c.Set[i]...)
				}
			}
			return appendString(dst, c.Collation, names)
		}
		return strconv.AppendUint(dst, v.Uint, 10)
	case binlog.ValJSON:
		if where {
			dst = append(dst, "CAST("...)
			dst = appendQuoted(dst, v.Text)
			return append(dst, " AS JSON)"...)
		}
		return appendQuoted(dst, v.Text)
	}
	// ValAbsent never reaches here: callers skip absent columns.
	return append(dst, "NULL"...)
}

// appendString renders text stored in a column of the given collation. A quoted literal is used
// only where the utf8mb4 connection converts it back to exactly these bytes; anything else is a
// hex literal, which the server assigns byte for byte.
func appendString(dst []byte, collation uint64, b []byte) []byte {
	switch charsetOf(collation) {
	case csUTF8MB4:
		if utf8.Valid(b) {
			return appendQuoted(dst, b)
		}
	case csUTF8MB3:
		if utf8.Valid(b) && !has4ByteRune(b) {
			return appendQuoted(dst, b)
		}
	case csASCIICompatible:
		if isASCII(b) {
			return appendQuoted(dst, b)
		}
	}
	return appendHex(dst, b)
}

type charsetKind int

const (
	csUnknown charsetKind = iota
	csUTF8MB4
	csUTF8MB3
	csASCIICompatible // single- or multi-byte charsets whose bytes below 0x80 are ASCII
)

func charsetOf(collation uint64) charsetKind {
	if collation == 0 || collation > math.MaxInt32 {
		return csUnknown
	}
	c, err := charset.GetCollationByID(int(collation))
	if err != nil || c == nil {
		return csUnknown
	}
	switch c.CharsetName {
	case "utf8mb4":
		return csUTF8MB4
	case "utf8", "utf8mb3":
		return csUTF8MB3
	case "latin1", "ascii", "latin2", "latin5", "latin7", "cp1250", "cp1251", "cp1256", "cp1257", "cp850",
		"cp852", "cp866", "koi8r", "koi8u", "greek", "hebrew", "armscii8", "geostd8", "keybcs2", "macce",
		"macroman", "swe7", "dec8", "hp8", "tis620", "gbk", "gb2312", "gb18030", "big5", "sjis", "cp932",
		"ujis", "eucjpms", "euckr":
		return csASCIICompatible
	}
	return csUnknown
}

func has4ByteRune(b []byte) bool {
	for _, c := range b {
		if c >= 0xF0 {
			return true
		}
	}
	return false
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// appendQuoted writes a single-quoted literal. Every byte that could end the literal or be
// misread is escaped; the output header leaves NO_BACKSLASH_ESCAPES off.
func appendQuoted(dst, b []byte) []byte {
	dst = append(dst, '\'')
	start := 0
	for i, c := range b {
		var esc byte
		switch c {
		case 0:
			esc = '0'
		case '\n':
			esc = 'n'
		case '\r':
			esc = 'r'
		case '\\':
			esc = '\\'
		case '\'':
			esc = '\''
		case '"':
			esc = '"'
		case 0x1a:
			esc = 'Z'
		default:
			continue
		}
		dst = append(dst, b[start:i]...)
		dst = append(dst, '\\', esc)
		start = i + 1
	}
	dst = append(dst, b[start:]...)
	return append(dst, '\'')
}

func appendHex(dst, b []byte) []byte {
	if len(b) == 0 {
		return append(dst, "''"...)
	}
	dst = slices.Grow(dst, 2*len(b)+3)
	dst = append(dst, "X'"...)
	n := len(dst)
	dst = dst[:n+2*len(b)]
	out := dst[n:]
	for i, c := range b {
		out[2*i] = hexDigits[c>>4]
		out[2*i+1] = hexDigits[c&15]
	}
	return append(dst, '\'')
}

// appendIdent writes a backquoted identifier.
func appendIdent(dst []byte, name string) []byte {
	dst = append(dst, '`')
	for i := 0; i < len(name); i++ {
		if name[i] == '`' {
			dst = append(dst, '`')
		}
		dst = append(dst, name[i])
	}
	return append(dst, '`')
}
