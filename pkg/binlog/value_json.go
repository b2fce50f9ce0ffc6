package binlog

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// Value types of MySQL's binary JSON (sql-common/json_binary.cc).
const (
	jsonSmallObject = 0x00
	jsonLargeObject = 0x01
	jsonSmallArray  = 0x02
	jsonLargeArray  = 0x03
	jsonLiteral     = 0x04
	jsonInt16       = 0x05
	jsonUint16      = 0x06
	jsonInt32       = 0x07
	jsonUint32      = 0x08
	jsonInt64       = 0x09
	jsonUint64      = 0x0a
	jsonDouble      = 0x0b
	jsonString      = 0x0c
	jsonOpaque      = 0x0f

	jsonNullLiteral  = 0x00
	jsonTrueLiteral  = 0x01
	jsonFalseLiteral = 0x02

	// JSON_DOCUMENT_MAX_DEPTH: the server refuses to print (or store) deeper nesting.
	jsonMaxDepth = 100
)

// Field types an opaque JSON value can carry that the server prints as something other than
// base64 (Json_wrapper::type() and wrapper_to_string() in sql-common/json_dom.cc).
const (
	jsonFieldTimestamp  = 7
	jsonFieldDate       = 10
	jsonFieldTime       = 11
	jsonFieldDatetime   = 12
	jsonFieldNewDecimal = 246
	jsonFieldVarString  = 253
)

// appendJSON renders a binary JSON cell as the text the server prints for it
// (Json_wrapper::to_string(), i.e. wrapper_to_string() in sql-common/json_dom.cc): members in stored
// order, ", " and ": " separators, strings escaped by double_quote().
func appendJSON(dst, data []byte) ([]byte, error) {
	if len(data) == 0 {
		// parse_binary() reads an empty document (written for NULL into a NOT NULL column in
		// non-strict mode) as the null literal.
		return append(dst, "null"...), nil
	}
	start := len(dst)
	// A server never points two entries at one value, so honest text is at most about 6 times
	// (escaped control characters) the size of the binary. Shared sub-values in a crafted
	// document could otherwise blow the output up exponentially with the nesting depth.
	limit := start + 16*len(data) + 256
	out, err := jsonAppendValue(dst, data[0], data[1:], 0, limit)
	if err != nil {
		return dst[:start], err
	}
	return out, nil
}

// jsonAppendValue renders the value of type tp whose bytes start at data[0]; data runs to the end
// of the enclosing array or object (parse_value()).
func jsonAppendValue(dst []byte, tp byte, data []byte, depth, limit int) ([]byte, error) {
	switch tp {
	case jsonSmallObject, jsonLargeObject, jsonSmallArray, jsonLargeArray:
		return jsonAppendContainer(dst, data, tp == jsonLargeObject || tp == jsonLargeArray,
			tp == jsonSmallObject || tp == jsonLargeObject, depth+1, limit)
	case jsonLiteral:
		if len(data) < 1 {
			return dst, jsonShort("literal", 1, len(data))
		}
		switch data[0] {
		case jsonNullLiteral:
			return append(dst, "null"...), nil
		case jsonTrueLiteral:
			return append(dst, "true"...), nil
		case jsonFalseLiteral:
			return append(dst, "false"...), nil
		}
		return dst, fmt.Errorf("json: literal %#x: %w", data[0], errBadValue)
	case jsonInt16, jsonUint16:
		if len(data) < 2 {
			return dst, jsonShort("int16", 2, len(data))
		}
		v := binary.LittleEndian.Uint16(data)
		if tp == jsonInt16 {
			return strconv.AppendInt(dst, int64(int16(v)), 10), nil
		}
		return strconv.AppendUint(dst, uint64(v), 10), nil
	case jsonInt32, jsonUint32:
		if len(data) < 4 {
			return dst, jsonShort("int32", 4, len(data))
		}
		v := binary.LittleEndian.Uint32(data)
		if tp == jsonInt32 {
			return strconv.AppendInt(dst, int64(int32(v)), 10), nil
		}
		return strconv.AppendUint(dst, uint64(v), 10), nil
	case jsonInt64, jsonUint64:
		if len(data) < 8 {
			return dst, jsonShort("int64", 8, len(data))
		}
		v := binary.LittleEndian.Uint64(data)
		if tp == jsonInt64 {
			return strconv.AppendInt(dst, int64(v), 10), nil
		}
		return strconv.AppendUint(dst, v, 10), nil
	case jsonDouble:
		if len(data) < 8 {
			return dst, jsonShort("double", 8, len(data))
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(data))
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return dst, fmt.Errorf("json: double %v: %w", f, errBadValue)
		}
		return jsonAppendDouble(dst, f), nil
	case jsonString:
		s, err := jsonVarData("string", data)
		if err != nil {
			return dst, err
		}
		return jsonAppendString(dst, s), nil
	case jsonOpaque:
		if len(data) < 1 {
			return dst, jsonShort("opaque", 1, len(data))
		}
		v, err := jsonVarData("opaque", data[1:])
		if err != nil {
			return dst, err
		}
		return jsonAppendOpaque(dst, data[0], v)
	}
	return dst, fmt.Errorf("json: value type %#x: %w", tp, errBadValue)
}

