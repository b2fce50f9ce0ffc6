package binlog

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// mustHex decodes a hex string that may contain spaces.
func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// testDecEncode is decimal2bin() for a decimal string, written from the format description
// (strings/decimal.cc) without using the decoder's tables.
func testDecEncode(t testing.TB, s string, precision, scale int) []byte {
	t.Helper()
	digitBytes := [10]int{0, 1, 1, 2, 2, 3, 3, 4, 4, 4}
	neg := strings.HasPrefix(s, "-")
	ip, fp, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	ip = strings.TrimLeft(ip, "0")
	intg := precision - scale
	if len(ip) > intg || len(fp) > scale {
		t.Fatalf("%s does not fit decimal(%d,%d)", s, precision, scale)
	}
	ip = strings.Repeat("0", intg-len(ip)) + ip
	fp += strings.Repeat("0", scale-len(fp))
	var out []byte
	put := func(digits string) {
		v, err := strconv.ParseUint(digits, 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		n := digitBytes[len(digits)]
		for i := n - 1; i >= 0; i-- {
			out = append(out, byte(v>>(8*i)))
		}
	}
	if lead := intg % 9; lead > 0 {
		put(ip[:lead])
	}
	for i := intg % 9; i < intg; i += 9 {
		put(ip[i : i+9])
	}
	for i := 0; i+9 <= scale; i += 9 {
		put(fp[i : i+9])
	}
	if trail := scale % 9; trail > 0 {
		put(fp[scale-trail:])
	}
	if neg {
		for i := range out {
			out[i] ^= 0xff
		}
	}
	out[0] ^= 0x80
	return out
}

func TestDecimalVectors(t *testing.T) {
	nines := func(n int) string { return strings.Repeat("9", n) }
	tests := []struct {
		p, s int
		hex  string
		want string
	}{
		// Hand-computed from decimal2bin(): groups big-endian, negatives inverted, top bit flipped.
		{10, 2, "80 00 00 00 00", "0.00"},
		{10, 2, "7f ff ff ff cd", "-0.50"},
		{10, 2, "80 bc 61 4e 5a", "12345678.90"},
		{10, 2, "7f 43 9e b1 a5", "-12345678.90"},
		{10, 0, "80 00 00 00 00", "0"},
		{10, 0, "7e f2 04 c7 2d", "-1234567890"},
		{10, 0, "81 0d fb 38 d2", "1234567890"},
		{10, 0, "7f ff ff ff fe", "-1"},
		{1, 0, "85", "5"},
		{1, 0, "7a", "-5"},
		{1, 1, "85", "0.5"},
		{5, 5, "80 30 39", "0.12345"},
		{9, 0, "bb 9a c9 ff", nines(9)},
		{18, 9, "80 00 00 01 00 00 00 01", "1.000000001"},
		{18, 9, "7f ff ff fe ff ff ff fe", "-1.000000001"},
		{20, 10, "80 00 00 00 01 00 00 00 00 00", "1.0000000000"},
		// DECIMAL(65,30): a leading group of 8 digits in 4 bytes, 3 words, then 3 fraction words and
		// a 3-digit group in 2 bytes: 30 bytes.
		{65, 30, "85 f5 e0 ff" + strings.Repeat(" 3b 9a c9 ff", 6) + " 03 e7", nines(35) + "." + nines(30)},
		{65, 30, "7a 0a 1f 00" + strings.Repeat(" c4 65 36 00", 6) + " fc 18", "-" + nines(35) + "." + nines(30)},
		{65, 30, "80 00 00 00" + strings.Repeat(" 00 00 00 00", 6) + " 00 01", "0." + strings.Repeat("0", 29) + "1"},
		{65, 0, "80" + strings.Repeat(" 00 00 00 00", 6) + " 00 00 00 01", "1"},
		// MariaDB allows 38 fraction digits: 4 words and a 2-digit group in 1 byte.
		{65, 38, "bb 9a c9 ff" + strings.Repeat(" 3b 9a c9 ff", 6) + " 63", nines(27) + "." + nines(38)},
		{65, 0, "81" + strings.Repeat(" 00 00 00 00", 7), "1" + strings.Repeat("0", 63)},
		// A negative zero keeps its sign when there is a fraction, and loses it without one
		// (bin2decimal() calls decimal_make_zero() for a digitless number).
		{10, 2, "7f ff ff ff ff", "-0.00"},
		{10, 0, "7f ff ff ff ff", "0"},
	}
	for _, tt := range tests {
		data := mustHex(t, tt.hex)
		// Trailing bytes belong to the next column and must not be consumed.
		got, n, err := appendDecimal([]byte("x"), append(data, 0xAA, 0xBB), tt.p, tt.s)
		if err != nil {
			t.Errorf("decimal(%d,%d) %s: %v", tt.p, tt.s, tt.hex, err)
			continue
		}
		if string(got) != "x"+tt.want || n != len(data) || n != decimalBinSize(tt.p, tt.s) {
			t.Errorf("decimal(%d,%d) %s = %q, %d; want %q, %d", tt.p, tt.s, tt.hex, got, n, "x"+tt.want, len(data))
		}
		if tt.want != "-0.00" && tt.want != "0" || tt.hex == "80 00 00 00 00" {
			if enc := testDecEncode(t, tt.want, tt.p, tt.s); string(enc) != string(data) {
				t.Errorf("decimal(%d,%d) %s: test encoder gives % x", tt.p, tt.s, tt.want, enc)
			}
		}
	}
}

func TestDecimalBinSize(t *testing.T) {
	for _, tt := range []struct{ p, s, want int }{
		{1, 0, 1}, {2, 0, 1}, {3, 0, 2}, {9, 0, 4}, {10, 0, 5}, {10, 2, 5}, {18, 9, 8},
		{65, 30, 30}, {65, 0, 29}, {30, 30, 14}, {40, 31, 18}, {65, 38, 29},
		{0, 0, 0}, {66, 0, 0}, {45, 39, 0}, {5, 6, 0}, {5, -1, 0},
	} {
		if got := decimalBinSize(tt.p, tt.s); got != tt.want {
			t.Errorf("decimalBinSize(%d,%d) = %d, want %d", tt.p, tt.s, got, tt.want)
		}
	}
}

func TestDecimalErrors(t *testing.T) {
	good := testDecEncode(t, "-"+strings.Repeat("9", 35)+"."+strings.Repeat("9", 30), 65, 30)
	for i := range len(good) {
		if _, _, err := appendDecimal(nil, good[:i], 65, 30); !errors.Is(err, errShortValue) || !errors.Is(err, ErrCorrupt) {
			t.Errorf("%d of 30 bytes: err = %v", i, err)
		}
	}
	for _, ps := range [][2]int{{0, 0}, {66, 0}, {45, 39}, {5, 6}, {-1, 0}, {10, -2}} {
		if _, _, err := appendDecimal(nil, good, ps[0], ps[1]); !errors.Is(err, errBadValue) {
			t.Errorf("decimal(%d,%d): err = %v", ps[0], ps[1], err)
		}
	}
	for _, tt := range []struct {
		p, s int
		hex  string
	}{
		{9, 0, "ff ff ff ff"},              // a 9-digit word above 999999999
		{9, 0, "bb 9a ca 00"},              // exactly 1000000000
		{1, 0, "8a"},                       // 10 in a 1-digit group
		{2, 2, "e4"},                       // 100 in a 2-digit fraction group
		{10, 1, "80 00 00 00 0a"},          // 10 in a 1-digit fraction group
		{18, 9, "80 00 00 00 bb 9a ca 00"}, // fraction word 1000000000
		{10, 2, "70 00 00 00 00"},          // negative with an out-of-range leading group
	} {
		dst := []byte("keep")
		got, n, err := appendDecimal(dst, mustHex(t, tt.hex), tt.p, tt.s)
		if !errors.Is(err, errBadValue) || string(got) != "keep" || n != 0 {
			t.Errorf("decimal(%d,%d) %s = %q, %d, %v; want errBadValue", tt.p, tt.s, tt.hex, got, n, err)
		}
	}
}

// randDecimal returns a random value of DECIMAL(p,s) in canonical text.
func randDecimal(r *rand.Rand, p, s int) string {
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		return string(b)
	}
	ip := strings.TrimLeft(digits(r.IntN(p-s+1)), "0")
	if r.IntN(4) == 0 && p > s {
		ip = "9" + digits(p-s-1) // every integer digit in use
	}
	if ip == "" {
		ip = "0"
	}
	v := ip
	if s > 0 {
		v += "." + digits(s)
	}
	if r.IntN(2) == 0 && strings.Trim(v, "0.") != "" {
		v = "-" + v
	}
	return v
}

func TestDecimalRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for p := 1; p <= decMaxPrecision; p++ {
		for s := 0; s <= min(p, decMaxScale); s++ {
			for range 20 {
				want := randDecimal(r, p, s)
				data := testDecEncode(t, want, p, s)
				got, n, err := appendDecimal(nil, data, p, s)
				if err != nil || string(got) != want || n != len(data) {
					t.Fatalf("decimal(%d,%d) %s (% x) = %q, %d, %v", p, s, want, data, got, n, err)
				}
			}
		}
	}
}

// TestDecimalOracle compares with go-mysql's decoder, fed through its public event parser.
func TestDecimalOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 400 {
		p := 1 + r.IntN(decMaxPrecision)
		s := r.IntN(min(p, decMaxScale) + 1)
		v := randDecimal(r, p, s)
		data := testDecEncode(t, v, p, s)
		want := oracleCell(t, mysql.MYSQL_TYPE_NEWDECIMAL, []byte{byte(p), byte(s)}, data)
		got, _, err := appendDecimal(nil, data, p, s)
		if err != nil || string(got) != want {
			t.Errorf("decimal(%d,%d) % x = %q, %v; go-mysql says %q", p, s, data, got, err, want)
		}
	}
}

func TestDecimalAllocs(t *testing.T) {
	data := testDecEncode(t, "-"+strings.Repeat("9", 35)+"."+strings.Repeat("9", 30), 65, 30)
	dst := make([]byte, 0, 128)
	if a := testing.AllocsPerRun(100, func() { _, _, _ = appendDecimal(dst, data, 65, 30) }); a != 0 {
		t.Errorf("appendDecimal allocates %v times", a)
	}
}

