package binlog

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// RowsKind is what a rows event does.
type RowsKind int

const (
	Insert RowsKind = iota + 1
	Update
	Delete
)

func (k RowsKind) String() string {
	switch k {
	case Insert:
		return "insert"
	case Update:
		return "update"
	case Delete:
		return "delete"
	}
	return "rows(" + strconv.Itoa(int(k)) + ")"
}

// Rows is a rows event whose row images are decoded on demand, one row per call to Next, so
// that events of unselected tables cost only their header.
type Rows struct {
	Kind    RowsKind
	TableID uint64
	Table   *TableMap
	Flags   uint16
	// Columns present in the before image (Delete, Update) or after image (Insert); the after
	// image of an Update uses Present2. binlog_row_image=MINIMAL/NOBLOB leave columns out.
	Present1, Present2 []byte

	data    []byte
	off     int // offset of data within the event body, for error positions
	scratch []byte
	before  []Value
	after   []Value
	pre     *predecoded // rows decoded ahead by a Prefetcher, nil otherwise
	partial bool        // PARTIAL_UPDATE_ROWS_EVENT: after images start with value options
}

// Value is one decoded cell.
//
// Text holds canonical text for numbers, temporal values and JSON (decoded into a buffer that
// the next row reuses), and the stored bytes of strings, BLOBs, GEOMETRY and BIT (aliasing the
// event). ENUM and SET keep their index and bit mask in Uint.
type Value struct {
	Kind ValueKind
	Text []byte
	Uint uint64
}

// ValueKind classifies a decoded cell for rendering.
type ValueKind uint8

const (
	ValAbsent   ValueKind = iota // column not in this row image
	ValNull                      // SQL NULL
	ValInt                       // Text: decimal integer, maybe negative
	ValFloat                     // Text: shortest round-trip float/double text; Uint: float64 bits
	ValDecimal                   // Text: exact decimal
	ValTemporal                  // Text: DATE/TIME/DATETIME/TIMESTAMP (UTC) text
	ValYear                      // Text: 0 or 1901..2155
	ValString                    // Text: raw bytes in the column's collation
	ValBinary                    // Text: raw bytes, binary charset (BLOB, BINARY, VARBINARY)
	ValBit                       // Text: big-endian bytes; Uint: value
	ValEnum                      // Uint: 1-based index, 0 for the error value ''
	ValSet                       // Uint: member bit mask
	ValJSON                      // Text: JSON text
	ValGeometry                  // Text: SRID + WKB bytes
	ValVector                    // Text: float32 little-endian bytes
	// ValJSONDiff is a JSON column of a partial update's after image (PARTIAL_UPDATE_ROWS_EVENT,
	// binlog_row_value_options=PARTIAL_JSON): not the document but the changes to make to the
	// before image's one, in order. Only the after image of an Update holds it. Text is an
	// encoding that NextJSONDiff reads.
	ValJSONDiff
)

// rowsIDSize is the width of a rows event's table id under format f: 4 bytes where f gives
// type t a 6-byte post-header, else 6; false where it gives a length no rows event has.
func rowsIDSize(t replication.EventType, f *format) (int, bool) {
	switch f.postHeaderLen(t) {
	case 6:
		return 4, true
	case -1, 8, 10:
		return 6, true
	}
	return 0, false
}

// rowsTableID returns the table id of a rows event body, without decoding the rest; false for
// an event that is no rows event or too short to say.
func rowsTableID(t replication.EventType, body []byte, f *format) (uint64, bool) {
	switch t {
	case replication.WRITE_ROWS_EVENTv0, replication.UPDATE_ROWS_EVENTv0, replication.DELETE_ROWS_EVENTv0,
		replication.WRITE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv1, replication.DELETE_ROWS_EVENTv1,
		replication.WRITE_ROWS_EVENTv2, replication.UPDATE_ROWS_EVENTv2, replication.DELETE_ROWS_EVENTv2,
		replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1, replication.MARIADB_UPDATE_ROWS_COMPRESSED_EVENT_V1,
		replication.MARIADB_DELETE_ROWS_COMPRESSED_EVENT_V1, replication.PARTIAL_UPDATE_ROWS_EVENT:
	default:
		return 0, false
	}
	idSize, ok := rowsIDSize(t, f)
	if !ok {
		return 0, false // not a rows event in this format: decoding says so
	}
	if len(body) < idSize+2 {
		return 0, false
	}
	var id uint64
	for i := idSize - 1; i >= 0; i-- {
		id = id<<8 | uint64(body[i])
	}
	return id, true
}