// jsonAppendContainer renders an array or object (parse_array_or_object(), Value::element(),
// Value::key()). Its layout: element count and byte size (2 bytes each in the small format, 4 in
// the large one), key entries (offset, 2-byte length) for objects, value entries (type byte, then
// the offset of the value or, for small scalars, the value itself), then keys and values. Offsets
// count from the start of the container, and everything must lie within its byte size.
func jsonAppendContainer(dst, data []byte, large, object bool, depth, limit int) ([]byte, error) {
	if depth > jsonMaxDepth {
		return dst, fmt.Errorf("json: nested deeper than %d: %w", jsonMaxDepth, errBadValue)
	}
	offSize := 2
	if large {
		offSize = 4
	}
	if len(data) < 2*offSize {
		return dst, jsonShort("array or object header", 2*offSize, len(data))
	}
	count := jsonOffset(data, large)
	size := jsonOffset(data[offSize:], large)
	if size > uint64(len(data)) {
		return dst, jsonShort("array or object", int(size), len(data))
	}
	data = data[:size]
	keyEntry := uint64(offSize + 2)
	valueEntry := uint64(offSize + 1)
	header := uint64(2*offSize) + count*valueEntry
	if object {
		header += count * keyEntry
	}
	if header > size {
		return dst, fmt.Errorf("json: %d entries need %d header bytes, container has %d: %w",
			count, header, size, errBadValue)
	}
	valueEntries := uint64(2 * offSize)
	if object {
		valueEntries += count * keyEntry
		dst = append(dst, '{')
	} else {
		dst = append(dst, '[')
	}
	for i := range count {
		if len(dst) > limit {
			return dst, fmt.Errorf("json: text outgrows the binary, values are shared: %w", errBadValue)
		}
		if i > 0 {
			dst = append(dst, ", "...)
		}
		if object {
			e := uint64(2*offSize) + i*keyEntry
			keyOff := jsonOffset(data[e:], large)
			keyLen := uint64(binary.LittleEndian.Uint16(data[e+uint64(offSize):]))
			if keyOff < header || keyOff+keyLen > size {
				return dst, fmt.Errorf("json: key %d at %d+%d outside %d..%d: %w", i, keyOff, keyLen, header, size, errBadValue)
			}
			dst = jsonAppendString(dst, data[keyOff:keyOff+keyLen])
			dst = append(dst, ": "...)
		}
		e := valueEntries + i*valueEntry
		tp := data[e]
		var err error
		if jsonInlined(tp, large) {
			dst, err = jsonAppendValue(dst, tp, data[e+1:e+valueEntry], depth, limit)
		} else {
			off := jsonOffset(data[e+1:], large)
			if off > size || off < e+valueEntry {
				return dst, fmt.Errorf("json: value %d at %d outside %d..%d: %w", i, off, e+valueEntry, size, errBadValue)
			}
			dst, err = jsonAppendValue(dst, tp, data[off:], depth, limit)
		}
		if err != nil {
			return dst, err
		}
	}
	if object {
		return append(dst, '}'), nil
	}
	return append(dst, ']'), nil
}

