package binlog

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Values for the test encoder of binary JSON. Go integer types pick the stored integer type.
type (
	jObject struct {
		large bool
		keys  []string
		vals  []any
	}
	jArray struct {
		large bool
		vals  []any
	}
	jOpaque struct {
		typ  byte
		data []byte
	}
)

// testJSONDoc is serialize_json_value() (sql-common/json_binary.cc) for the values above, written
// from the format description.
func testJSONDoc(v any) []byte {
	// The small format's 2-byte entries hold exactly a 16-bit integer; 32-bit ones get payloads.
	tp, inline, payload := testJSONValue(v, false)
	if inline != nil {
		// A top-level scalar is never in an entry: the payload follows the type byte.
		payload = inline
		if tp == jsonLiteral {
			payload = inline[:1]
		}
	}
	return append([]byte{tp}, payload...)
}

// testJSONValue returns the type byte and either the bytes to inline in a value entry of the given
// format (zero-padded to the entry) or the bytes to store at an offset.
func testJSONValue(v any, large bool) (tp byte, inline, payload []byte) {
	entry := 2
	if large {
		entry = 4
	}
	pad := func(b []byte) []byte { return append(b, make([]byte, entry-len(b))...) }
	varLen := func(n int) []byte {
		var b []byte
		for {
			c := byte(n & 0x7f)
			n >>= 7
			if n != 0 {
				c |= 0x80
			}
			b = append(b, c)
			if n == 0 {
				return b
			}
		}
	}
	switch v := v.(type) {
	case nil:
		return jsonLiteral, pad([]byte{jsonNullLiteral}), nil
	case bool:
		if v {
			return jsonLiteral, pad([]byte{jsonTrueLiteral}), nil
		}
		return jsonLiteral, pad([]byte{jsonFalseLiteral}), nil
	case int16:
		return jsonInt16, pad(binary.LittleEndian.AppendUint16(nil, uint16(v))), nil
	case uint16:
		return jsonUint16, pad(binary.LittleEndian.AppendUint16(nil, v)), nil
	case int32:
		b := binary.LittleEndian.AppendUint32(nil, uint32(v))
		if large {
			return jsonInt32, b, nil
		}
		return jsonInt32, nil, b
	case uint32:
		b := binary.LittleEndian.AppendUint32(nil, v)
		if large {
			return jsonUint32, b, nil
		}
		return jsonUint32, nil, b
	case int64:
		return jsonInt64, nil, binary.LittleEndian.AppendUint64(nil, uint64(v))
	case uint64:
		return jsonUint64, nil, binary.LittleEndian.AppendUint64(nil, v)
	case float64:
		return jsonDouble, nil, binary.LittleEndian.AppendUint64(nil, math.Float64bits(v))
	case string:
		return jsonString, nil, append(varLen(len(v)), v...)
	case jOpaque:
		return jsonOpaque, nil, append(append([]byte{v.typ}, varLen(len(v.data))...), v.data...)
	case jArray:
		return testJSONContainer(v.large, false, nil, v.vals)
	case jObject:
		return testJSONContainer(v.large, true, v.keys, v.vals)
	}
	panic(fmt.Sprintf("testJSONValue: %T", v))
}

func testJSONContainer(large, object bool, keys []string, vals []any) (byte, []byte, []byte) {
	off := 2
	tp := byte(jsonSmallArray)
	if large {
		off = 4
		tp = jsonLargeArray
	}
	if object {
		tp -= 2
	}
	put := func(b []byte, v int) {
		if large {
			binary.LittleEndian.PutUint32(b, uint32(v))
		} else {
			binary.LittleEndian.PutUint16(b, uint16(v))
		}
	}
	n := len(vals)
	keyEntries := 0
	if object {
		keyEntries = n * (off + 2)
	}
	buf := make([]byte, 2*off+keyEntries+n*(1+off))
	put(buf, n)
	for i, k := range keys {
		e := 2*off + i*(off+2)
		put(buf[e:], len(buf))
		binary.LittleEndian.PutUint16(buf[e+off:], uint16(len(k)))
		buf = append(buf, k...)
	}
	for i, v := range vals {
		e := 2*off + keyEntries + i*(1+off)
		t, inline, payload := testJSONValue(v, large)
		buf[e] = t
		if inline != nil {
			copy(buf[e+1:], inline)
		} else {
			put(buf[e+1:], len(buf))
			buf = append(buf, payload...)
		}
	}
	put(buf[off:], len(buf))
	return tp, nil, buf
}

