package restore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// spool is a Sink that keeps what an XA transaction writes between XA START and XA PREPARE on
// disk, until its XA COMMIT (replayed then, with the commit's position and GTID) or XA ROLLBACK
// (dropped). Memory stays flat however large the transaction.
type spool struct {
	f   *os.File
	w   *bufio.Writer
	sum TxnSummary
	err error
}

var _ RowSink = (*spool)(nil)

func newSpool() (*spool, error) {
	f, err := os.CreateTemp("", "pitr-xa-")
	if err != nil {
		return nil, fmt.Errorf("XA transaction: %w", err)
	}
	return &spool{f: f, w: bufio.NewWriter(f)}, nil
}

func (s *spool) record(kind byte, stmt []byte, c RowCheck) error {
	if s.err != nil {
		return s.err
	}
	var h [21]byte
	h[0] = kind
	binary.LittleEndian.PutUint64(h[1:], uint64(c.Rows))
	binary.LittleEndian.PutUint64(h[9:], uint64(c.Where))
	binary.LittleEndian.PutUint32(h[17:], uint32(len(stmt)))
	s.w.Write(h[:])
	_, s.err = s.w.Write(stmt)
	return s.err
}

func (s *spool) Session(context.Context, []string) error { return nil }
func (s *spool) Begin(context.Context, TxnInfo) error    { return nil }
func (s *spool) Write(_ context.Context, stmt []byte) error {
	return s.record(0, stmt, RowCheck{Rows: -1})
}
func (s *spool) WriteRows(_ context.Context, stmt []byte, c RowCheck) error {
	return s.record(1, stmt, c)
}
func (s *spool) Commit(_ context.Context, sum TxnSummary) error { s.sum = sum; return nil }
func (s *spool) Rollback(context.Context) error                 { return nil }
func (s *spool) Close() error {
	if s.f == nil {
		return nil
	}
	s.f.Close()
	err := os.Remove(s.f.Name())
	s.f = nil
	return err
}

// replay writes what the spool holds to sink, checking rows where sink checks them.
func (s *spool) replay(ctx context.Context, sink Sink) error {
	if s.err != nil {
		return s.err
	}
	if err := s.w.Flush(); err != nil {
		return err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	rs, _ := sink.(RowSink)
	r := bufio.NewReader(s.f)
	var h [21]byte
	for {
		if _, err := io.ReadFull(r, h[:]); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("XA transaction spool: %w", err)
		}
		stmt := make([]byte, binary.LittleEndian.Uint32(h[17:]))
		if _, err := io.ReadFull(r, stmt); err != nil {
			return fmt.Errorf("XA transaction spool: %w", err)
		}
		c := RowCheck{Rows: int64(binary.LittleEndian.Uint64(h[1:])), Where: int(binary.LittleEndian.Uint64(h[9:]))}
		var err error
		if h[0] == 1 && rs != nil {
			err = rs.WriteRows(ctx, stmt, c)
		} else {
			err = sink.Write(ctx, stmt)
		}
		if err != nil {
			return err
		}
	}
}

// xaID returns the XID an "XA END", "XA COMMIT" or "XA ROLLBACK" statement names, as the
// server prints it (X'...',X'...',n), or nil for another statement or XA COMMIT ... ONE PHASE
// (a transaction of its own, not the end of a prepared one).
func xaID(q []byte, verb string) []byte {
	s := bytes.TrimSpace(q)
	if len(s) <= len(verb) || !bytes.EqualFold(s[:len(verb)], []byte(verb)) || s[len(verb)] != ' ' && s[len(verb)] != '\t' {
		return nil
	}
	id := bytes.TrimSpace(s[len(verb):])
	if bytes.HasSuffix(bytes.ToUpper(id), []byte(" ONE PHASE")) {
		return nil
	}
	return id
}

// xaStart spools the XA transaction that starts here: nothing of it reaches the target before
// its XA COMMIT.
func (r *runner) xaStart() error {
	if r.cfg.Flashback {
		// Its rows reach the sink at XA COMMIT, in another order than the spill reverses.
		return fmt.Errorf("%w: the transaction at %s is an XA transaction, which --flashback does not undo; end the window before it (--stop-position %s) or start it after it",
			ErrFlashbackStatement, r.info.Start, r.info.Start)
	}
	sp, err := newSpool()
	if err != nil {
		return err
	}
	r.xa = sp
	r.realSink = r.sink
	r.setSink(sp)
	return nil
}