// jsonInlined is inlined_type(): literals and 16-bit integers live in the value entry itself, and
// so do 32-bit integers in the large format.
func jsonInlined(tp byte, large bool) bool {
	switch tp {
	case jsonLiteral, jsonInt16, jsonUint16:
		return true
	case jsonInt32, jsonUint32:
		return large
	}
	return false
}

func jsonOffset(b []byte, large bool) uint64 {
	if large {
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return uint64(binary.LittleEndian.Uint16(b))
}

// jsonVarData reads a string or opaque payload: a length of 1 to 5 bytes, 7 bits each, least
// significant first, high bit set on all but the last (read_variable_length()), then the bytes.
func jsonVarData(what string, data []byte) ([]byte, error) {
	var n uint64
	for i := 0; i < 5; i++ {
		if i >= len(data) {
			return nil, jsonShort(what+" length", i+1, len(data))
		}
		n |= uint64(data[i]&0x7f) << (7 * i)
		if data[i]&0x80 == 0 {
			if n > math.MaxUint32 {
				return nil, fmt.Errorf("json: %s length %d: %w", what, n, errBadValue)
			}
			rest := data[i+1:]
			if n > uint64(len(rest)) {
				return nil, jsonShort(what, int(n), len(rest))
			}
			return rest[:n], nil
		}
	}
	return nil, fmt.Errorf("json: %s length longer than 5 bytes: %w", what, errBadValue)
}

// jsonAppendOpaque renders an opaque value the way wrapper_to_string() does: temporal values (an
// 8-byte packed longlong, Json_datetime::to_packed()) as quoted strings with all six fraction
// digits (my_TIME_to_str(t, ptr, 6)), decimals (precision, scale, decimal2bin bytes) as bare
// numbers, VAR_STRING as a plain string, anything else as "base64:typeNN:...".
func jsonAppendOpaque(dst []byte, fieldType byte, v []byte) ([]byte, error) {
	switch fieldType {
	case jsonFieldDate, jsonFieldTime, jsonFieldDatetime, jsonFieldTimestamp:
		if len(v) != 8 {
			return dst, fmt.Errorf("json: temporal of type %d has %d bytes, want 8: %w", fieldType, len(v), errBadValue)
		}
		packed := int64(binary.LittleEndian.Uint64(v))
		dst = append(dst, '"')
		var err error
		if fieldType == jsonFieldTime {
			dst, err = appendPackedTime(dst, packed, tmMaxFsp)
		} else {
			dst, err = appendPackedDatetime(dst, packed, tmMaxFsp, fieldType == jsonFieldDate)
		}
		if err != nil {
			return dst, fmt.Errorf("json: temporal of type %d: %w", fieldType, err)
		}
		return append(dst, '"'), nil
	case jsonFieldNewDecimal:
		// Json_decimal::convert_from_binary() wants exactly the bytes the precision and scale
		// imply.
		if len(v) < 2 {
			return dst, jsonShort("decimal", 2, len(v))
		}
		precision, scale := int(v[0]), int(v[1])
		if precision == 0 && scale == 0 && len(v) == 2 {
			// bin2decimal() of zero digits is the number zero.
			return append(dst, '0'), nil
		}
		if size := decimalBinSize(precision, scale); size == 0 || size != len(v)-2 {
			return dst, fmt.Errorf("json: decimal(%d,%d) in %d bytes: %w", precision, scale, len(v)-2, errBadValue)
		}
		dst, _, err := appendDecimal(dst, v[2:], precision, scale)
		if err != nil {
			return dst, fmt.Errorf("json: %w", err)
		}
		return dst, nil
	case jsonFieldVarString:
		// "Treat strings saved in opaque as plain json strings" (wrapper_to_string()).
		return jsonAppendString(dst, v), nil
	}
	dst = append(dst, `"base64:type`...)
	dst = strconv.AppendUint(dst, uint64(fieldType), 10)
	dst = append(dst, ':')
	// The server's base64_encode() (mysys/base64.cc) breaks lines after every 76 characters;
	// double_quote() then escapes the newlines.
	const lineBytes = 76 / 4 * 3
	for len(v) > lineBytes {
		dst = base64.StdEncoding.AppendEncode(dst, v[:lineBytes])
		dst = append(dst, `\n`...)
		v = v[lineBytes:]
	}
	dst = base64.StdEncoding.AppendEncode(dst, v)
	return append(dst, '"'), nil
}

// jsonAppendString is double_quote() (sql-common/json_dom.cc): the short escapes for " \ \b \f \n
// \r \t, \u00XX for the other control characters, every other byte as it is, so UTF-8 (valid or
// not) passes through untouched.
func jsonAppendString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	done := 0
	for i, c := range s {
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[done:i]...)
		done = i + 1
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			// Some server versions test c < 0x1f here and emit 0x1f raw, which is not valid
			// JSON; it is escaped like the others.
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
	}
	dst = append(dst, s[done:]...)
	return append(dst, '"')
}

