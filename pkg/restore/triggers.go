package restore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// A Trigger is a trigger on a table of the target.
type Trigger struct {
	Name   string // `db`.`name`
	Table  string // `db`.`table`, as the Renderer writes it
	Timing string // "BEFORE INSERT", ...
}

// TargetTriggers lists the triggers on the target's tables, but those of the system schemas.
func TargetTriggers(ctx context.Context, conn *sql.Conn) ([]Trigger, error) {
	rows, err := conn.QueryContext(ctx, "SELECT TRIGGER_SCHEMA, TRIGGER_NAME, EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, "+
		"CONCAT(ACTION_TIMING, ' ', EVENT_MANIPULATION) FROM information_schema.TRIGGERS "+
		"WHERE EVENT_OBJECT_SCHEMA NOT IN ('mysql', 'sys', 'information_schema', 'performance_schema') "+
		"ORDER BY EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, TRIGGER_NAME")
	if err != nil {
		return nil, fmt.Errorf("list the target's triggers: %w", err)
	}
	defer rows.Close()
	var ts []Trigger
	for rows.Next() {
		var tdb, name, db, table, timing string
		if err := rows.Scan(&tdb, &name, &db, &table, &timing); err != nil {
			return nil, err
		}
		ts = append(ts, Trigger{Name: qualified(tdb, name), Table: qualified(db, table), Timing: timing})
	}
	return ts, rows.Err()
}

func qualified(db, name string) string {
	b := appendIdent(nil, db)
	b = append(b, '.')
	return string(appendIdent(b, name))
}

// ErrTriggers means the target has triggers on tables a replay writes. The binlog already
// holds the rows the source's triggers wrote, so a trigger that fires again for a replayed
// row applies its effect twice.
var ErrTriggers = errors.New("the target has triggers on tables the replay writes: they would fire for the replayed rows, " +
	"and the binlog already holds the rows the source's triggers wrote, so their effect would apply twice")

// CheckTriggers returns an ErrTriggers error naming each trigger on a table in written (the
// tables as a TableSink records them), or nil.
func CheckTriggers(ts []Trigger, written map[string]bool) error {
	var hit []string
	for _, t := range ts {
		if written[t.Table] {
			hit = append(hit, fmt.Sprintf("%s (%s ON %s)", t.Name, t.Timing, t.Table))
		}
	}
	if len(hit) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s. Drop them for the apply and re-create them after it (SHOW CREATE TRIGGER gives their text), "+
		"or accept the risk with --allow-triggers", ErrTriggers, strings.Join(hit, ", "))
}

// TableSink is a Sink that writes nothing and records the tables its row statements write.
type TableSink struct {
	Tables map[string]bool // `db`.`table`
}

var _ RowSink = (*TableSink)(nil)

func (s *TableSink) Session(context.Context, []string) error  { return nil }
func (s *TableSink) Begin(context.Context, TxnInfo) error     { return nil }
func (s *TableSink) Write(context.Context, []byte) error      { return nil }
func (s *TableSink) Commit(context.Context, TxnSummary) error { return nil }
func (s *TableSink) Rollback(context.Context) error           { return nil }
func (s *TableSink) Close() error                             { return nil }

// WriteRows implements RowSink.
func (s *TableSink) WriteRows(_ context.Context, stmt []byte, _ RowCheck) error {
	if s.Tables == nil {
		s.Tables = map[string]bool{}
	}
	// Only the statement's head: the table name is at its start.
	head := stmt[:min(len(stmt), 600)]
	s.Tables[stmtTable(string(head))] = true
	return nil
}

// ErrTriggerInWindow means the replay creates a trigger on the target, which would fire for
// the rows replayed after it.
var ErrTriggerInWindow = errors.New("the source created a trigger here; on the target it would fire for the rows replayed after it, " +
	"whose binlog already holds what the trigger wrote on the source, so its effect would apply twice. Replay up to this " +
	"transaction (--stop-position), create the trigger once the replay is done, or accept the risk with --allow-triggers")

// createdTrigger returns "name ON table" when stmt is a CREATE TRIGGER, else "".
func createdTrigger(stmt []byte) string {
	head := stmt[:min(len(stmt), 2048)]
	if len(head) < 6 || !bytes.EqualFold(head[:6], []byte("CREATE")) {
		return ""
	}
	m := dumpTrigger.FindSubmatch(head)
	if m == nil {
		return ""
	}
	return string(m[1]) + " (" + strings.ToUpper(string(m[2])) + " " + strings.ToUpper(string(m[3])) + " ON " + string(m[4]) + ")"
}