// oracleCell decodes one cell with go-mysql: it frames a format description, a table map with one
// nullable column of type colType and metadata meta, and a WRITE_ROWS_EVENTv2 holding cell, and
// returns go-mysql's value rendered as a string.
func oracleCell(t testing.TB, colType byte, meta, cell []byte) string {
	t.Helper()
	event := func(typ replication.EventType, body []byte) []byte {
		h := make([]byte, 19, 19+len(body))
		h[4] = byte(typ)
		binary.LittleEndian.PutUint32(h[5:], 1)
		binary.LittleEndian.PutUint32(h[9:], uint32(19+len(body)))
		return append(h, body...)
	}
	p := replication.NewBinlogParser()
	p.SetTimestampStringLocation(time.UTC)
	p.SetRenderJSONAsMySQLText(true)

	fde := make([]byte, 2+50+4+1, 100)
	fde[0] = 4
	copy(fde[2:], "5.0.99-oracle") // before checksums, so no checksum trailer
	fde[56] = 19
	postHeader := make([]byte, 40)
	postHeader[replication.TABLE_MAP_EVENT-1] = 8
	postHeader[replication.WRITE_ROWS_EVENTv2-1] = 10
	fde = append(fde, postHeader...)

	tm := []byte{1, 0, 0, 0, 0, 0, 0, 0, 2, 'd', 'b', 0, 1, 't', 0, 1, colType, byte(len(meta))}
	tm = append(tm, meta...)
	tm = append(tm, 1) // nullable

	rows := []byte{1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 1, 0}
	rows = append(rows, cell...)

	var last *replication.BinlogEvent
	for _, ev := range [][]byte{
		event(replication.FORMAT_DESCRIPTION_EVENT, fde),
		event(replication.TABLE_MAP_EVENT, tm),
		event(replication.WRITE_ROWS_EVENTv2, rows),
	} {
		var err error
		if last, err = p.Parse(ev); err != nil {
			t.Fatalf("go-mysql: %v", err)
		}
	}
	re, ok := last.Event.(*replication.RowsEvent)
	if !ok || len(re.Rows) != 1 || len(re.Rows[0]) != 1 {
		t.Fatalf("go-mysql: unexpected event %#v", last.Event)
	}
	switch v := re.Rows[0][0].(type) {
	case string:
		return v
	case []byte:
		return string(v)
	default:
		t.Fatalf("go-mysql: value %#v of type %T", v, v)
		return ""
	}
}