func (d *decoder) rows(t replication.EventType, body []byte, f *format) (*Rows, error) {
	r := &Rows{}
	switch t {
	case replication.WRITE_ROWS_EVENTv0, replication.WRITE_ROWS_EVENTv1, replication.WRITE_ROWS_EVENTv2,
		replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1:
		r.Kind = Insert
	case replication.UPDATE_ROWS_EVENTv0, replication.UPDATE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv2,
		replication.MARIADB_UPDATE_ROWS_COMPRESSED_EVENT_V1, replication.PARTIAL_UPDATE_ROWS_EVENT:
		r.Kind = Update
	default:
		r.Kind = Delete
	}
	r.partial = t == replication.PARTIAL_UPDATE_ROWS_EVENT
	idSize, ok := rowsIDSize(t, f)
	if !ok {
		// Every rows event has a table id and flags. A format that gives this type another
		// post-header length does not write rows events of this type (releases give the pre-GA
		// types 20-22 a length of 0, and so does MySQL 9 the v1 types 23-25).
		return nil, fmt.Errorf("%w: event type %d has a %d-byte post-header in this server's format, so it is not a rows event",
			ErrUnsupported, byte(t), f.postHeaderLen(t))
	}
	p := 0
	need := func(n int) error {
		if p+n > len(body) {
			return fmt.Errorf("%w: rows event header cut short at byte %d", ErrCorrupt, p)
		}
		return nil
	}
	if err := need(idSize + 2); err != nil {
		return nil, err
	}
	for i := idSize - 1; i >= 0; i-- {
		r.TableID = r.TableID<<8 | uint64(body[i])
	}
	p += idSize
	r.Flags = binary.LittleEndian.Uint16(body[p:])
	p += 2
	if t >= replication.WRITE_ROWS_EVENTv2 && t <= replication.DELETE_ROWS_EVENTv2 || r.partial {
		if err := need(2); err != nil {
			return nil, err
		}
		extra := int(binary.LittleEndian.Uint16(body[p:]))
		if extra < 2 {
			return nil, fmt.Errorf("%w: rows event extra data length %d", ErrCorrupt, extra)
		}
		if err := need(extra); err != nil {
			return nil, err
		}
		p += extra
	}
	ncols, _, n := mysql.LengthEncodedInt(body[p:])
	if n == 0 || ncols > 4096 {
		return nil, fmt.Errorf("%w: rows event column count", ErrCorrupt)
	}
	p += n
	bm := int(ncols+7) / 8
	if err := need(bm); err != nil {
		return nil, err
	}
	r.Present1 = body[p : p+bm]
	p += bm
	r.Present2 = r.Present1
	if r.Kind == Update && t != replication.UPDATE_ROWS_EVENTv0 {
		if err := need(bm); err != nil {
			return nil, err
		}
		r.Present2 = body[p : p+bm]
		p += bm
	}
	tm, ok := d.tables[r.TableID]
	if !ok {
		return nil, fmt.Errorf("table id %d: %w", r.TableID, ErrNoTableMap)
	}
	if len(tm.Columns) != int(ncols) {
		return nil, fmt.Errorf("%w: rows event for %s has %d columns, its table map %d", ErrCorrupt, tm, ncols, len(tm.Columns))
	}
	r.Table = tm
	r.data = body[p:]
	r.off = p
	if t >= replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1 && t <= replication.MARIADB_DELETE_ROWS_COMPRESSED_EVENT_V1 {
		data, err := mysql.DecompressMariadbData(r.data)
		if err != nil {
			return nil, fmt.Errorf("%w: compressed rows event: %v", ErrCorrupt, err)
		}
		r.data = data
	}
	return r, nil
}

// More reports whether rows remain.
func (r *Rows) More() bool {
	if r.pre != nil {
		return r.pre.more()
	}
	return len(r.data) > 0
}

// Next decodes the next row: the before image (Update, Delete) and the after image (Insert,
// Update), one Value per table column, ValAbsent for columns the image leaves out. The slices
// and the bytes they point to are valid until the next call to Next.
func (r *Rows) Next() (before, after []Value, err error) {
	if r.pre != nil {
		return r.pre.row()
	}
	n := len(r.Table.Columns)
	if cap(r.before) < n {
		r.before, r.after = make([]Value, n), make([]Value, n)
	}
	r.before, r.after = r.before[:n], r.after[:n]
	r.scratch = r.scratch[:0]
	return r.decodeRow(r.before, r.after)
}

