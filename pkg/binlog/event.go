package binlog

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/pitr-tool/pitr/pkg/binlog/collation"
)

// Kind says which decoded field of an Event is set.
type Kind int

const (
	KindOther      Kind = iota // nothing a replay needs (previous GTIDs, checkpoints, heartbeats...)
	KindFormat                 // Format_description
	KindQuery                  // Query (BEGIN, COMMIT, DDL, statement-based DML)
	KindGTID                   // MySQL GTID / anonymous GTID / tagged GTID, MariaDB GTID: a transaction starts
	KindXID                    // XID: a transaction commits
	KindTableMap               // Table_map
	KindRows                   // Write/Update/Delete rows
	KindRotate                 // Rotate: the server moved to another file
	KindStop                   // Stop: the server shut down
	KindIncident               // Incident: the server lost events here
	KindIntvar                 // Intvar: INSERT_ID or LAST_INSERT_ID for the next statement
	KindRand                   // Rand: RAND() seeds for the next statement
	KindUserVar                // User_var: a user variable the next statement reads
	KindAnnotate               // MariaDB Annotate_rows, MySQL Rows_query: the statement behind the rows that follow
	KindLoadBlock              // Begin_load_query (Load.Begin) or Append_block: LOAD DATA file contents
	KindExecLoad               // Execute_load_query: a LOAD DATA statement over the blocks before it
	KindDeleteFile             // Delete_file: a LOAD DATA that failed; its blocks are dropped
	KindUnknown                // an event type pitr does not know, not marked ignorable
	KindXAPrepare              // XA_prepare: an XA transaction is prepared (or committed in one phase)
)

// Event is one decoded binlog event. It and everything it points to are valid only until the
// next call to Source.Next, except TableMap, which lives as long as the table id is in use.
type Event struct {
	Pos    Position // where the event starts
	End    int64    // offset just past the event, in Pos.File
	Header Header
	Body   []byte // without header and checksum

	Kind      Kind
	Query     Query
	GTID      GTID
	XID       uint64
	TableMap  *TableMap
	Rows      *Rows
	Rotate    Position // next file and offset
	Server    string   // server version, on KindFormat
	Intvar    Intvar
	Rand      Rand
	UserVar   *UserVar
	Annotate  []byte // aliases the event body
	Load      LoadBlock
	ExecLoad  ExecLoad
	LoadBegin bool // the LoadBlock is a Begin_load_query: a new file
	OnePhase  bool // on KindXAPrepare: XA COMMIT ... ONE PHASE, the transaction is committed
}

// reuse readies e, which holds the event decoded last (or nothing), for the event at pos. It
// clears only the fields that decoding e's kind sets: zeroing all of an Event, half a kilobyte,
// costs as much as framing and checking a small event. TestEventReuse holds decode to it.
func (e *Event) reuse(pos Position, end int64, h Header, body []byte) {
	switch e.Kind {
	case KindFormat:
		e.Server = ""
	case KindQuery, KindExecLoad:
		e.Query, e.ExecLoad = Query{}, ExecLoad{}
	case KindGTID:
		e.GTID = GTID{}
	case KindXID:
		e.XID = 0
	case KindTableMap:
		e.TableMap = nil
	case KindRows:
		e.Rows = nil
	case KindRotate:
		e.Rotate = Position{}
	case KindIntvar:
		e.Intvar = Intvar{}
	case KindRand:
		e.Rand = Rand{}
	case KindUserVar:
		e.UserVar = nil
	case KindAnnotate:
		e.Annotate = nil
	case KindLoadBlock, KindDeleteFile:
		e.Load, e.LoadBegin = LoadBlock{}, false
	case KindXAPrepare:
		e.OnePhase = false
	}
	e.Kind, e.Pos, e.End, e.Header, e.Body = KindOther, pos, end, h, body
}

// EndPosition is where the event ends, which is where a replay that applied it resumes.
func (e *Event) EndPosition() Position { return Position{File: e.Pos.File, Offset: e.End} }

