package binlog

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// QueryContext is the session a Query event's statement ran in, from its status variables
// (sql/log_event.h, Query_event_status_vars). A statement replays exactly only under it.
type QueryContext struct {
	Thread  uint32 // the source connection id (pseudo_thread_id): temporary tables and CONNECTION_ID()
	MariaDB bool   // the flavor that wrote it: sql_mode and flags2 bits differ

	HasFlags2 bool
	Flags2    uint32 // OPTION_* bits: foreign_key_checks, unique_checks, sql_auto_is_null, ...

	HasSQLMode bool
	SQLMode    uint64

	HasAutoIncrement    bool
	AutoIncIncrement    uint16
	AutoIncOffset       uint16
	HasCharset          bool
	CharsetClient       uint16 // a collation id, as @@character_set_client takes it
	CollationConnection uint16
	CollationServer     uint16

	TimeZone          string // "" unless the statement used the time zone
	LCTimeNames       uint16 // 0 (en_US) when not logged
	CollationDatabase uint16 // 0 when not logged

	HasMicros bool   // the statement used the sub-second part of the time
	Micros    uint32 // microseconds to add to the header's timestamp

	ExplicitDefaults        int8   // MySQL explicit_defaults_for_timestamp: -1 when not logged
	DefaultCollationUTF8MB4 uint16 // MySQL 8: 0 when not logged
	Unknown                 byte   // a status variable pitr does not know ended decoding (0: none)
}

// Query status variable codes.
const (
	qFlags2             = 0
	qSQLMode            = 1
	qCatalog            = 2
	qAutoIncrement      = 3
	qCharset            = 4
	qTimeZone           = 5
	qCatalogNZ          = 6
	qLCTimeNames        = 7
	qCharsetDatabase    = 8
	qTableMapForUpdate  = 9
	qMasterDataWritten  = 10
	qInvoker            = 11
	qUpdatedDBNames     = 12
	qMicroseconds       = 13
	qCommitTS           = 14
	qCommitTS2          = 15
	qExplicitDefaults   = 16
	qDDLLoggedWithXID   = 17
	qDefaultCollation   = 18
	qSQLRequirePK       = 19
	qDefaultTableEncryp = 20
	qHRNow              = 128 // MariaDB
	qXID                = 129 // MariaDB
	qGTIDFlags3         = 130 // MariaDB
	qCharsetCollations  = 131 // MariaDB 11.2+
)