// jsonAppendDouble prints a double like the server's my_gcvt(d, MY_GCVT_ARG_DOUBLE,
// MY_GCVT_MAX_FIELD_WIDTH) followed by ".0" when that has neither '.' nor 'e' (so the text reads
// back as a double): the shortest digits that round-trip (dtoa mode 4 with 33+ digits allowed),
// fixed notation when the decimal exponent is in -14..15 (MAX_DECPT_FOR_F_FORMAT) or the number
// has a fraction, otherwise d.ddde[-]N with no '+' and no exponent padding.
func jsonAppendDouble(dst []byte, f float64) []byte {
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], math.Abs(f), 'e', -1, 64)
	var digits [17]byte
	nd := 0
	i := 0
	for ; i < len(b) && b[i] != 'e'; i++ {
		if b[i] != '.' && nd < len(digits) {
			digits[nd] = b[i]
			nd++
		}
	}
	exp := 0
	neg := false
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '-':
			neg = true
		case c >= '0' && c <= '9':
			exp = exp*10 + int(c-'0')
		}
	}
	if neg {
		exp = -exp
	}
	decpt := exp + 1 // digits[0] sits just before the decimal point when decpt is 1
	if math.Signbit(f) {
		dst = append(dst, '-')
	}
	if (decpt >= -14 && decpt <= 15) || (decpt > 0 && decpt < nd) {
		switch {
		case decpt <= 0:
			dst = append(dst, '0', '.')
			for range -decpt {
				dst = append(dst, '0')
			}
			dst = append(dst, digits[:nd]...)
		case decpt >= nd:
			dst = append(dst, digits[:nd]...)
			for range decpt - nd {
				dst = append(dst, '0')
			}
			dst = append(dst, '.', '0')
		default:
			dst = append(dst, digits[:decpt]...)
			dst = append(dst, '.')
			dst = append(dst, digits[decpt:nd]...)
		}
		return dst
	}
	dst = append(dst, digits[0])
	if nd > 1 {
		dst = append(dst, '.')
		dst = append(dst, digits[1:nd]...)
	}
	dst = append(dst, 'e')
	if exp < 0 {
		dst = append(dst, '-')
		exp = -exp
	}
	return strconv.AppendInt(dst, int64(exp), 10)
}

func jsonShort(what string, need, have int) error {
	return fmt.Errorf("json: %s: %d of %d bytes: %w", what, have, need, errShortValue)
}
