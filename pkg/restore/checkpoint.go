package restore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// Checkpoint is the row a target keeps of how far a replay got: the end position (and GTID
// and commit time) of the last source transaction it committed, written by the same target
// transaction as that transaction's rows. A crash therefore never loses or repeats one: the
// row and the data commit together or not at all.
type Checkpoint struct {
	DB, Table string // default "pitr", "checkpoint"
	Name      string // one row per replay; several replays can share the table
}

// CheckpointState is what a checkpoint row holds.
type CheckpointState struct {
	End  binlog.Position // just past the last committed source transaction
	GTID string
}

func (c *Checkpoint) appendTable(b []byte) []byte {
	b = appendIdent(b, c.DB)
	b = append(b, '.')
	return appendIdent(b, c.Table)
}

// CreateStatements create the checkpoint table if it is missing. They are DDL (an implicit
// commit) and run before the first transaction.
func (c *Checkpoint) CreateStatements() []string {
	db := string(appendIdent(nil, c.DB))
	tbl := string(c.appendTable(nil))
	return []string{
		"CREATE DATABASE IF NOT EXISTS " + db,
		"CREATE TABLE IF NOT EXISTS " + tbl + " (" +
			"`name` VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY, " +
			"`binlog_file` VARCHAR(255) NOT NULL, " +
			"`binlog_pos` BIGINT UNSIGNED NOT NULL, " +
			"`gtid` VARCHAR(255) NOT NULL, " +
			"`source_commit` DATETIME NULL, " +
			"`applied_at` TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)" +
			") ENGINE=InnoDB",
	}
}

// upsert is the statement that records end as the checkpoint, inside the transaction it ends.
// It holds no wall clock, so a dry run prints the same bytes every time.
func (c *Checkpoint) upsert(b []byte, end binlog.Position, gtid string, commit time.Time) []byte {
	b = append(b, "INSERT INTO "...)
	b = c.appendTable(b)
	b = append(b, " (`name`,`binlog_file`,`binlog_pos`,`gtid`,`source_commit`) VALUES ("...)
	b = appendQuoted(b, []byte(c.Name))
	b = append(b, ',')
	b = appendQuoted(b, []byte(end.File))
	b = append(b, ',')
	b = strconv.AppendInt(b, end.Offset, 10)
	b = append(b, ',')
	b = appendQuoted(b, []byte(gtid))
	b = append(b, ',')
	if commit.IsZero() {
		b = append(b, "NULL"...)
	} else {
		b = append(b, '\'')
		b = commit.UTC().AppendFormat(b, "2006-01-02 15:04:05")
		b = append(b, '\'')
	}
	return append(b, ") ON DUPLICATE KEY UPDATE `binlog_file`=VALUES(`binlog_file`),`binlog_pos`=VALUES(`binlog_pos`),"+
		"`gtid`=VALUES(`gtid`),`source_commit`=VALUES(`source_commit`)"...)
}

// Lock takes the checkpoint's named lock (GET_LOCK) for the session, waiting up to wait for
// it. Call it before Read: the server session of a run that died (kill -9, a lost connection)
// may still be executing its last batch, COMMIT included, and holds the lock until it ends. Read
// before that session is gone could see the checkpoint before that commit and apply the
// transaction again. The lock also keeps two applies of one checkpoint from running at once.
func (c *Checkpoint) Lock(ctx context.Context, conn *sql.Conn, wait time.Duration) error {
	sum := sha256.Sum256([]byte(c.DB + "." + c.Table + "/" + c.Name))
	q := fmt.Sprintf("SELECT GET_LOCK('pitr-%s', %d)", hex.EncodeToString(sum[:16]), int(wait.Seconds()))
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, q).Scan(&got); err != nil {
		return fmt.Errorf("lock checkpoint %s.%s %q: %w", c.DB, c.Table, c.Name, err)
	}
	if got.Int64 != 1 {
		return fmt.Errorf("checkpoint %s.%s %q: %w", c.DB, c.Table, c.Name, ErrCheckpointBusy)
	}
	return nil
}

// ErrCheckpointBusy means another session holds a checkpoint's lock: another apply of the same
// replay is running.
var ErrCheckpointBusy = errors.New("another session is applying to this checkpoint (its lock is held); wait for it, or stop it")

// Read returns the checkpoint row, or ok == false when there is none (nor the table).
func (c *Checkpoint) Read(ctx context.Context, conn *sql.Conn) (st CheckpointState, ok bool, err error) {
	// The name as a hex literal: the session's sql_mode is not known yet.
	q := append([]byte("SELECT `binlog_file`, `binlog_pos`, `gtid` FROM "), c.appendTable(nil)...)
	q = append(q, " WHERE `name` = CONVERT("...)
	q = appendHex(q, []byte(c.Name))
	q = append(q, " USING utf8mb4)"...)
	err = conn.QueryRowContext(ctx, string(q)).Scan(&st.End.File, &st.End.Offset, &st.GTID)
	var me *mysql.MySQLError
	switch {
	case err == nil:
		return st, true, nil
	case errors.Is(err, sql.ErrNoRows):
		return st, false, nil
	case errors.As(err, &me) && (me.Number == 1146 || me.Number == 1049): // no such table, database
		return st, false, nil
	}
	return st, false, fmt.Errorf("read checkpoint %s.%s: %w", c.DB, c.Table, err)
}