// Time is the header timestamp: when the statement that wrote the event started, in UTC.
func (e *Event) Time() time.Time { return time.Unix(int64(e.Header.Timestamp), 0).UTC() }

// Query is a statement event.
type Query struct {
	Schema string
	SQL    []byte // aliases the event body
	Code   uint16 // error code the statement ended with on the source
	Ctx    QueryContext
}

// Keyword returns which transaction-control statement q is, if any.
func (q Query) Keyword() string {
	s := bytes.TrimSpace(q.SQL)
	switch {
	case equalFoldPrefix(s, "BEGIN") && len(s) == 5, equalFoldPrefix(s, "XA START"), equalFoldPrefix(s, "START TRANSACTION"):
		return "BEGIN"
	case equalFoldPrefix(s, "COMMIT"), equalFoldPrefix(s, "XA COMMIT"):
		return "COMMIT"
	case equalFoldPrefix(s, "ROLLBACK TO"), equalFoldPrefix(s, "SAVEPOINT"):
		return "SAVEPOINT"
	case equalFoldPrefix(s, "ROLLBACK"), equalFoldPrefix(s, "XA ROLLBACK"):
		return "ROLLBACK"
	}
	return ""
}

func equalFoldPrefix(s []byte, p string) bool {
	return len(s) >= len(p) && bytes.EqualFold(s[:len(p)], []byte(p))
}

// GTID identifies a transaction: MySQL uuid[:tag]:gno, or MariaDB domain-server-seq.
type GTID struct {
	MariaDB    bool
	SID        [16]byte
	Tag        string
	GNO        int64
	Domain     uint32
	ServerID   uint32
	Seq        uint64
	Anonymous  bool      // MySQL with gtid_mode=OFF: no identifier
	Standalone bool      // MariaDB FL_STANDALONE: a single statement, no COMMIT/XID follows
	PreparedXA bool      // MariaDB FL_PREPARED_XA: XA START ... XA PREPARE follows
	CommitTime time.Time // MySQL 8.0.1+ original commit time (microseconds, UTC); zero if unknown
}

func (g GTID) String() string {
	if g.MariaDB {
		return strconv.FormatUint(uint64(g.Domain), 10) + "-" + strconv.FormatUint(uint64(g.ServerID), 10) + "-" + strconv.FormatUint(g.Seq, 10)
	}
	if g.Anonymous {
		return "ANONYMOUS"
	}
	var b [36]byte
	hex.Encode(b[0:8], g.SID[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], g.SID[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], g.SID[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], g.SID[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], g.SID[10:16])
	s := string(b[:])
	if g.Tag != "" {
		s += ":" + g.Tag
	}
	return s + ":" + strconv.FormatInt(g.GNO, 10)
}

// decoder turns framed events into Events. go-mysql decodes the event kinds pitr needs beyond
// rows; its decoders index without bounds checks, so every call is guarded against panics.
type decoder struct {
	inner  bool // decoding an event from inside a Transaction_payload: it has no checksum
	parser *replication.BinlogParser
	fmt    *format
	tables map[uint64]*TableMap
}

func newDecoder() *decoder {
	p := replication.NewBinlogParser()
	p.SetVerifyChecksum(false) // we verify, and go-mysql's check fails on in-use logs
	return &decoder{parser: p, tables: map[uint64]*TableMap{}}
}

