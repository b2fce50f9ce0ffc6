package binlog

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/pitr-tool/pitr/pkg/binlog/collation"
)

// TableMap describes the columns of a table as a Table_map event gives them. What it knows
// beyond types depends on binlog_row_metadata: MINIMAL gives signedness and charsets, FULL adds
// names, ENUM/SET values and the primary key.
type TableMap struct {
	ID         uint64
	Schema     string
	Table      string
	Columns    []Column
	HasNames   bool  // binlog_row_metadata=FULL
	PrimaryKey []int // column indexes, empty if none or unknown
	// MariaDB says which server wrote the map, and so whose collation ids it holds.
	MariaDB bool

	raw []byte // the event body, to reuse this decoding when the same map comes again
}

// Column is one column of a TableMap.
type Column struct {
	Name      string
	Type      byte   // real type: ENUM and SET are resolved from MYSQL_TYPE_STRING
	Meta      uint16 // type metadata as go-mysql decodes it
	Unsigned  bool
	SignKnown bool // the map carried signedness (MySQL 8.0.1+, MariaDB 10.5+)
	Nullable  bool
	Collation uint64 // character and ENUM/SET columns; 0 when the map does not say
	// Charset is the character set of a character or ENUM/SET column ("utf8mb3" for utf8,
	// "binary" for binary strings): from Collation read with the ids of the server that wrote
	// the map, or from a schema; "" when neither says.
	Charset   string
	Enum      [][]byte
	Set       [][]byte
	Invisible bool
	Generated bool // from a schema source: the server computes the value, so SQL leaves it out
	// RowStart and RowEnd mark a system-versioned table's period columns (MariaDB WITH SYSTEM
	// VERSIONING, implicit row_start/row_end or an explicit PERIOD FOR SYSTEM_TIME); from a
	// schema source, as no table map says so.
	RowStart, RowEnd bool

	// Derived for decoding.
	fsp       int // TIME2/DATETIME2/TIMESTAMP2
	lenBytes  int // length-prefix width of VARCHAR/CHAR/BLOB/JSON/GEOMETRY, fixed width of ENUM/SET
	maxLen    int // CHAR/BINARY declared length in bytes
	precision int // DECIMAL
	scale     int
	bits      int // BIT
	// membersLogged: Enum or Set came from the table map itself (binlog_row_metadata=FULL), so
	// a value past the members is corruption; from a schema, which may be older, it is not said.
	membersLogged bool
}

// FixedLen is the declared length in bytes of a CHAR or BINARY column (MYSQL_TYPE_STRING, which
// also carries MariaDB's UUID, INET4 and INET6), 0 for other types. Row images store these
// values without their trailing pad bytes (spaces, or 0x00 for binary ones); the table map keeps
// the length, whatever binlog_row_metadata is.
func (c *Column) FixedLen() int {
	if c.Type != mysql.MYSQL_TYPE_STRING {
		return 0
	}
	// From the metadata rather than derive's maxLen, so that a Column built by hand knows it too.
	b0, b1 := byte(c.Meta>>8), byte(c.Meta)
	if b0&0x30 != 0x30 {
		return int(b1) | int((b0&0x30)^0x30)<<4
	}
	return int(b1)
}

// QualifiedName is `db`.`table` in the quoting the SQL output uses.
func (t *TableMap) String() string { return t.Schema + "." + t.Table }

func (d *decoder) tableMap(raw, body []byte) (*TableMap, error) {
	idSize := 6
	if d.fmt.postHeaderLen(replication.TABLE_MAP_EVENT) == 6 {
		idSize = 4 // MySQL 5.1.x before 5.1.4
	}
	if len(body) < idSize {
		return nil, fmt.Errorf("%w: table map event of %d bytes", ErrCorrupt, len(body))
	}
	id := uint64(0)
	for i := idSize - 1; i >= 0; i-- {
		id = id<<8 | uint64(body[i])
	}
	if old, ok := d.tables[id]; ok && bytes.Equal(old.raw, body) {
		return old, nil
	}
	if d.inner && d.fmt.checksum {
		// go-mysql strips the checksum its format says events carry; inner events carry none,
		// so give it four bytes to strip, and a header size that counts them.
		raw = append(raw[:len(raw):len(raw)], 0, 0, 0, 0)
		binary.LittleEndian.PutUint32(raw[9:], uint32(len(raw)))
	}
	be, err := d.parser.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: table map: %v", ErrCorrupt, err)
	}
	e, ok := be.Event.(*replication.TableMapEvent)
	if !ok {
		return nil, fmt.Errorf("%w: table map decoded as %T", ErrCorrupt, be.Event)
	}
	tm, err := newTableMap(e, d.fmt.mariaDB)
	if err != nil {
		return nil, err
	}
	tm.raw = append([]byte(nil), body...)
	d.tables[id] = tm
	return tm, nil
}

