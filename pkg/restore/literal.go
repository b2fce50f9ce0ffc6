package restore

import (
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

const hexDigits = "0123456789ABCDEF"

// litMode shapes a literal.
type litMode uint8

const (
	// litWhere gives the comparison form for a WHERE clause that finds a row by every column:
	// strings compared as bytes, floats as their exact double.
	litWhere litMode = 1 << iota
	// litCompact writes binary values as escaped _binary'...' strings, about as long as the
	// data, instead of hex, twice as long: for rows that would not fit max_allowed_packet.
	litCompact
)

// binaryCollation is the collation id of the binary character set (BINARY, VARBINARY, BLOB, and
// MariaDB's UUID, INET4 and INET6).
const binaryCollation = 63

// appendLiteral writes v as an SQL literal that stores exactly the same bytes when assigned to
// column c, under the session SessionStatements sets (utf8mb4 connection, time_zone +00:00,
// backslash escapes on).
func appendLiteral(dst []byte, c *binlog.Column, v *binlog.Value, mode litMode) []byte {
	where := mode&litWhere != 0
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
	case binlog.ValString, binlog.ValBinary:
		if c.Collation == binaryCollation || c.Collation == 0 && v.Kind == binlog.ValBinary {
			return appendBinary(dst, v.Text, c.FixedLen(), mode)
		}
		return appendText(dst, literalCharset(c), v.Text, where)
	case binlog.ValGeometry, binlog.ValVector:
		return appendBinary(dst, v.Text, 0, mode)
	case binlog.ValBit:
		dst = append(dst, "b'"...)
		dst = strconv.AppendUint(dst, v.Uint, 2)
		return append(dst, '\'')
	case binlog.ValEnum:
		if v.Uint >= 1 && int(v.Uint) <= len(c.Enum) && !where {
			n := len(dst)
			dst = append(dst, '\'')
			if out, ok := appendUTF8(dst, literalCharset(c), c.Enum[v.Uint-1]); ok {
				return appendQuotedTail(out, n+1)
			}
			dst = dst[:n]
		}
		// The index is exact whatever the member names are.
		return strconv.AppendUint(dst, v.Uint, 10)
	case binlog.ValSet:
		if len(c.Set) > 0 && !where && (len(c.Set) >= 64 || v.Uint>>uint(len(c.Set)) == 0) {
			// The members as one utf8mb4 string, joined by the comma the server splits on
			// after converting it to the column's charset.
			n := len(dst)
			dst = append(dst, '\'')
			cs, ok, first := literalCharset(c), true, true
			for i := range c.Set {
				if v.Uint&(1<<uint(i)) != 0 && ok {
					if !first {
						dst = append(dst, ',')
					}
					first = false
					dst, ok = appendUTF8(dst, cs, c.Set[i])
				}
			}
			if ok {
				return appendQuotedTail(dst, n+1)
			}
			dst = dst[:n]
		}
		return strconv.AppendUint(dst, v.Uint, 10)
	case binlog.ValJSON:
		if where {
			dst = append(dst, "CAST("...)
			dst = appendQuoted(dst, v.Text)
			return append(dst, " AS JSON)"...)
		}
		return appendQuoted(dst, v.Text)
	case binlog.ValJSONDiff:
		return appendJSONDiff(dst, c, v.Text)
	}
	// ValAbsent never reaches here: callers skip absent columns.
	return append(dst, "NULL"...)
}

// appendBinary writes a binary string. fixed is a BINARY(n) column's length: the row image
// leaves out the trailing 0x00 bytes the server pads the value with, and the value is only
// whole (a key that matches, a UUID or INET6 the server accepts) with them.
func appendBinary(dst, b []byte, fixed int, mode litMode) []byte {
	pad := max(fixed-len(b), 0)
	if mode&litCompact != 0 && len(b)+pad > 0 {
		dst = append(dst, "_binary"...)
		dst = appendQuoted(dst, b)
		if pad > 0 {
			dst = dst[:len(dst)-1]
			for range pad {
				dst = append(dst, '\\', '0')
			}
			dst = append(dst, '\'')
		}
		return dst
	}
	if len(b)+pad == 0 {
		return append(dst, "''"...)
	}
	dst = appendHex(dst, b)
	if pad > 0 {
		if len(b) == 0 {
			dst = append(dst[:len(dst)-2], "X'"...)
		} else {
			dst = dst[:len(dst)-1]
		}
		for range pad {
			dst = append(dst, '0', '0')
		}
		dst = append(dst, '\'')
	}
	return dst
}

