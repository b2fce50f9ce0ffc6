package restore

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strconv"
	"time"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// TxnInfo says where a source transaction came from.
type TxnInfo struct {
	Start    binlog.Position
	End      binlog.Position // zero when the source cannot look ahead
	Time     time.Time       // commit time, UTC; zero if unknown
	GTID     string          // "" without GTIDs
	ServerID uint32
	// Undo says the statements undo this transaction (a flashback) rather than replay it.
	Undo bool `json:",omitempty"`
}

// TxnSummary is what a committed transaction held.
type TxnSummary struct {
	End                       binlog.Position
	Inserts, Updates, Deletes int64
	Statements                int64 // DDL statements
	Logged                    int64 // statements replayed as logged: the rows they change are not known
}

// Rows is the number of row changes.
func (s TxnSummary) Rows() int64 { return s.Inserts + s.Updates + s.Deletes }

// A Sink sees each kept source transaction as Begin, its statements, then Commit (or Rollback
// for a transaction cut off by a truncated file). It never holds a whole transaction: one can be
// millions of rows.
type Sink interface {
	// Session runs once, before the first transaction, with the settings a faithful replay needs.
	Session(ctx context.Context, stmts []string) error
	Begin(ctx context.Context, tx TxnInfo) error
	Write(ctx context.Context, stmt []byte) error // one complete statement, without a terminator
	Commit(ctx context.Context, s TxnSummary) error
	Rollback(ctx context.Context) error
	Close() error // flushes; returns the first deferred error
}

// RowCheck is what a row statement must change on the target.
type RowCheck struct {
	// Rows is how many rows the statement changes on the source: an INSERT inserts them, an
	// UPDATE or DELETE must find exactly that many. Negative: nothing to check.
	Rows int64
	// Where is the offset of the statement's " WHERE " (0 for an INSERT), for messages.
	Where int
}

// A RowSink is a Sink that can check row statements. The Renderer writes each INSERT, UPDATE
// and DELETE through WriteRows when its Sink is one, and everything else through Write.
type RowSink interface {
	Sink
	WriteRows(ctx context.Context, stmt []byte, c RowCheck) error
}

// SQLWriter is a Sink that prints SQL for review or for piping into a client.
type SQLWriter struct {
	w       *bufio.Writer
	err     error
	comment []string // lines printed first, as -- comments
	headed  bool     // comment has been written
	line    []byte

	loadDir, loadPrefix string // where LOAD DATA files go; "" refuses them

	// CheckRows follows each row statement with a check that it changed the rows the binlog
	// says (see WriteRows).
	CheckRows bool
	check     []byte // the last check written, for checkRows rows: most are for one row
	checkRows int64
}

var _ RowSink = (*SQLWriter)(nil)

// NewSQLWriter writes to w; header lines are printed as comments at the top.
func NewSQLWriter(w io.Writer, header ...string) *SQLWriter {
	return &SQLWriter{w: bufio.NewWriterSize(w, 256<<10), comment: header}
}

func (s *SQLWriter) write(b []byte) error {
	if s.err == nil {
		_, s.err = s.w.Write(b)
	}
	return s.err
}

// Preamble is where SQL that must run before the replay goes, such as a table rebuilt from a
// backup; it follows the header comments and precedes everything else the Sink writes.
func (s *SQLWriter) Preamble() io.Writer {
	s.header()
	return s.w
}

// header writes the header comments, once.
func (s *SQLWriter) header() {
	if s.headed {
		return
	}
	s.headed = true
	for _, c := range s.comment {
		s.Note(c)
	}
}

// Session implements Sink.
func (s *SQLWriter) Session(_ context.Context, stmts []string) error {
	s.header()
	for _, st := range stmts {
		s.write([]byte(st + ";\n"))
	}
	return s.err
}

// Begin implements Sink.
func (s *SQLWriter) Begin(_ context.Context, tx TxnInfo) error {
	b := append(s.line[:0], "\n-- "...)
	if tx.Undo {
		b = append(b, "undoes "...)
	}
	b = appendTxnSpan(b, tx)
	if !tx.Time.IsZero() {
		b = append(b, " committed "...)
		b = tx.Time.AppendFormat(b, "2006-01-02 15:04:05 UTC")
	}
	b = appendTxnGTID(b, tx)
	b = append(b, " server "...)
	b = strconv.AppendUint(b, uint64(tx.ServerID), 10)
	b = append(b, "\nBEGIN;\n"...)
	s.line = b
	return s.write(b)
}