func newTableMap(e *replication.TableMapEvent, mariaDB bool) (*TableMap, error) {
	n := int(e.ColumnCount)
	if len(e.ColumnType) != n || len(e.ColumnMeta) != n {
		return nil, fmt.Errorf("%w: table map column count %d", ErrCorrupt, n)
	}
	tm := &TableMap{ID: e.TableID, Schema: string(e.Schema), Table: string(e.Table), Columns: make([]Column, n), MariaDB: mariaDB}
	flavor := collation.MySQL
	if mariaDB {
		flavor = collation.MariaDB
	}
	names := e.ColumnNameString()
	tm.HasNames = len(names) == n
	unsigned := e.UnsignedMap()
	coll := e.CollationMap()
	esColl := e.EnumSetCollationMap()
	visible := e.VisibilityMap()
	var enums, sets [][][]byte
	enums, sets = e.EnumStrValue, e.SetStrValue
	ei, si := 0, 0
	for i := 0; i < n; i++ {
		c := &tm.Columns[i]
		c.Type, c.Meta = e.ColumnType[i], e.ColumnMeta[i]
		if tm.HasNames {
			c.Name = names[i]
		}
		if unsigned != nil {
			c.Unsigned, c.SignKnown = unsigned[i], true
		}
		_, c.Nullable = e.Nullable(i)
		if v, ok := coll[i]; ok {
			c.Collation = v
		}
		if v, ok := esColl[i]; ok {
			c.Collation = v
		}
		if c.Collation != 0 && c.Collation < 1<<16 {
			if co, ok := collation.ByID(flavor, int(c.Collation)); ok {
				c.Charset = co.Charset
			}
		}
		if v, ok := visible[i]; ok {
			c.Invisible = !v
		}
		if err := c.derive(); err != nil {
			return nil, fmt.Errorf("table %s.%s column %d: %w", tm.Schema, tm.Table, i+1, err)
		}
		switch c.Type {
		case mysql.MYSQL_TYPE_ENUM:
			if ei < len(enums) {
				c.Enum = copyAll(enums[ei])
				c.membersLogged = true
			}
			ei++
		case mysql.MYSQL_TYPE_SET:
			if si < len(sets) {
				c.Set = copyAll(sets[si])
				c.membersLogged = true
			}
			si++
		}
	}
	for _, k := range e.PrimaryKey {
		if int(k) >= n {
			return nil, fmt.Errorf("%w: primary key column %d of %d", ErrCorrupt, k, n)
		}
		tm.PrimaryKey = append(tm.PrimaryKey, int(k))
	}
	return tm, nil
}

func copyAll(v [][]byte) [][]byte {
	out := make([][]byte, len(v))
	for i, b := range v {
		out[i] = append([]byte(nil), b...)
	}
	return out
}

// derive works out from type and metadata how a value of the column is laid out in a row image.
func (c *Column) derive() error {
	switch c.Type {
	case mysql.MYSQL_TYPE_STRING:
		b0, b1 := byte(c.Meta>>8), byte(c.Meta)
		// CHAR longer than 255 bytes borrows two bits of the real-type byte for its length.
		if b0&0x30 != 0x30 {
			c.maxLen = int(b1) | int((b0&0x30)^0x30)<<4
			b0 |= 0x30
		} else {
			c.maxLen = int(b1)
		}
		switch b0 {
		case mysql.MYSQL_TYPE_ENUM, mysql.MYSQL_TYPE_SET:
			c.Type = b0
			c.lenBytes = int(b1)
			if c.Type == mysql.MYSQL_TYPE_ENUM && c.lenBytes != 1 && c.lenBytes != 2 ||
				c.Type == mysql.MYSQL_TYPE_SET && (c.lenBytes < 1 || c.lenBytes > 8) {
				return fmt.Errorf("%w: ENUM/SET of %d bytes", ErrCorrupt, c.lenBytes)
			}
		case mysql.MYSQL_TYPE_STRING:
			c.lenBytes = 1
			if c.maxLen > 255 {
				c.lenBytes = 2
			}
		default:
			return fmt.Errorf("%w: CHAR column with real type %d", ErrUnsupported, b0)
		}
	case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING:
		c.maxLen = int(c.Meta)
		c.lenBytes = 1
		if c.maxLen > 255 {
			c.lenBytes = 2
		}
	case mysql.MYSQL_TYPE_BLOB, mysql.MYSQL_TYPE_GEOMETRY, mysql.MYSQL_TYPE_JSON, mysql.MYSQL_TYPE_VECTOR:
		c.lenBytes = int(c.Meta)
		if c.lenBytes < 1 || c.lenBytes > 4 {
			return fmt.Errorf("%w: blob length prefix of %d bytes", ErrCorrupt, c.lenBytes)
		}
	case mysql.MYSQL_TYPE_NEWDECIMAL:
		c.precision, c.scale = int(c.Meta>>8), int(c.Meta&0xff)
		if c.precision < 1 || c.precision > 65 || c.scale > 38 || c.scale > c.precision { // MariaDB allows scale 38
			return fmt.Errorf("%w: DECIMAL(%d,%d)", ErrCorrupt, c.precision, c.scale)
		}
	case mysql.MYSQL_TYPE_TIME2, mysql.MYSQL_TYPE_DATETIME2, mysql.MYSQL_TYPE_TIMESTAMP2:
		c.fsp = int(c.Meta)
		if c.fsp > 6 {
			return fmt.Errorf("%w: fractional seconds precision %d", ErrCorrupt, c.fsp)
		}
	case mysql.MYSQL_TYPE_BIT:
		c.bits = int(c.Meta>>8)*8 + int(c.Meta&0xff)
		if c.bits < 1 || c.bits > 64 {
			return fmt.Errorf("%w: BIT(%d)", ErrCorrupt, c.bits)
		}
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_LONG,
		mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_FLOAT, mysql.MYSQL_TYPE_DOUBLE, mysql.MYSQL_TYPE_YEAR,
		mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE, mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_DATETIME,
		mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_NULL:
	case mysql.MYSQL_TYPE_DECIMAL:
		return fmt.Errorf("%w: pre-5.0 DECIMAL column", ErrUnsupported)
	default:
		return fmt.Errorf("%w: column type %d", ErrUnsupported, c.Type)
	}
	return nil
}