// appendText renders text stored in a column of charset cs (nil: unknown). It is quoted, as
// utf8mb4, only where the server's own conversion from utf8mb4 to cs gives back exactly these
// bytes (charsetgen proves that per character); anything else is a hex literal, which the
// server assigns byte for byte, introduced by its charset where that is known, so that a key
// compares it in the column's collation.
func appendText(dst []byte, cs *charsetInfo, b []byte, where bool) []byte {
	n := len(dst)
	if where {
		// Compare bytes, not collation weights: 'a' = 'A ' under most collations.
		dst = append(dst, "CAST("...)
		if !cs.isUTF8() {
			dst = append(dst, "CONVERT("...)
		}
	}
	q := len(dst)
	dst = append(dst, '\'')
	if out, ok := appendUTF8(dst, cs, b); ok {
		dst = appendQuotedTail(out, q+1)
		if where {
			if !cs.isUTF8() {
				dst = append(dst, " USING "...)
				dst = append(dst, cs.name...)
				dst = append(dst, ')')
			}
			dst = append(dst, " AS BINARY)"...)
		}
		return dst
	}
	dst = dst[:n]
	if cs != nil && !where && !cs.isUTF8() && len(b) > 0 {
		dst = append(dst, '_')
		dst = append(dst, cs.name...)
		dst = append(dst, ' ')
	}
	return appendHex(dst, b)
}

// appendUTF8 appends b, text in charset cs, converted to UTF-8, and reports whether every
// character converts and converts back to the same bytes. On false, dst holds garbage past its
// old length.
func appendUTF8(dst []byte, cs *charsetInfo, b []byte) ([]byte, bool) {
	if cs == nil {
		return dst, false
	}
	switch cs.name {
	case "utf8mb4":
		return append(dst, b...), utf8.Valid(b)
	case "utf8mb3":
		return append(dst, b...), utf8.Valid(b) && !has4ByteRune(b)
	case "ucs2", "utf16", "utf16le", "utf32":
		return appendWide(dst, cs.name, b)
	}
	if cs.single != nil {
		for _, c := range b {
			r := cs.single[c]
			if r < 0 {
				return dst, false
			}
			dst = utf8.AppendRune(dst, r)
		}
		return dst, true
	}
	var tab map[uint32]rune
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			if cs.ascii[c>>6]&(1<<(c&63)) == 0 {
				return dst, false
			}
			dst = append(dst, c)
			i++
			continue
		}
		if !cs.multi {
			return dst, false
		}
		if tab == nil {
			tab = multiTable(cs.name)
		}
		// A byte of these charsets is a character of its own or the lead byte of a longer one,
		// never both, so the first code in the table is the character.
		ok := false
		code := uint32(0)
		for n := 1; n <= 3 && i+n <= len(b); n++ {
			code = code<<8 | uint32(b[i+n-1])
			if r, found := tab[uint32(n)<<24|code]; found {
				dst = utf8.AppendRune(dst, r)
				i += n
				ok = true
				break
			}
		}
		if !ok {
			return dst, false
		}
	}
	return dst, true
}

// appendWide converts UCS-2, UTF-16 (big- or little-endian) or UTF-32, which the server
// converts by the Unicode encoding rules: every scalar value, surrogate pairs in UTF-16 only.
func appendWide(dst []byte, name string, b []byte) ([]byte, bool) {
	unit := 2
	if name == "utf32" {
		unit = 4
	}
	if len(b)%unit != 0 {
		return dst, false
	}
	u16 := func(i int) rune {
		if name == "utf16le" {
			return rune(b[i]) | rune(b[i+1])<<8
		}
		return rune(b[i])<<8 | rune(b[i+1])
	}
	for i := 0; i < len(b); i += unit {
		var r rune
		switch {
		case unit == 4:
			r = rune(b[i])<<24 | rune(b[i+1])<<16 | rune(b[i+2])<<8 | rune(b[i+3])
		case name == "ucs2":
			r = u16(i)
		default:
			r = u16(i)
			if r >= 0xD800 && r < 0xDC00 && i+4 <= len(b) {
				if lo := u16(i + 2); lo >= 0xDC00 && lo < 0xE000 {
					r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
					i += 2
				}
			}
		}
		if r < 0 || r > utf8.MaxRune || r >= 0xD800 && r < 0xE000 {
			return dst, false
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst, true
}

func has4ByteRune(b []byte) bool {
	for _, c := range b {
		if c >= 0xF0 {
			return true
		}
	}
	return false
}

// appendQuotedTail escapes, in place, the text after an opening quote at dst[from-1], and
// closes the literal.
func appendQuotedTail(dst []byte, from int) []byte {
	text := dst[from:]
	esc := 0
	for _, c := range text {
		if escapeOf(c) != 0 {
			esc++
		}
	}
	if esc == 0 {
		return append(dst, '\'')
	}
	// Shift right by the escapes, from the end.
	old := len(dst)
	dst = slices.Grow(dst, esc+1)[:old+esc]
	j := len(dst)
	for i := old - 1; i >= from; i-- {
		c := dst[i]
		if e := escapeOf(c); e != 0 {
			dst[j-1], dst[j-2] = e, '\\'
			j -= 2
		} else {
			dst[j-1] = c
			j--
		}
	}
	return append(dst, '\'')
}

func escapeOf(c byte) byte {
	switch c {
	case 0:
		return '0'
	case '\n':
		return 'n'
	case '\r':
		return 'r'
	case '\\':
		return '\\'
	case '\'':
		return '\''
	case '"':
		return '"'
	case 0x1a:
		return 'Z'
	}
	return 0
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
