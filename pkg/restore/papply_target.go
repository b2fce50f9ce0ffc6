package restore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// TargetKeys reads the target's unique indexes and foreign keys, for the write sets of a
// parallel apply.
func TargetKeys(ctx context.Context, conn *sql.Conn) (*KeyCatalog, error) {
	c := &KeyCatalog{Tables: map[string]TableKeys{}}
	rows, err := conn.QueryContext(ctx, "SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, COLUMN_NAME, SUB_PART IS NOT NULL "+
		"FROM information_schema.STATISTICS WHERE NON_UNIQUE = 0 "+
		"AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') "+
		"ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	lastIdx := ""
	for rows.Next() {
		var db, table, index, column string
		var prefix bool
		if err := rows.Scan(&db, &table, &index, &column, &prefix); err != nil {
			return nil, err
		}
		name := db + "." + table
		k := c.Tables[name]
		if len(k.Indexes) == 0 {
			k.Primary = index == "PRIMARY"
			lastIdx = ""
		}
		if index != lastIdx || len(k.Indexes) == 0 {
			k.Indexes = append(k.Indexes, nil)
			lastIdx = index
		}
		k.Indexes[len(k.Indexes)-1] = append(k.Indexes[len(k.Indexes)-1], column)
		k.Whole = k.Whole || prefix
		c.Tables[name] = k
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	fk, err := conn.QueryContext(ctx, "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, UNIQUE_CONSTRAINT_SCHEMA, REFERENCED_TABLE_NAME "+
		"FROM information_schema.REFERENTIAL_CONSTRAINTS")
	if err != nil {
		return nil, err
	}
	defer fk.Close()
	for fk.Next() {
		var cdb, ct, pdb, pt string
		if err := fk.Scan(&cdb, &ct, &pdb, &pt); err != nil {
			return nil, err
		}
		c.Linked = append(c.Linked, [2]string{cdb + "." + ct, pdb + "." + pt})
	}
	return c, fk.Err()
}

// TargetLockWaits returns, for each session waiting on a row lock, the sessions holding it:
// MariaDB's (and MySQL 5.7's) information_schema tables, else MySQL 8's performance_schema.
func TargetLockWaits(ctx context.Context, conn *sql.Conn) (map[int64][]int64, error) {
	qs := []string{
		"SELECT r.trx_mysql_thread_id, b.trx_mysql_thread_id FROM information_schema.INNODB_LOCK_WAITS w " +
			"JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id " +
			"JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id",
		"SELECT rt.PROCESSLIST_ID, bt.PROCESSLIST_ID FROM performance_schema.data_lock_waits w " +
			"JOIN performance_schema.threads rt ON rt.THREAD_ID = w.REQUESTING_THREAD_ID " +
			"JOIN performance_schema.threads bt ON bt.THREAD_ID = w.BLOCKING_THREAD_ID",
	}
	var first error
	for _, q := range qs {
		rows, err := conn.QueryContext(ctx, q)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		waits := map[int64][]int64{}
		for rows.Next() {
			var r, b sql.NullInt64
			if err := rows.Scan(&r, &b); err != nil {
				rows.Close()
				return nil, err
			}
			if r.Valid && b.Valid {
				waits[r.Int64] = append(waits[r.Int64], b.Int64)
			}
		}
		err = rows.Err()
		rows.Close()
		return waits, err
	}
	return nil, first
}

// maxWorkers bounds --threads: a new run waits for the sessions of up to this many workers
// of a run that died.
const maxWorkers = 64

func (c *Checkpoint) workerLockName(k int) string {
	sum := sha256.Sum256([]byte(c.DB + "." + c.Table + "/" + c.Name))
	return fmt.Sprintf("pitr-%s-%d", hex.EncodeToString(sum[:12]), k)
}

// WorkerLock takes worker k's named lock for the session: a parallel apply's worker session
// commits groups, and a run that follows one that died must not read the checkpoint before
// those sessions are gone (see Lock).
func (c *Checkpoint) WorkerLock(ctx context.Context, conn *sql.Conn, k int, wait time.Duration) error {
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", c.workerLockName(k), int(wait.Seconds())).Scan(&got); err != nil {
		return fmt.Errorf("lock checkpoint %s.%s %q worker %d: %w", c.DB, c.Table, c.Name, k, err)
	}
	if got.Int64 != 1 {
		return fmt.Errorf("checkpoint %s.%s %q worker %d: %w", c.DB, c.Table, c.Name, k, ErrCheckpointBusy)
	}
	return nil
}

// WaitWorkers waits, holding the checkpoint's lock, until no session holds a worker lock of
// it: the workers of a parallel run that died may still be running their last COMMIT.
func (c *Checkpoint) WaitWorkers(ctx context.Context, conn *sql.Conn, wait time.Duration) error {
	var q strings.Builder
	q.WriteString("SELECT CONCAT_WS(','")
	for k := range maxWorkers {
		fmt.Fprintf(&q, ", IF(IS_USED_LOCK('%s') IS NULL, NULL, %d)", c.workerLockName(k), k)
	}
	q.WriteString(")")
	var used sql.NullString
	if err := conn.QueryRowContext(ctx, q.String()).Scan(&used); err != nil {
		return fmt.Errorf("checkpoint %s.%s %q: workers' locks: %w", c.DB, c.Table, c.Name, err)
	}
	if used.String == "" {
		return nil
	}
	for _, ks := range strings.Split(used.String, ",") {
		var k int
		fmt.Sscan(ks, &k)
		if err := c.WorkerLock(ctx, conn, k, wait); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, "DO RELEASE_LOCK(?)", c.workerLockName(k)); err != nil {
			return err
		}
	}
	return nil
}