// parseStatusVars reads a Query event's status variables. As mysqlbinlog does, an unknown code
// ends decoding (its length is unknown); the code is recorded so that a replay can refuse.
func parseStatusVars(b []byte, c *QueryContext) error {
	c.ExplicitDefaults = -1
	need := func(n int) error {
		if len(b) < n {
			return fmt.Errorf("%w: query status variables end early", ErrCorrupt)
		}
		return nil
	}
	for len(b) > 0 {
		code := b[0]
		b = b[1:]
		var n int
		switch code {
		case qFlags2:
			n = 4
			if err := need(n); err != nil {
				return err
			}
			c.HasFlags2, c.Flags2 = true, binary.LittleEndian.Uint32(b)
		case qSQLMode:
			n = 8
			if err := need(n); err != nil {
				return err
			}
			c.HasSQLMode, c.SQLMode = true, binary.LittleEndian.Uint64(b)
		case qCatalog:
			if err := need(1); err != nil {
				return err
			}
			n = 1 + int(b[0]) + 1
		case qAutoIncrement:
			n = 4
			if err := need(n); err != nil {
				return err
			}
			c.HasAutoIncrement = true
			c.AutoIncIncrement, c.AutoIncOffset = binary.LittleEndian.Uint16(b), binary.LittleEndian.Uint16(b[2:])
		case qCharset:
			n = 6
			if err := need(n); err != nil {
				return err
			}
			c.HasCharset = true
			c.CharsetClient = binary.LittleEndian.Uint16(b)
			c.CollationConnection = binary.LittleEndian.Uint16(b[2:])
			c.CollationServer = binary.LittleEndian.Uint16(b[4:])
		case qTimeZone:
			if err := need(1); err != nil {
				return err
			}
			n = 1 + int(b[0])
			if err := need(n); err != nil {
				return err
			}
			c.TimeZone = string(b[1:n])
		case qCatalogNZ:
			if err := need(1); err != nil {
				return err
			}
			n = 1 + int(b[0])
		case qLCTimeNames:
			n = 2
			if err := need(n); err != nil {
				return err
			}
			c.LCTimeNames = binary.LittleEndian.Uint16(b)
		case qCharsetDatabase:
			n = 2
			if err := need(n); err != nil {
				return err
			}
			c.CollationDatabase = binary.LittleEndian.Uint16(b)
		case qTableMapForUpdate, qDDLLoggedWithXID, qXID:
			n = 8
		case qMasterDataWritten:
			n = 4
		case qInvoker:
			if err := need(1); err != nil {
				return err
			}
			n = 1 + int(b[0])
			if err := need(n + 1); err != nil {
				return err
			}
			n += 1 + int(b[n])
		case qUpdatedDBNames:
			if err := need(1); err != nil {
				return err
			}
			count := int(b[0])
			n = 1
			if count != 254 { // OVER_MAX_DBS_IN_EVENT_MTS: no names follow
				for i := 0; i < count; i++ {
					for n < len(b) && b[n] != 0 {
						n++
					}
					n++ // the NUL
				}
			}
		case qMicroseconds, qHRNow:
			n = 3
			if err := need(n); err != nil {
				return err
			}
			c.HasMicros, c.Micros = true, uint32(b[0])|uint32(b[1])<<8|uint32(b[2])<<16
		case qExplicitDefaults:
			n = 1
			if err := need(n); err != nil {
				return err
			}
			c.ExplicitDefaults = int8(b[0])
		case qDefaultCollation:
			n = 2
			if err := need(n); err != nil {
				return err
			}
			c.DefaultCollationUTF8MB4 = binary.LittleEndian.Uint16(b)
		case qSQLRequirePK, qDefaultTableEncryp, qGTIDFlags3:
			n = 1
		case qCharsetCollations:
			if err := need(1); err != nil {
				return err
			}
			n = 1 + 4*int(b[0])
		default:
			c.Unknown = code
			return nil
		}
		if err := need(n); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// Intvar is an Intvar event: the LAST_INSERT_ID() or the next AUTO_INCREMENT value (INSERT_ID)
// the following statement used on the source.
type Intvar struct {
	InsertID bool // INSERT_ID; otherwise LAST_INSERT_ID
	Value    uint64
}

// Rand is a Rand event: the seeds RAND() had for the following statement.
type Rand struct{ Seed1, Seed2 uint64 }

// UserVar is a User_var event: a user variable the following statement read.
type UserVar struct {
	Name      []byte
	Null      bool
	Type      byte // 0 string, 1 real, 2 int, 4 decimal
	Collation uint32
	// Charset and CollationName name a string's collation, read with the ids of the server that
	// wrote the binlog; "" for an id neither server has.
	Charset, CollationName string
	Value                  []byte // raw: string bytes, 8-byte double or int, or precision, scale and binary decimal
	Unsigned               bool
}

// User variable value types (Item_result).
const (
	UserVarString  = 0
	UserVarReal    = 1
	UserVarInt     = 2
	UserVarDecimal = 4
)

// Literal renders the value as SQL text for its type; strings are left to the caller, who
// needs the collation's name.
func (u *UserVar) Literal() (string, error) {
	switch {
	case u.Null:
		return "NULL", nil
	case u.Type == UserVarReal:
		if len(u.Value) < 8 {
			return "", fmt.Errorf("%w: user variable real of %d bytes", ErrCorrupt, len(u.Value))
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(u.Value))
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return "", fmt.Errorf("user variable @%s holds %v, which SQL cannot write", u.Name, f)
		}
		// Shortest text that reads back as the same double; the E form keeps it a DOUBLE.
		return strconv.FormatFloat(f, 'E', -1, 64), nil
	case u.Type == UserVarInt:
		if len(u.Value) < 8 {
			return "", fmt.Errorf("%w: user variable int of %d bytes", ErrCorrupt, len(u.Value))
		}
		v := binary.LittleEndian.Uint64(u.Value)
		if u.Unsigned {
			return strconv.FormatUint(v, 10), nil
		}
		return strconv.FormatInt(int64(v), 10), nil
	case u.Type == UserVarDecimal:
		if len(u.Value) < 2 {
			return "", fmt.Errorf("%w: user variable decimal of %d bytes", ErrCorrupt, len(u.Value))
		}
		d, _, err := appendDecimal(nil, u.Value[2:], int(u.Value[0]), int(u.Value[1]))
		if err != nil {
			return "", fmt.Errorf("user variable @%s: %w", u.Name, err)
		}
		return string(d), nil
	}
	return "", fmt.Errorf("user variable @%s: value type %d is not a number", u.Name, u.Type)
}

func decodeUserVar(b []byte) (*UserVar, error) {
	short := fmt.Errorf("%w: user variable event of %d bytes", ErrCorrupt, len(b))
	if len(b) < 5 {
		return nil, short
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n > len(b)-5 {
		return nil, short
	}
	u := &UserVar{Name: b[4 : 4+n]}
	b = b[4+n:]
	u.Null = b[0] != 0
	b = b[1:]
	if u.Null {
		return u, nil
	}
	if len(b) < 9 {
		return nil, short
	}
	u.Type = b[0]
	u.Collation = binary.LittleEndian.Uint32(b[1:])
	vl := int(binary.LittleEndian.Uint32(b[5:]))
	b = b[9:]
	if vl > len(b) {
		return nil, short
	}
	u.Value = b[:vl]
	if len(b) > vl {
		u.Unsigned = b[vl]&1 != 0
	}
	return u, nil
}

// LoadBlock is a Begin_load_query or Append_block event: a piece of a LOAD DATA file.
type LoadBlock struct {
	FileID uint32
	Data   []byte
}

// ExecLoad is an Execute_load_query event: the LOAD DATA statement, with where its file name
// is in the text, so that a replay can put another there.
type ExecLoad struct {
	FileID             uint32
	NameStart, NameEnd int // byte offsets into Query.SQL
	Dup                byte
}