func obj(large bool, kv ...any) jObject {
	o := jObject{large: large}
	for i := 0; i < len(kv); i += 2 {
		o.keys = append(o.keys, kv[i].(string))
		o.vals = append(o.vals, kv[i+1])
	}
	return o
}

func arr(large bool, vals ...any) jArray { return jArray{large: large, vals: vals} }

func packedDatetime(y, mo, d, h, mi, s, usec int64) []byte {
	return binary.LittleEndian.AppendUint64(nil, uint64(testDatetimePacked(y, mo, d, h, mi, s, usec)))
}

func packedTime(neg bool, h, m, s, usec int64) []byte {
	return binary.LittleEndian.AppendUint64(nil, uint64(testTimePacked(neg, h, m, s, usec)))
}

func TestJSONVectors(t *testing.T) {
	for _, tt := range []struct{ hex, want string }{
		// Written by hand from the format description.
		{"", `null`},
		{"00 01 00 0c 00 0b 00 01 00 05 01 00 61", `{"a": 1}`},
		{"02 03 00 0f 00 05 01 00 0c 0d 00 04 00 00 01 78", `[1, "x", null]`},
		{"03 02 00 00 00 12 00 00 00 04 01 00 00 00 07 00 00 00 80", `[true, -2147483648]`},
		{"0c 07 68 c3 a9 6c 6c 6f 0a", `"héllo\n"`},
		{"0b 00 00 00 00 00 00 f0 3f", `1.0`},
		{"04 02", `false`},
		{"05 00 80", `-32768`},
		{"0f 0a 08 00 00 00 00 00 44 a5 19", `"2020-01-02"`},
		{"0f 0c 08 40 e2 01 fa 7e 7f ab 19", `"2021-12-31 23:59:58.123456"`},
		{"0f 07 08 40 e2 01 fa 7e 7f ab 19", `"2021-12-31 23:59:58.123456"`},
		{"0f 0b 08 e0 5e f8 04 91 cb ff ff", `"-838:59:59.500000"`},
		{"0f f6 04 04 02 8c 22", `12.34`},
		{"0f fc 03 01 02 03", `"base64:type252:AQID"`},
		{"00 00 00 04 00", `{}`},
		{"03 00 00 00 00 08 00 00 00", `[]`},
	} {
		data := mustHex(t, tt.hex)
		got, err := appendJSON([]byte("x"), data)
		if err != nil || string(got) != "x"+tt.want {
			t.Errorf("% x = %q, %v; want %q", data, got, err, "x"+tt.want)
		}
	}
}

