package binlog

import (
	"encoding/binary"
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// JSONDiffOp is the operation of one JSON diff (enum_json_diff_operation in sql/json_diff.h).
type JSONDiffOp uint8

const (
	// JSONReplace replaces the value at the path.
	JSONReplace JSONDiffOp = 0
	// JSONInsert adds a value at the path: a new object member, or an array element inserted
	// before the one at that index (appended past the end).
	JSONInsert JSONDiffOp = 1
	// JSONRemove removes the value at the path from its array or object.
	JSONRemove JSONDiffOp = 2
)

func (op JSONDiffOp) String() string {
	switch op {
	case JSONReplace:
		return "replace"
	case JSONInsert:
		return "insert"
	case JSONRemove:
		return "remove"
	}
	return fmt.Sprintf("json-diff-op(%d)", uint8(op))
}

// jsonDiffs decodes the value of a JSON column a partial update flags as partial: the length
// the column's metadata gives, then that many bytes of diffs until the end
// (Json_diff_vector::read_binary() in sql/json_diff.cc). Each diff is the operation byte, the
// path as a packed length and its text, and, unless the operation is REMOVE, the value as a
// packed length and a binary JSON document. The Value's Text re-encodes them for NextJSONDiff,
// with the value as JSON text.
func (r *Rows) jsonDiffs(c *Column, data []byte) (Value, int, error) {
	w := c.lenBytes
	if w < 1 || w > 4 || len(data) < w {
		return Value{}, 0, fmt.Errorf("%w: JSON diff length cut short", ErrCorrupt)
	}
	var l int
	for i := w - 1; i >= 0; i-- {
		l = l<<8 | int(data[i])
	}
	if len(data)-w < l {
		return Value{}, 0, fmt.Errorf("%w: JSON diffs need %d bytes, %d left", ErrCorrupt, l, len(data)-w)
	}
	b := data[w : w+l]
	start := len(r.scratch)
	fail := func(format string, args ...any) (Value, int, error) {
		r.scratch = r.scratch[:start]
		return Value{}, 0, fmt.Errorf("%w: JSON diff at byte %d: %s", ErrCorrupt, l-len(b), fmt.Sprintf(format, args...))
	}
	for len(b) > 0 {
		op := JSONDiffOp(b[0])
		if op > JSONRemove {
			return fail("operation %d", b[0])
		}
		b = b[1:]
		pl, _, n := mysql.LengthEncodedInt(b)
		if n == 0 || n > len(b) || pl > uint64(len(b)-n) {
			return fail("path cut short")
		}
		path := b[n : n+int(pl)]
		b = b[n+int(pl):]
		if len(path) == 0 || path[0] != '$' {
			return fail("path %q does not start with $", path)
		}
		r.scratch = append(r.scratch, byte(op))
		r.scratch = binary.LittleEndian.AppendUint32(r.scratch, uint32(len(path)))
		r.scratch = append(r.scratch, path...)
		if op == JSONRemove {
			continue
		}
		vl, _, n := mysql.LengthEncodedInt(b)
		if n == 0 || n > len(b) || vl > uint64(len(b)-n) {
			return fail("value of %s cut short", path)
		}
		v := b[n : n+int(vl)]
		b = b[n+int(vl):]
		if len(v) == 0 {
			return fail("empty value for %s", path)
		}
		at := len(r.scratch)
		r.scratch = append(r.scratch, 0, 0, 0, 0)
		out, err := appendJSON(r.scratch, v)
		if err != nil {
			r.scratch = r.scratch[:start]
			return Value{}, 0, fmt.Errorf("json diff value for %s: %w", path, err)
		}
		r.scratch = out
		binary.LittleEndian.PutUint32(r.scratch[at:], uint32(len(r.scratch)-at-4))
	}
	return Value{Kind: ValJSONDiff, Text: r.scratch[start:]}, w + l, nil
}

// AppendJSONDiff appends one diff to a ValJSONDiff's Text, in the encoding NextJSONDiff reads:
// the operation byte, the path's length (4 bytes, little-endian) and the path, and unless op is
// JSONRemove the value's length and the value.
func AppendJSONDiff(dst []byte, op JSONDiffOp, path, value []byte) []byte {
	dst = append(dst, byte(op))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(path)))
	dst = append(dst, path...)
	if op == JSONRemove {
		return dst
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(value)))
	return append(dst, value...)
}

// NextJSONDiff reads the first diff of a ValJSONDiff's Text: its operation, path (MySQL JSON
// path text such as $.a[2]) and value (JSON text, nil for JSONRemove), and the diffs after it.
// ok is false when text is empty.
func NextJSONDiff(text []byte) (op JSONDiffOp, path, value, rest []byte, ok bool) {
	if len(text) < 5 {
		return 0, nil, nil, nil, false
	}
	op = JSONDiffOp(text[0])
	n := binary.LittleEndian.Uint32(text[1:])
	path, text = text[5:5+n], text[5+n:]
	if op == JSONRemove {
		return op, path, nil, text, true
	}
	n = binary.LittleEndian.Uint32(text)
	return op, path, text[4 : 4+n], text[4+n:], true
}