func (d *decoder) decode(ev *Event, raw []byte, f *format) (err error) {
	defer func() {
		if r := recover(); r != nil {
			// The decoder read past the event on a length or count field that does not fit:
			// say so, not the Go runtime's words (slice bounds, index out of range).
			err = fmt.Errorf("%w: %s event: a length or count field points past the event's %d bytes", ErrCorrupt, ev.Header.Type, len(raw))
		}
	}()
	// go-mysql slices up to lengths read from the event without checking them against len, only
	// cap: clip both, so that a corrupt event cannot borrow the bytes after it in the buffer.
	raw = raw[:len(raw):len(raw)]
	ev.Body = ev.Body[:len(ev.Body):len(ev.Body)]
	body := ev.Body
	switch t := ev.Header.Type; t {
	case replication.FORMAT_DESCRIPTION_EVENT:
		ev.Kind = KindFormat
		ev.Server = f.serverVersion
		if d.fmt != f {
			d.fmt = f
			// MariaDB counts GEOMETRY among the character columns of a table map's charset
			// metadata, MySQL does not: the wrong flavor gives later columns the charsets of
			// their neighbours.
			if f.mariaDB {
				d.parser.SetFlavor("mariadb")
			} else {
				d.parser.SetFlavor("mysql")
			}
			// Parse only remembers the format; our own checksum check already ran. It keeps
			// slices of the bytes it is given (the post-header lengths it sizes every later
			// table map's id by), so it gets a copy: raw is in a read buffer that is reused, or
			// a window of the file that is unmapped, once the consumer is past this event.
			if _, err := d.parser.Parse(bytes.Clone(raw)); err != nil {
				return fmt.Errorf("%w: format description: %v", ErrCorrupt, err)
			}
		}
	case replication.QUERY_EVENT, replication.MARIADB_QUERY_COMPRESSED_EVENT:
		q := replication.QueryEvent{}
		if t == replication.MARIADB_QUERY_COMPRESSED_EVENT {
			return fmt.Errorf("%w: MariaDB compressed query event (log_bin_compress)", ErrUnsupported)
		}
		if err := q.Decode(body); err != nil {
			return fmt.Errorf("%w: query event: %v", ErrCorrupt, err)
		}
		ev.Kind = KindQuery
		ev.Query = Query{Schema: string(q.Schema), SQL: q.Query, Code: q.ErrorCode}
		ev.Query.Ctx.Thread, ev.Query.Ctx.MariaDB = q.SlaveProxyID, f.mariaDB
		if err := parseStatusVars(q.StatusVars, &ev.Query.Ctx); err != nil {
			return err
		}
	case replication.EXECUTE_LOAD_QUERY_EVENT:
		// A Query event's layout with 13 more post-header bytes: file id, where the file
		// name is in the statement, and the duplicate handling.
		if len(body) < 26 {
			return fmt.Errorf("%w: execute load query event of %d bytes", ErrCorrupt, len(body))
		}
		dbLen := int(body[8])
		varsLen := int(binary.LittleEndian.Uint16(body[11:]))
		p := 26 + varsLen
		if p+dbLen+1 > len(body) {
			return fmt.Errorf("%w: execute load query event of %d bytes", ErrCorrupt, len(body))
		}
		ev.Kind = KindExecLoad
		ev.Query = Query{Schema: string(body[p : p+dbLen]), SQL: body[p+dbLen+1:], Code: binary.LittleEndian.Uint16(body[9:])}
		ev.Query.Ctx.Thread, ev.Query.Ctx.MariaDB = binary.LittleEndian.Uint32(body), f.mariaDB
		if err := parseStatusVars(body[26:p], &ev.Query.Ctx); err != nil {
			return err
		}
		ev.ExecLoad = ExecLoad{FileID: binary.LittleEndian.Uint32(body[13:]), NameStart: int(binary.LittleEndian.Uint32(body[17:])),
			NameEnd: int(binary.LittleEndian.Uint32(body[21:])), Dup: body[25]}
		if ev.ExecLoad.NameStart > ev.ExecLoad.NameEnd || ev.ExecLoad.NameEnd > len(ev.Query.SQL) {
			return fmt.Errorf("%w: execute load query event: file name at %d-%d of a %d-byte statement", ErrCorrupt,
				ev.ExecLoad.NameStart, ev.ExecLoad.NameEnd, len(ev.Query.SQL))
		}
	case replication.BEGIN_LOAD_QUERY_EVENT, replication.APPEND_BLOCK_EVENT:
		if len(body) < 4 {
			return fmt.Errorf("%w: %s of %d bytes", ErrCorrupt, t, len(body))
		}
		ev.Kind = KindLoadBlock
		ev.LoadBegin = t == replication.BEGIN_LOAD_QUERY_EVENT
		ev.Load = LoadBlock{FileID: binary.LittleEndian.Uint32(body), Data: body[4:]}
	case replication.DELETE_FILE_EVENT:
		if len(body) < 4 {
			return fmt.Errorf("%w: delete file event of %d bytes", ErrCorrupt, len(body))
		}
		ev.Kind = KindDeleteFile
		ev.Load = LoadBlock{FileID: binary.LittleEndian.Uint32(body)}
	case replication.INTVAR_EVENT:
		if len(body) < 9 {
			return fmt.Errorf("%w: intvar event of %d bytes", ErrCorrupt, len(body))
		}
		if body[0] != 1 && body[0] != 2 {
			return fmt.Errorf("%w: intvar event of type %d", ErrCorrupt, body[0])
		}
		ev.Kind = KindIntvar
		ev.Intvar = Intvar{InsertID: body[0] == 2, Value: binary.LittleEndian.Uint64(body[1:])}
	case replication.RAND_EVENT:
		if len(body) < 16 {
			return fmt.Errorf("%w: rand event of %d bytes", ErrCorrupt, len(body))
		}
		ev.Kind = KindRand
		ev.Rand = Rand{Seed1: binary.LittleEndian.Uint64(body), Seed2: binary.LittleEndian.Uint64(body[8:])}
	case replication.USER_VAR_EVENT:
		u, err := decodeUserVar(body)
		if err != nil {
			return err
		}
		if !u.Null && u.Type == UserVarString {
			// The id in the numbering of the server that wrote the binlog.
			flavor := collation.MySQL
			if d.fmt.mariaDB {
				flavor = collation.MariaDB
			}
			if co, ok := collation.ByID(flavor, int(u.Collation)); ok {
				u.Charset, u.CollationName = co.Charset, co.Name
			}
		}
		ev.Kind = KindUserVar
		ev.UserVar = u
	case replication.MARIADB_ANNOTATE_ROWS_EVENT:
		ev.Kind = KindAnnotate
		ev.Annotate = body
	case replication.ROWS_QUERY_EVENT:
		// One length byte that holds only the low bits of a long statement's length.
		if len(body) < 1 {
			return fmt.Errorf("%w: rows query event of %d bytes", ErrCorrupt, len(body))
		}
		ev.Kind = KindAnnotate
		ev.Annotate = body[1:]
	case replication.XID_EVENT:
		if len(body) < 8 {
			return fmt.Errorf("%w: XID event of %d bytes", ErrCorrupt, len(body))
		}
		ev.Kind = KindXID
		ev.XID = binary.LittleEndian.Uint64(body)
	case replication.GTID_EVENT, replication.ANONYMOUS_GTID_EVENT:
		g := replication.GTIDEvent{}
		if len(body) < 25 {
			return fmt.Errorf("%w: GTID event of %d bytes", ErrCorrupt, len(body))
		}
		if err := g.Decode(body); err != nil {
			return fmt.Errorf("%w: GTID event: %v", ErrCorrupt, err)
		}
		ev.Kind = KindGTID
		ev.GTID = GTID{GNO: g.GNO, Anonymous: t == replication.ANONYMOUS_GTID_EVENT}
		copy(ev.GTID.SID[:], g.SID)
		if g.OriginalCommitTimestamp != 0 {
			ev.GTID.CommitTime = g.OriginalCommitTime().UTC()
		}
	case replication.GTID_TAGGED_LOG_EVENT:
		g := replication.GtidTaggedLogEvent{}
		if err := g.Decode(body); err != nil {
			return fmt.Errorf("%w: tagged GTID event: %v", ErrCorrupt, err)
		}
		ev.Kind = KindGTID
		ev.GTID = GTID{GNO: g.GNO, Tag: g.Tag.String()}
		copy(ev.GTID.SID[:], g.SID)
		if g.OriginalCommitTimestamp != 0 {
			ev.GTID.CommitTime = g.OriginalCommitTime().UTC()
		}
	case replication.MARIADB_GTID_EVENT:
		if len(body) < 13 {
			return fmt.Errorf("%w: MariaDB GTID event of %d bytes", ErrCorrupt, len(body))
		}
		ev.Kind = KindGTID
		ev.GTID = GTID{MariaDB: true, Seq: binary.LittleEndian.Uint64(body), Domain: binary.LittleEndian.Uint32(body[8:]),
			ServerID: ev.Header.ServerID, Standalone: body[12]&replication.BINLOG_MARIADB_FL_STANDALONE != 0,
			PreparedXA: body[12]&0x40 != 0}
	case replication.TABLE_MAP_EVENT:
		tm, err := d.tableMap(raw, body)
		if err != nil {
			return err
		}
		ev.Kind = KindTableMap
		ev.TableMap = tm
	case replication.WRITE_ROWS_EVENTv0, replication.UPDATE_ROWS_EVENTv0, replication.DELETE_ROWS_EVENTv0,
		replication.WRITE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv1, replication.DELETE_ROWS_EVENTv1,
		replication.WRITE_ROWS_EVENTv2, replication.UPDATE_ROWS_EVENTv2, replication.DELETE_ROWS_EVENTv2,
		replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1, replication.MARIADB_UPDATE_ROWS_COMPRESSED_EVENT_V1,
		replication.MARIADB_DELETE_ROWS_COMPRESSED_EVENT_V1, replication.PARTIAL_UPDATE_ROWS_EVENT:
		rows, err := d.rows(ev.Header.Type, body, f)
		if err != nil {
			return err
		}
		ev.Kind = KindRows
		ev.Rows = rows
	case replication.ROTATE_EVENT:
		if len(body) < 8 {
			return fmt.Errorf("%w: rotate event of %d bytes", ErrCorrupt, len(body))
		}
		ev.Kind = KindRotate
		ev.Rotate = Position{File: string(body[8:]), Offset: int64(binary.LittleEndian.Uint64(body))}
	case replication.STOP_EVENT:
		ev.Kind = KindStop
	case replication.INCIDENT_EVENT:
		ev.Kind = KindIncident
	case replication.TRANSACTION_PAYLOAD_EVENT:
		// Sources open payloads themselves (see payloadReader) and never hand one to decode.
		return fmt.Errorf("%w: transaction payload event outside a source that reads payloads", ErrUnsupported)
	case replication.LOAD_EVENT, replication.NEW_LOAD_EVENT, replication.CREATE_FILE_EVENT, replication.EXEC_LOAD_EVENT,
		replication.SLAVE_EVENT:
		// Kinds pitr has no replay for: the old LOAD DATA events (servers before 5.0.3).
		ev.Kind = KindUnknown
	case replication.XA_PREPARE_LOG_EVENT:
		if len(body) < 1 {
			return fmt.Errorf("%w: XA prepare event of %d bytes", ErrCorrupt, len(body))
		}
		ev.Kind = KindXAPrepare
		ev.OnePhase = body[0] != 0
	default:
		ev.Kind = KindOther
		if _, known := knownOther[t]; !known && ev.Header.Flags&replication.LOG_EVENT_IGNORABLE_F == 0 {
			if f != nil && !f.checksum {
				// Without a checksum a new event type cannot be told from a flipped type byte,
				// and a skipped transaction would pass either one by.
				return fmt.Errorf("%w: event type code %d unknown, not marked ignorable, and the file has no checksums (binlog_checksum=NONE)", ErrCorrupt, byte(t))
			}
			ev.Kind = KindUnknown
		}
	}
	return nil
}

// knownOther are the event types that carry nothing a replay needs.
var knownOther = map[replication.EventType]struct{}{
	replication.START_EVENT_V3: {}, replication.PREVIOUS_GTIDS_EVENT: {}, replication.HEARTBEAT_EVENT: {},
	replication.HEARTBEAT_LOG_EVENT_V2: {}, replication.IGNORABLE_EVENT: {}, replication.VIEW_CHANGE_EVENT: {},
	replication.TRANSACTION_CONTEXT_EVENT: {}, replication.MARIADB_BINLOG_CHECKPOINT_EVENT: {},
	replication.MARIADB_GTID_LIST_EVENT: {}, replication.MARIADB_START_ENCRYPTION_EVENT: {},
	replication.UNKNOWN_EVENT: {},
}