func TestJSONDocs(t *testing.T) {
	long := make([]byte, 100)
	for i := range long {
		long[i] = byte(i)
	}
	tests := []struct {
		v    any
		want string
	}{
		{nil, `null`},
		{true, `true`},
		{int16(math.MinInt16), `-32768`},
		{int16(math.MaxInt16), `32767`},
		{uint16(math.MaxUint16), `65535`},
		{int32(math.MinInt32), `-2147483648`},
		{uint32(math.MaxUint32), `4294967295`},
		{int64(math.MinInt64), `-9223372036854775808`},
		{int64(math.MaxInt64), `9223372036854775807`},
		{uint64(math.MaxUint64), `18446744073709551615`},
		// Doubles as my_gcvt() lays out the shortest round-trip digits, plus ".0" when needed.
		{1.0, `1.0`},
		{-1.0, `-1.0`},
		{0.0, `0.0`},
		{math.Copysign(0, -1), `-0.0`},
		{0.1, `0.1`},
		{3.14, `3.14`},
		{-2.5e-5, `-0.000025`},
		{1e20, `1e20`},
		{1e15, `1e15`},
		{1e14, `100000000000000.0`},
		{123456789012345.0, `123456789012345.0`},
		{1e-15, `0.000000000000001`},
		{1e-16, `1e-16`},
		{1.5e-15, `0.0000000000000015`},
		{999999999999999.0, `999999999999999.0`},
		{1234567890123456.0, `1.234567890123456e15`},
		{1.5e-300, `1.5e-300`},
		{5e-324, `5e-324`},
		{math.MaxFloat64, `1.7976931348623157e308`},
		{1234567890123456.7, `1234567890123456.8`},
		{12345678901234567.0, `1.2345678901234568e16`},
		{1.0 / 3, `0.3333333333333333`},
		{"", `""`},
		{"\"\\\b\f\n\r\t\x00\x01\x1e\x1f\x7f/", `"\"\\\b\f\n\r\t\u0000\u0001\u001e\u001f` + "\x7f" + `/"`},
		{"日本語 😀 \xff\xfe", `"日本語 😀 ` + "\xff\xfe" + `"`},
		{strings.Repeat("é", 100), `"` + strings.Repeat("é", 100) + `"`}, // a 2-byte length
		// Opaque values.
		{jOpaque{10, packedDatetime(2020, 1, 2, 0, 0, 0, 0)}, `"2020-01-02"`},
		{jOpaque{10, packedDatetime(0, 0, 0, 0, 0, 0, 0)}, `"0000-00-00"`},
		{jOpaque{12, packedDatetime(0, 0, 0, 0, 0, 0, 0)}, `"0000-00-00 00:00:00.000000"`},
		{jOpaque{12, packedDatetime(9999, 12, 31, 23, 59, 59, 999999)}, `"9999-12-31 23:59:59.999999"`},
		{jOpaque{7, packedDatetime(1970, 1, 1, 0, 0, 1, 0)}, `"1970-01-01 00:00:01.000000"`},
		{jOpaque{11, packedTime(false, 0, 0, 0, 0)}, `"00:00:00.000000"`},
		{jOpaque{11, packedTime(false, 838, 59, 59, 0)}, `"838:59:59.000000"`},
		{jOpaque{11, packedTime(true, 0, 0, 1, 500000)}, `"-00:00:01.500000"`},
		{jOpaque{11, packedTime(false, 1, 2, 3, 4)}, `"01:02:03.000004"`},
		{jOpaque{246, append([]byte{65, 30}, testDecEncode(t, "-"+strings.Repeat("9", 35)+"."+strings.Repeat("9", 30), 65, 30)...)},
			"-" + strings.Repeat("9", 35) + "." + strings.Repeat("9", 30)},
		{jOpaque{246, append([]byte{10, 2}, testDecEncode(t, "-0.50", 10, 2)...)}, `-0.50`},
		{jOpaque{246, []byte{0, 0}}, `0`},
		{jOpaque{253, []byte("a\"b")}, `"a\"b"`},
		{jOpaque{15, nil}, `"base64:type15:"`},
		{jOpaque{16, []byte{0xff}}, `"base64:type16:/w=="`},
		{jOpaque{252, long[:57]}, `"base64:type252:` + b64(long[:57]) + `"`},
		{jOpaque{252, long}, `"base64:type252:` + b64(long[:57]) + `\n` + b64(long[57:]) + `"`},
		// Containers in both formats, nested, keys in stored order.
		{obj(false), `{}`},
		{arr(true), `[]`},
		{obj(false, "a", int16(1), "b", "x", "cc", arr(false, 1.5, nil, true, int32(7), uint32(8))),
			`{"a": 1, "b": "x", "cc": [1.5, null, true, 7, 8]}`},
		{obj(true, "a", int16(1), "b", "x", "cc", arr(true, 1.5, nil, true, int32(-7), uint32(8))),
			`{"a": 1, "b": "x", "cc": [1.5, null, true, -7, 8]}`},
		{arr(false, obj(true, "k\n\"", arr(false)), arr(true, obj(false, "", false)), "end"),
			`[{"k\n\"": []}, [{"": false}], "end"]`},
		{arr(true, int64(-1), uint64(1), int16(-1), uint16(1), jOpaque{10, packedDatetime(2000, 2, 29, 0, 0, 0, 0)}),
			`[-1, 1, -1, 1, "2000-02-29"]`},
		{obj(false, "b", "2", "a", "1"), `{"b": "2", "a": "1"}`},
	}
	for _, tt := range tests {
		doc := testJSONDoc(tt.v)
		got, err := appendJSON([]byte("x"), doc)
		if err != nil || string(got) != "x"+tt.want {
			t.Errorf("%#v (% x) = %q, %v; want %q", tt.v, doc, got, err, "x"+tt.want)
		}
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// TestJSONDoubleRoundTrip checks that every double prints as text that parses back to it and
// reads as a double (has '.' or 'e').
func TestJSONDoubleRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 200000 {
		var f float64
		switch i % 3 {
		case 0:
			f = math.Float64frombits(r.Uint64())
		case 1:
			f = float64(r.Int64N(1<<53)) * math.Pow(10, float64(r.IntN(40)-20))
		default:
			f = math.Trunc(r.NormFloat64() * math.Pow(10, float64(r.IntN(20))))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		s := string(jsonAppendDouble(nil, f))
		back, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(back) != math.Float64bits(f) || !strings.ContainsAny(s, ".e") {
			t.Fatalf("%v (%#x) prints as %q", f, math.Float64bits(f), s)
		}
	}
}

func TestJSONDepth(t *testing.T) {
	nest := func(n int) any {
		var v any = int16(1)
		for i := range n {
			v = arr(i%2 == 0, v)
		}
		return v
	}
	got, err := appendJSON(nil, testJSONDoc(nest(jsonMaxDepth)))
	want := strings.Repeat("[", jsonMaxDepth) + "1" + strings.Repeat("]", jsonMaxDepth)
	if err != nil || string(got) != want {
		t.Errorf("depth %d: %q, %v", jsonMaxDepth, got, err)
	}
	if _, err := appendJSON(nil, testJSONDoc(nest(jsonMaxDepth+1))); !errors.Is(err, errBadValue) {
		t.Errorf("depth %d: err = %v", jsonMaxDepth+1, err)
	}
}

func TestJSONErrors(t *testing.T) {
	doc := testJSONDoc(obj(false, "a", int16(1), "b", "x", "cc", arr(true, 1.5, nil, true, int32(-7),
		jOpaque{12, packedDatetime(2000, 2, 29, 0, 0, 0, 0)}, jOpaque{246, []byte{1, 0, 0x85}}, "s")))
	if _, err := appendJSON(nil, doc); err != nil {
		t.Fatal(err)
	}
	// Every strict prefix of a document is damaged.
	for i := 1; i < len(doc); i++ {
		got, err := appendJSON([]byte("keep"), doc[:i])
		if !errors.Is(err, ErrCorrupt) || string(got) != "keep" {
			t.Errorf("%d of %d bytes: %q, %v", i, len(doc), got, err)
		}
	}
	for _, tt := range []struct{ name, hex string }{
		{"unknown type", "0d 00"},
		{"unknown literal", "04 03"},
		{"NaN", "0b 00 00 00 00 00 00 f8 7f"},
		{"infinity", "0b 00 00 00 00 00 00 f0 ff"},
		{"length of 6 bytes", "0c 80 80 80 80 80 00"},
		{"length over 32 bits", "0c ff ff ff ff 7f"},
		{"string past the end", "0c 05 61 62"},
		{"header bigger than size", "02 02 00 07 00 05 01 00 05 02 00"},
		{"size bigger than data", "02 01 00 09 00 05 01 00"},
		{"value offset inside the header", "02 01 00 08 00 0c 04 00 00"},
		{"value offset past size", "02 01 00 08 00 0c 09 00 00"},
		{"key offset inside the header", "00 01 00 0c 00 0a 00 01 00 05 01 00 61"},
		{"key past size", "00 01 00 0c 00 0b 00 02 00 05 01 00 61"},
		{"temporal of 7 bytes", "0f 0c 07 00 00 00 00 00 00 00"},
		{"negative datetime", "0f 0c 08 ff ff ff ff ff ff ff ff"},
		{"datetime fraction", "0f 0c 08 40 42 0f 00 00 00 00 01"},
		{"time of MinInt64", "0f 0b 08 00 00 00 00 00 00 00 80"},
		{"year 10000", "0f 0a 08 00 00 00 00 00 00 f4 7e"},
		{"decimal size mismatch", "0f f6 05 04 02 8c 22 00"},
		{"decimal bad digits", "0f f6 03 01 00 8a"},
		{"decimal precision 66", "0f f6 03 42 00 80"},
		{"decimal without header", "0f f6 01 04"},
	} {
		data := mustHex(t, tt.hex)
		got, err := appendJSON([]byte("keep"), data)
		if !errors.Is(err, ErrCorrupt) || string(got) != "keep" {
			t.Errorf("%s (% x): %q, %v", tt.name, data, got, err)
		}
	}
}

// TestJSONSharedValues builds a document whose arrays point both entries at one child, 2^60 leaves
// of text from a few hundred bytes: it must fail fast instead of exhausting memory.
func TestJSONSharedValues(t *testing.T) {
	child := []byte{jsonSmallArray, 0, 0, 4, 0} // []
	tp := byte(jsonSmallArray)
	for range 60 {
		// count 2, size, two entries pointing at the child stored once after them
		b := []byte{2, 0, 0, 0, tp, 10, 0, tp, 10, 0}
		b = append(b, child[1:]...)
		binary.LittleEndian.PutUint16(b[2:], uint16(len(b)))
		child = append([]byte{jsonSmallArray}, b...)
	}
	got, err := appendJSON(nil, child)
	if !errors.Is(err, errBadValue) {
		t.Fatalf("got %d bytes, %v", len(got), err)
	}
}

// randJSON returns a random value for the test encoder; the kinds whose go-mysql text differs
// from the server's (zero temporal values, base64 longer than a line, VAR_STRING opaque) are left
// out so that go-mysql can serve as an oracle.
func randJSON(t testing.TB, r *rand.Rand, depth int) any {
	str := func() string {
		const alphabet = "ab\"\\\n\t\x01/é日😀 "
		rs := []rune(alphabet)
		var s strings.Builder
		for range r.IntN(8) {
			s.WriteRune(rs[r.IntN(len(rs))])
		}
		return s.String()
	}
	k := r.IntN(20)
	if depth >= 4 && k >= 17 {
		k = r.IntN(17)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return int16(r.Uint32())
	case 3:
		return uint16(r.Uint32())
	case 4:
		return int32(r.Uint32())
	case 5:
		return r.Uint32()
	case 6:
		return int64(r.Uint64())
	case 7:
		return r.Uint64()
	case 8:
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			f = r.NormFloat64()
		}
		return f
	case 9:
		return float64(r.IntN(1000)) / 8
	case 10:
		return str()
	case 11:
		return jOpaque{10, packedDatetime(1+r.Int64N(9999), 1+r.Int64N(12), 1+r.Int64N(28), 0, 0, 0, 0)}
	case 12:
		return jOpaque{12, packedDatetime(1+r.Int64N(9999), 1+r.Int64N(12), 1+r.Int64N(28), r.Int64N(24), r.Int64N(60), r.Int64N(60), r.Int64N(1000000))}
	case 13:
		return jOpaque{11, packedTime(r.IntN(2) == 0, 1+r.Int64N(838), r.Int64N(60), r.Int64N(60), r.Int64N(1000000))}
	case 14:
		p := 1 + r.IntN(decMaxPrecision)
		s := r.IntN(min(p, decMaxScale) + 1)
		dec := randDecimal(r, p, s)
		return jOpaque{246, append([]byte{byte(p), byte(s)}, testDecEncode(t, dec, p, s)...)}
	case 15:
		b := make([]byte, r.IntN(58))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return jOpaque{byte([]int{15, 16, 249, 252, 254}[r.IntN(5)]), b}
	case 16:
		return jOpaque{7, packedDatetime(1970+r.Int64N(60), 1+r.Int64N(12), 1+r.Int64N(28), r.Int64N(24), r.Int64N(60), r.Int64N(60), 0)}
	case 17, 18:
		n := r.IntN(6)
		keys := map[string]bool{}
		for len(keys) < n {
			keys[str()] = true
		}
		var sorted []string
		for k := range keys {
			sorted = append(sorted, k)
		}
		// The server stores keys ordered by length, then bytes.
		slices.SortFunc(sorted, func(a, b string) int {
			if len(a) != len(b) {
				return len(a) - len(b)
			}
			return strings.Compare(a, b)
		})
		o := jObject{large: r.IntN(2) == 0, keys: sorted}
		for range sorted {
			o.vals = append(o.vals, randJSON(t, r, depth+1))
		}
		return o
	default:
		a := jArray{large: r.IntN(2) == 0}
		for range r.IntN(6) {
			a.vals = append(a.vals, randJSON(t, r, depth+1))
		}
		return a
	}
}

// jsonTokens splits JSON text into tokens, so that texts compare independent of spacing while
// keeping member order.
func jsonTokens(t *testing.T, s string) []any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var toks []any
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return toks
		}
		if err != nil {
			t.Fatalf("bad JSON %q: %v", s, err)
		}
		toks = append(toks, tok)
	}
}