// decodeRow decodes the next row into before and after (one Value per column; only those the
// kind has are used), appending the text it decodes to r.scratch.
func (r *Rows) decodeRow(before, after []Value) ([]Value, []Value, error) {
	left := len(r.data)
	var err error
	switch r.Kind {
	case Insert:
		before, err = nil, r.image(after, r.Present1, nil)
	case Delete:
		after, err = nil, r.image(before, r.Present1, nil)
	default:
		if err = r.image(before, r.Present1, nil); err != nil {
			return nil, nil, err
		}
		var partial []byte
		if r.partial {
			if partial, err = r.valueOptions(); err != nil {
				return nil, nil, err
			}
		}
		err = r.image(after, r.Present2, partial)
	}
	if err == nil && len(r.data) == left {
		// An image without columns takes no bytes, so the bytes left could never be read:
		// More would stay true forever.
		return nil, nil, fmt.Errorf("%w: row image of %s holds no columns, %d bytes left", ErrCorrupt, r.Table, left)
	}
	return before, after, err
}

// valueOptions reads what a PARTIAL_UPDATE_ROWS_EVENT writes before each after image
// (Rows_log_event::write_row() in sql/log_event.cc): binlog_row_value_options as a packed
// integer and, when PARTIAL_JSON is set in it, a bitmap with one bit per JSON column of the
// table, present in the image or not, that says which of them hold diffs. It returns the bitmap,
// nil when no column is partial.
func (r *Rows) valueOptions() ([]byte, error) {
	opts, _, n := mysql.LengthEncodedInt(r.data)
	if n == 0 || n > len(r.data) {
		return nil, fmt.Errorf("%w: partial update row of %s: value options cut short", ErrCorrupt, r.Table)
	}
	r.data = r.data[n:]
	const partialJSON = 1
	if opts&^partialJSON != 0 {
		return nil, fmt.Errorf("%w: partial update row of %s: value options %#x", ErrUnsupported, r.Table, opts)
	}
	if opts&partialJSON == 0 {
		return nil, nil
	}
	nj := 0
	for i := range r.Table.Columns {
		if r.Table.Columns[i].Type == mysql.MYSQL_TYPE_JSON {
			nj++
		}
	}
	nb := (nj + 7) / 8
	if len(r.data) < nb {
		return nil, fmt.Errorf("%w: partial update row of %s: partial JSON bitmap cut short", ErrCorrupt, r.Table)
	}
	bm := r.data[:nb]
	r.data = r.data[nb:]
	return bm, nil
}

func bit(bm []byte, i int) bool { return bm[i>>3]&(1<<(uint(i)&7)) != 0 }

// image decodes one row image. partial, when not nil, flags the JSON columns (counted among the
// table's JSON columns only) whose value is a diff vector rather than a document.
func (r *Rows) image(vals []Value, present, partial []byte) error {
	cols := r.Table.Columns
	np := 0
	for i := range cols {
		if bit(present, i) {
			np++
		}
	}
	nb := (np + 7) / 8
	if len(r.data) < nb {
		return fmt.Errorf("%w: row image of %s cut short", ErrCorrupt, r.Table)
	}
	nulls := r.data[:nb]
	data := r.data[nb:]
	k, nj := 0, 0
	for i := range cols {
		isDiff := false
		if partial != nil && cols[i].Type == mysql.MYSQL_TYPE_JSON {
			isDiff = bit(partial, nj)
			nj++
		}
		if !bit(present, i) {
			vals[i] = Value{Kind: ValAbsent}
			continue
		}
		isNull := bit(nulls, k)
		k++
		if isNull {
			if !cols[i].Nullable {
				// The table map says the column is NOT NULL; without a checksum a flipped
				// null bit or column bitmap shows only here.
				name := cols[i].Name
				if name == "" {
					name = "#" + strconv.Itoa(i+1)
				}
				return fmt.Errorf("%w: row image of %s: NULL in NOT NULL column %s", ErrCorrupt, r.Table, name)
			}
			vals[i] = Value{Kind: ValNull}
			continue
		}
		var v Value
		var n int
		var err error
		if isDiff {
			v, n, err = r.jsonDiffs(&cols[i], data)
		} else {
			v, n, err = r.value(&cols[i], data)
		}
		if err != nil {
			name := cols[i].Name
			if name == "" {
				name = "#" + strconv.Itoa(i+1)
			}
			return fmt.Errorf("%s column %s: %w", r.Table, name, err)
		}
		vals[i] = v
		data = data[n:]
	}
	r.data = data
	return nil
}