func (r *runner) setSink(s Sink) {
	r.sink = s
	r.sess.sink = s
	r.rend.sink = s
	r.rend.rows, _ = s.(RowSink)
}

// xaPrepare ends the XA transaction's first part: it is kept under its XID until its XA COMMIT
// or XA ROLLBACK, and nothing reaches the target yet.
func (r *runner) xaPrepare(ctx context.Context) error {
	sp := r.xa
	if sp == nil {
		return fmt.Errorf("XA PREPARE without XA START in the binlogs read")
	}
	if r.state == txnBegun {
		if err := r.rend.Flush(ctx); err != nil {
			return err
		}
		if err := r.sess.pitrs(ctx); err != nil {
			return err
		}
	}
	sp.sum = r.sum
	r.xa = nil
	r.setSink(r.realSink)
	r.state = txnNone
	r.seenBegin = false
	r.pre = r.pre[:0]
	id := r.xaID
	r.xaID = nil
	if id == nil {
		sp.Close()
		return fmt.Errorf("XA PREPARE of a transaction whose XA END is not in the binlogs read")
	}
	if r.prepared == nil {
		r.prepared = map[string]*spool{}
	}
	if old := r.prepared[string(id)]; old != nil {
		old.Close()
	}
	r.prepared[string(id)] = sp
	return nil
}

// xaFinish handles XA COMMIT (commit) or XA ROLLBACK of a prepared transaction: its statements
// are written now, in a transaction with this event's position and GTID, or dropped.
func (r *runner) xaFinish(ctx context.Context, ev *binlog.Event, id []byte, commit bool) error {
	sp := r.prepared[string(id)]
	if sp == nil {
		verb := "ROLLBACK"
		if commit {
			verb = "COMMIT"
		}
		return fmt.Errorf("XA %s %s: its XA PREPARE is not in the binlogs read; start the replay before it", verb, id)
	}
	delete(r.prepared, string(id))
	defer sp.Close()
	if !commit || r.state == txnSkipped || r.state == txnNone {
		return r.close(ctx, ev, false)
	}
	if sp.sum.Rows()+sp.sum.Statements+sp.sum.Logged > 0 {
		if r.state == txnOpen {
			if err := r.sink.Begin(ctx, r.info); err != nil {
				return err
			}
			r.state = txnBegun
		}
		if err := sp.replay(ctx, r.sink); err != nil {
			return err
		}
		r.sum.Inserts += sp.sum.Inserts
		r.sum.Updates += sp.sum.Updates
		r.sum.Deletes += sp.sum.Deletes
		r.sum.Statements += sp.sum.Statements
		r.sum.Logged += sp.sum.Logged
	}
	return r.close(ctx, ev, true)
}

// xaLeft reports the XA transactions prepared but neither committed nor rolled back when the
// replay ends: they are left out.
func (r *runner) xaLeft() {
	for id, sp := range r.prepared {
		r.stats.XAPrepared++
		r.log.Warn("XA transaction prepared but not committed in the binlogs read: left out", "xid", id)
		sp.Close()
	}
	r.prepared = nil
	if r.xa != nil {
		r.xa.Close()
		r.xa = nil
	}
}

func xaStartStmt(q []byte) bool {
	s := bytes.TrimSpace(q)
	return len(s) >= 8 && bytes.EqualFold(s[:8], []byte("XA START"))
}

// xaOnePhase ends an XA transaction committed in one phase (XA COMMIT ... ONE PHASE): what was
// spooled is written at once, as an ordinary transaction.
func (r *runner) xaOnePhase(ctx context.Context, ev *binlog.Event) error {
	st := r.state
	if r.xaID == nil {
		r.xaID = []byte("one phase")
	}
	id := r.xaID
	if err := r.xaPrepare(ctx); err != nil {
		return err
	}
	r.state = st
	if st == txnBegun {
		r.state = txnOpen // the real sink has not begun it
	}
	return r.xaFinish(ctx, ev, id, true)
}