func sameJSONNumber(a, b json.Number) bool {
	if a == b {
		return true
	}
	if _, err := strconv.ParseInt(string(a), 10, 64); err == nil {
		return false
	}
	if _, err := strconv.ParseUint(string(a), 10, 64); err == nil {
		return false
	}
	fa, erra := a.Float64()
	fb, errb := b.Float64()
	return erra == nil && errb == nil && fa == fb
}

// TestJSONOracle compares with go-mysql's decoder in its MySQL-text mode, token by token.
func TestJSONOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for i := range 1500 {
		v := randJSON(t, r, 0)
		if i%2 == 0 {
			v = arr(r.IntN(2) == 0, v, randJSON(t, r, 1)) // containers more often than not
		}
		doc := testJSONDoc(v)
		got, err := appendJSON(nil, doc)
		if err != nil {
			t.Fatalf("%#v: %v", v, err)
		}
		cell := binary.LittleEndian.AppendUint32(nil, uint32(len(doc)))
		want := oracleCell(t, mysql.MYSQL_TYPE_JSON, []byte{4}, append(cell, doc...))
		gt, wt := jsonTokens(t, string(got)), jsonTokens(t, want)
		same := len(gt) == len(wt)
		for j := 0; same && j < len(gt); j++ {
			if gn, ok := gt[j].(json.Number); ok {
				wn, ok := wt[j].(json.Number)
				same = ok && sameJSONNumber(gn, wn)
			} else {
				same = gt[j] == wt[j]
			}
		}
		if !same {
			t.Fatalf("% x:\n got %s\nwant %s (go-mysql)", doc, got, want)
		}
	}
}