// appendTxnSpan appends where a transaction came from, "file:start-end", and appendTxnGTID
// its " GTID g", through appendComment: the file name and the GTID come from the binlog or the
// server.
func appendTxnSpan(b []byte, tx TxnInfo) []byte {
	b = appendComment(b, tx.Start.File)
	b = append(b, ':')
	b = strconv.AppendInt(b, tx.Start.Offset, 10)
	if !tx.End.IsZero() {
		b = append(b, '-')
		b = strconv.AppendInt(b, tx.End.Offset, 10)
	}
	return b
}

func appendTxnGTID(b []byte, tx TxnInfo) []byte {
	if tx.GTID != "" {
		b = append(b, " GTID "...)
		b = appendComment(b, tx.GTID)
	}
	return b
}

// Note prints s as a comment line, through CommentText.
func (s *SQLWriter) Note(text string) {
	b := append(s.line[:0], "-- "...)
	b = appendComment(b, text)
	b = append(b, '\n')
	s.line = b
	s.write(b)
}

// Write implements Sink.
func (s *SQLWriter) Write(_ context.Context, stmt []byte) error {
	if bytes.IndexByte(stmt, ';') < 0 { // the common case, without a copy
		s.write(stmt)
		return s.write([]byte(";\n"))
	}
	s.line = appendStatement(s.line[:0], stmt)
	return s.write(s.line)
}

// WriteRows implements RowSink. With CheckRows, the statement is followed by one that fails
// in the client when ROW_COUNT() is not the rows the source changed: an unsigned overflow,
// error 1690 on MySQL and MariaDB whatever the sql_mode, whose message quotes the expression
// and so the explanation in it. The client stops there (without --force) and, its transaction
// never committed, the server rolls it back: a piped replay stops where apply would. The
// client does not set CLIENT_FOUND_ROWS, so an UPDATE counts the rows it changed; a row the
// binlog updated differs from its before image, so on a target that matches the source the
// two counts are the same.
func (s *SQLWriter) WriteRows(ctx context.Context, stmt []byte, c RowCheck) error {
	if err := s.Write(ctx, stmt); err != nil || !s.CheckRows || c.Rows < 0 {
		return err
	}
	if c.Rows != s.checkRows || s.check == nil {
		n := strconv.AppendInt(nil, c.Rows, 10)
		b := append(s.check[:0], "SET @pitr_check=18446744073709551615+IF(ROW_COUNT()="...)
		b = append(b, n...)
		b = append(b, ",0,LENGTH('pitr: the statement before did not change "...)
		b = append(b, n...)
		s.check, s.checkRows = append(b, " rows as the source did: the target differs'));\n"...), c.Rows
	}
	return s.write(s.check)
}

// Commit implements Sink.
func (s *SQLWriter) Commit(_ context.Context, sum TxnSummary) error {
	if sum.Rows() == 0 && sum.Logged == 0 && sum.Statements > 0 {
		return s.write([]byte("COMMIT; -- DDL\n"))
	}
	b := append(s.line[:0], "COMMIT; -- "...)
	if sum.Logged > 0 {
		b = strconv.AppendInt(b, sum.Logged, 10)
		b = append(b, " statements as logged"...)
		if sum.Rows() == 0 {
			s.line = append(b, '\n')
			return s.write(s.line)
		}
		b = append(b, ", "...)
	}
	b = strconv.AppendInt(b, sum.Rows(), 10)
	b = append(b, " rows ("...)
	b = strconv.AppendInt(b, sum.Inserts, 10)
	b = append(b, " inserted, "...)
	b = strconv.AppendInt(b, sum.Updates, 10)
	b = append(b, " updated, "...)
	b = strconv.AppendInt(b, sum.Deletes, 10)
	b = append(b, " deleted)\n"...)
	s.line = b
	return s.write(b)
}

// Rollback implements Sink.
func (s *SQLWriter) Rollback(_ context.Context) error {
	return s.write([]byte("ROLLBACK; -- the source transaction is incomplete\n"))
}

// Close implements Sink.
func (s *SQLWriter) Close() error {
	if err := s.w.Flush(); s.err == nil {
		s.err = err
	}
	return s.err
}