func (r *Rows) value(c *Column, data []byte) (Value, int, error) {
	short := func(n int) error {
		if len(data) < n {
			return fmt.Errorf("%w: value needs %d bytes, %d left", ErrCorrupt, n, len(data))
		}
		return nil
	}
	intVal := func(size int) (Value, int, error) {
		if err := short(size); err != nil {
			return Value{}, 0, err
		}
		var u uint64
		for i := size - 1; i >= 0; i-- {
			u = u<<8 | uint64(data[i])
		}
		start := len(r.scratch)
		if c.Unsigned {
			r.scratch = strconv.AppendUint(r.scratch, u, 10)
		} else {
			shift := 64 - 8*uint(size)
			r.scratch = strconv.AppendInt(r.scratch, int64(u<<shift)>>shift, 10)
		}
		return Value{Kind: ValInt, Text: r.scratch[start:]}, size, nil
	}
	text := func(kind ValueKind, fn func([]byte, []byte) ([]byte, int, error)) (Value, int, error) {
		start := len(r.scratch)
		out, n, err := fn(r.scratch, data)
		if err != nil {
			return Value{}, 0, err
		}
		r.scratch = out
		return Value{Kind: kind, Text: r.scratch[start:]}, n, nil
	}
	lenPrefixed := func(width int) ([]byte, int, error) {
		if err := short(width); err != nil {
			return nil, 0, err
		}
		var l int
		for i := width - 1; i >= 0; i-- {
			l = l<<8 | int(data[i])
		}
		if err := short(width + l); err != nil {
			return nil, 0, err
		}
		return data[width : width+l], width + l, nil
	}
	switch c.Type {
	case mysql.MYSQL_TYPE_TINY:
		return intVal(1)
	case mysql.MYSQL_TYPE_SHORT:
		return intVal(2)
	case mysql.MYSQL_TYPE_INT24:
		return intVal(3)
	case mysql.MYSQL_TYPE_LONG:
		return intVal(4)
	case mysql.MYSQL_TYPE_LONGLONG:
		return intVal(8)
	case mysql.MYSQL_TYPE_FLOAT:
		if err := short(4); err != nil {
			return Value{}, 0, err
		}
		f := math.Float32frombits(binary.LittleEndian.Uint32(data))
		start := len(r.scratch)
		r.scratch = appendFloat(r.scratch, float64(f), 32)
		return Value{Kind: ValFloat, Text: r.scratch[start:], Uint: math.Float64bits(float64(f))}, 4, nil
	case mysql.MYSQL_TYPE_DOUBLE:
		if err := short(8); err != nil {
			return Value{}, 0, err
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(data))
		start := len(r.scratch)
		r.scratch = appendFloat(r.scratch, f, 64)
		return Value{Kind: ValFloat, Text: r.scratch[start:], Uint: math.Float64bits(f)}, 8, nil
	case mysql.MYSQL_TYPE_NEWDECIMAL:
		return text(ValDecimal, func(dst, b []byte) ([]byte, int, error) { return appendDecimal(dst, b, c.precision, c.scale) })
	case mysql.MYSQL_TYPE_YEAR:
		if err := short(1); err != nil {
			return Value{}, 0, err
		}
		start := len(r.scratch)
		y := int64(data[0])
		if y != 0 {
			y += 1900
		}
		r.scratch = strconv.AppendInt(r.scratch, y, 10)
		return Value{Kind: ValYear, Text: r.scratch[start:]}, 1, nil
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE:
		return text(ValTemporal, appendDate)
	case mysql.MYSQL_TYPE_TIME:
		return text(ValTemporal, appendTime)
	case mysql.MYSQL_TYPE_DATETIME:
		return text(ValTemporal, appendDatetime)
	case mysql.MYSQL_TYPE_TIMESTAMP:
		return text(ValTemporal, appendTimestamp)
	case mysql.MYSQL_TYPE_TIME2:
		return text(ValTemporal, func(dst, b []byte) ([]byte, int, error) { return appendTime2(dst, b, c.fsp) })
	case mysql.MYSQL_TYPE_DATETIME2:
		return text(ValTemporal, func(dst, b []byte) ([]byte, int, error) { return appendDatetime2(dst, b, c.fsp) })
	case mysql.MYSQL_TYPE_TIMESTAMP2:
		return text(ValTemporal, func(dst, b []byte) ([]byte, int, error) { return appendTimestamp2(dst, b, c.fsp) })
	case mysql.MYSQL_TYPE_BIT:
		nb := (c.bits + 7) / 8
		if err := short(nb); err != nil {
			return Value{}, 0, err
		}
		var u uint64
		for _, b := range data[:nb] {
			u = u<<8 | uint64(b)
		}
		return Value{Kind: ValBit, Text: data[:nb], Uint: u}, nb, nil
	case mysql.MYSQL_TYPE_ENUM, mysql.MYSQL_TYPE_SET:
		if err := short(c.lenBytes); err != nil {
			return Value{}, 0, err
		}
		var u uint64
		for i := c.lenBytes - 1; i >= 0; i-- {
			u = u<<8 | uint64(data[i])
		}
		k := ValEnum
		if c.Type == mysql.MYSQL_TYPE_SET {
			k = ValSet
		}
		if c.membersLogged {
			// Index 0 is the '' a non-strict server stores for an invalid value.
			if k == ValEnum && u > uint64(len(c.Enum)) {
				return Value{}, 0, fmt.Errorf("%w: ENUM index %d in a column of %d members", ErrCorrupt, u, len(c.Enum))
			}
			if k == ValSet && len(c.Set) < 64 && u>>uint(len(c.Set)) != 0 {
				return Value{}, 0, fmt.Errorf("%w: SET bits %#x in a column of %d members", ErrCorrupt, u, len(c.Set))
			}
		}
		return Value{Kind: k, Uint: u}, c.lenBytes, nil
	case mysql.MYSQL_TYPE_STRING, mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING:
		b, n, err := lenPrefixed(c.lenBytes)
		if err != nil {
			return Value{}, 0, err
		}
		if c.maxLen > 0 && len(b) > c.maxLen {
			// The table map's length is the column's in bytes: a longer value is a flipped
			// length byte that happened to fit in the event.
			return Value{}, 0, fmt.Errorf("%w: %d bytes in a column of at most %d", ErrCorrupt, len(b), c.maxLen)
		}
		k := ValString
		if c.Collation == 63 {
			k = ValBinary
		}
		return Value{Kind: k, Text: b}, n, nil
	case mysql.MYSQL_TYPE_BLOB:
		b, n, err := lenPrefixed(c.lenBytes)
		if err != nil {
			return Value{}, 0, err
		}
		k := ValBinary
		if c.Collation != 0 && c.Collation != 63 {
			k = ValString
		}
		return Value{Kind: k, Text: b}, n, nil
	case mysql.MYSQL_TYPE_GEOMETRY:
		b, n, err := lenPrefixed(c.lenBytes)
		return Value{Kind: ValGeometry, Text: b}, n, err
	case mysql.MYSQL_TYPE_VECTOR:
		b, n, err := lenPrefixed(c.lenBytes)
		return Value{Kind: ValVector, Text: b}, n, err
	case mysql.MYSQL_TYPE_JSON:
		b, n, err := lenPrefixed(c.lenBytes)
		if err != nil {
			return Value{}, 0, err
		}
		start := len(r.scratch)
		out, err := appendJSON(r.scratch, b)
		if err != nil {
			return Value{}, 0, fmt.Errorf("json: %w", err)
		}
		r.scratch = out
		return Value{Kind: ValJSON, Text: r.scratch[start:]}, n, nil
	case mysql.MYSQL_TYPE_NULL:
		return Value{Kind: ValNull}, 0, nil
	}
	return Value{}, 0, fmt.Errorf("%w: column type %d", ErrUnsupported, c.Type)
}

// appendFloat writes the shortest text that parses back to the same float32/float64. A server
// reads a FLOAT literal as a double first and then narrows it, so the float32 text must survive
// that too: near the limits the shortest float32 text is beyond FLT_MAX as a double
// (-3.4028235e+38), which a strict session refuses as out of range. Such values get the text of
// their exact double, which the server narrows to the same float.
func appendFloat(dst []byte, f float64, bits int) []byte {
	if bits == 32 {
		n := len(dst)
		dst = strconv.AppendFloat(dst, f, 'g', -1, 32)
		if d, err := strconv.ParseFloat(string(dst[n:]), 64); err == nil && math.Abs(d) <= math.MaxFloat32 && float32(d) == float32(f) {
			return dst
		}
		dst = dst[:n]
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}