func TestJSONAllocs(t *testing.T) {
	doc := testJSONDoc(obj(true, "a", int16(1), "b", "x\n", "cc", arr(false, 1.5, 1e300, nil, true, int32(-7),
		jOpaque{12, packedDatetime(2000, 2, 29, 1, 2, 3, 4)}, jOpaque{11, packedTime(true, 1, 2, 3, 4)},
		jOpaque{246, []byte{1, 0, 0x85}}, jOpaque{252, make([]byte, 100)}, "s", obj(false, "k", uint64(1)))))
	dst := make([]byte, 0, 1024)
	if a := testing.AllocsPerRun(100, func() {
		if _, err := appendJSON(dst, doc); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("appendJSON allocates %v times", a)
	}
}

// FuzzValues feeds arbitrary bytes to every decoder: none may panic, a success consumes at most
// the bytes given, and dst keeps its contents (and gains nothing on error).
func FuzzValues(f *testing.F) {
	f.Add([]byte{}, uint8(10), uint8(2))
	f.Add(mustHex(f, "7f ff fe f8 5e e0 00 00"), uint8(6), uint8(0))
	f.Add(mustHex(f, "fe f3 ff 7e fb 0f 42 3f"), uint8(65), uint8(30))
	f.Add(testJSONDoc(obj(false, "a", int16(1), "b", "x", "cc", arr(true, 1.5, nil, true, int32(-7),
		jOpaque{12, packedDatetime(2000, 2, 29, 0, 0, 0, 0)}, jOpaque{246, []byte{1, 0, 0x85}}, "s"))), uint8(3), uint8(1))
	f.Add(testJSONDoc(arr(false, obj(true, "k", arr(false)), jOpaque{11, packedTime(true, 1, 2, 3, 4)})), uint8(5), uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, a, b uint8) {
		prefix := []byte("prefix")
		check := func(name string, out []byte, n int, err error) {
			t.Helper()
			if !bytes.HasPrefix(out, prefix) {
				t.Fatalf("%s: dst clobbered: %q", name, out)
			}
			if err != nil {
				if len(out) != len(prefix) || n != 0 {
					t.Fatalf("%s: error %v with %q, n=%d", name, err, out, n)
				}
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%s: error %v does not wrap ErrCorrupt", name, err)
				}
				return
			}
			if n < 0 || n > len(data) {
				t.Fatalf("%s: consumed %d of %d bytes", name, n, len(data))
			}
		}
		dst := func() []byte { return slices.Clone(prefix) }
		p, s := 1+int(a)%decMaxPrecision, int(b)%(decMaxScale+1)
		s = min(s, p)
		out, n, err := appendDecimal(dst(), data, p, s)
		check("decimal", out, n, err)
		out, n, err = appendDecimal(dst(), data, int(a), int(b))
		check("decimal raw", out, n, err)
		fsp := int(a) % 8 // 7 is invalid
		out, n, err = appendTime2(dst(), data, fsp)
		check("time2", out, n, err)
		out, n, err = appendDatetime2(dst(), data, fsp)
		check("datetime2", out, n, err)
		out, n, err = appendTimestamp2(dst(), data, fsp)
		check("timestamp2", out, n, err)
		for name, fn := range map[string]func(dst, data []byte) ([]byte, int, error){
			"timestamp": appendTimestamp, "datetime": appendDatetime, "time": appendTime, "date": appendDate,
		} {
			out, n, err = fn(dst(), data)
			check(name, out, n, err)
		}
		out, err = appendJSON(dst(), data)
		check("json", out, 0, err)
		if err == nil && !json.Valid(out[len(prefix):]) {
			t.Fatalf("json: invalid text %q", out[len(prefix):])
		}
	})
}
