package restore

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
	"github.com/pitr-tool/pitr/pkg/binlog"
)

// BenchmarkApply applies a binlog of small transactions (inserts, single and folded updates,
// deletes, on a keyed and a keyless table) to a real MariaDB target, into a fresh database each
// time, with the settings `pitr replay --target` uses. Rows/s is the figure to compare.
func BenchmarkApply(b *testing.B) {
	if testing.Short() {
		b.Skip("starts MariaDB servers")
	}
	const txns = 3000
	ctx := context.Background()
	src := mariadbtest.Start(b, mariadbtest.Options{})
	const schema = `CREATE TABLE %[1]s.k (id INT PRIMARY KEY, v INT NOT NULL, s VARCHAR(40));
CREATE TABLE %[1]s.nk (x INT, y VARCHAR(10))`
	src.Exec(b, "CREATE DATABASE bsrc;\n"+fmt.Sprintf(schema, "bsrc"))
	if err := src.FlushBinlogs(ctx); err != nil {
		b.Fatal(err)
	}
	for i := 1; i <= txns; i++ {
		q := fmt.Sprintf("BEGIN; INSERT INTO bsrc.k VALUES (%d,%d,'row %d'),(%d,0,NULL); INSERT INTO bsrc.nk VALUES (%d,'n')", 2*i, i, i, 2*i+1, i%10)
		if i%3 == 0 {
			q += fmt.Sprintf("; UPDATE bsrc.k SET v = v + 1 WHERE id BETWEEN %d AND %d", 2*i-10, 2*i)
		}
		if i%5 == 0 {
			q += fmt.Sprintf("; DELETE FROM bsrc.k WHERE id = %d; DELETE FROM bsrc.nk WHERE x = %d LIMIT 1", 2*i-7, i%10)
		}
		src.Exec(b, q+"; COMMIT")
	}
	files := src.WrittenBinlogs(b)
	var size int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			size += st.Size()
		}
	}
	tgt := mariadbtest.Start(b, mariadbtest.Options{NoBinlog: true})
	cfg, err := mysql.ParseDSN(tgt.DSN(""))
	if err != nil {
		b.Fatal(err)
	}
	cfg.ClientFoundRows = true
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		b.Fatal(err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	b.SetBytes(size)
	b.ResetTimer()
	var rows int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		name := fmt.Sprintf("b%d", i)
		tgt.Exec(b, "CREATE DATABASE "+name+";\n"+fmt.Sprintf(schema, name))
		rw, err := ParseRewrite([]string{"bsrc=" + name}, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := Apply(ctx, ApplyConfig{
			Config:  Config{Render: RenderOptions{Batch: 100, MaxPacket: 16 << 20, Rewrite: rw}},
			Connect: func(ctx context.Context) (*sql.Conn, error) { return db.Conn(ctx) },
			Open: func(context.Context, binlog.Position) (binlog.Source, error) {
				return binlog.OpenFiles(files, binlog.FileOptions{})
			},
			Checkpoint: &Checkpoint{DB: "pitr", Table: "checkpoint", Name: name},
			MaxBatch:   1 << 20,
		})
		if err != nil {
			b.Fatal(err)
		}
		rows += res.Inserts + res.Updates + res.Deletes
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkApplyHotRow applies a conflict-heavy binlog (every transaction updates the same row,
// and inserts one of its own) with one connection and with four: every group then waits for the
// one before it, and the parallel apply must cost little more than the serial one: the
// threads4/threads1 metric.
func BenchmarkApplyHotRow(b *testing.B) {
	if testing.Short() {
		b.Skip("starts MariaDB servers")
	}
	const txns = 30000
	ctx := context.Background()
	src := mariadbtest.Start(b, mariadbtest.Options{})
	const schema = `CREATE TABLE %[1]s.hot (id INT PRIMARY KEY, v BIGINT NOT NULL);
CREATE TABLE %[1]s.log (id INT PRIMARY KEY, at INT NOT NULL);
INSERT INTO %[1]s.hot VALUES (1, 0)`
	src.Exec(b, "CREATE DATABASE bsrc;\n"+fmt.Sprintf(schema, "bsrc"))
	src.Exec(b, `CREATE PROCEDURE bsrc.gen(n INT)
BEGIN
  DECLARE i INT DEFAULT 1;
  WHILE i <= n DO
    START TRANSACTION;
    UPDATE bsrc.hot SET v = v + i WHERE id = 1;
    INSERT INTO bsrc.log VALUES (i, i);
    COMMIT;
    SET i = i + 1;
  END WHILE;
END`)
	if err := src.FlushBinlogs(ctx); err != nil {
		b.Fatal(err)
	}
	src.Exec(b, "CALL bsrc.gen(?)", txns)
	files := src.WrittenBinlogs(b)
	tgt := mariadbtest.Start(b, mariadbtest.Options{NoBinlog: true})
	cfg, err := mysql.ParseDSN(tgt.DSN(""))
	if err != nil {
		b.Fatal(err)
	}
	cfg.ClientFoundRows = true
	cfg.MultiStatements = true
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		b.Fatal(err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	db.SetMaxIdleConns(0)
	// Each iteration applies with one connection, then with four, into fresh databases: the
	// ratio of the two sums is a paired one, however the machine's speed drifts.
	var spent [2]time.Duration
	for i := 0; i < b.N; i++ {
		for v, threads := range []int{1, 4} {
			name := fmt.Sprintf("h%d_%d", i, threads)
			tgt.Exec(b, "CREATE DATABASE "+name+";\n"+fmt.Sprintf(schema, name))
			rw, err := ParseRewrite([]string{"bsrc=" + name}, nil)
			if err != nil {
				b.Fatal(err)
			}
			began := time.Now()
			res, err := Apply(ctx, ApplyConfig{
				Config:  Config{Render: RenderOptions{Batch: 100, MaxPacket: 16 << 20, Rewrite: rw}},
				Connect: func(ctx context.Context) (*sql.Conn, error) { return db.Conn(ctx) },
				Open: func(context.Context, binlog.Position) (binlog.Source, error) {
					return binlog.OpenFiles(files, binlog.FileOptions{})
				},
				Checkpoint: &Checkpoint{DB: "pitr", Table: "checkpoint", Name: name},
				MaxBatch:   1 << 20,
				Threads:    threads,
			})
			spent[v] += time.Since(began)
			if err != nil {
				b.Fatal(err)
			}
			if res.Transactions != txns {
				b.Fatalf("%d transactions applied, want %d", res.Transactions, txns)
			}
		}
	}
	b.ReportMetric(spent[0].Seconds()/float64(b.N), "s/threads=1")
	b.ReportMetric(spent[1].Seconds()/float64(b.N), "s/threads=4")
	b.ReportMetric(spent[1].Seconds()/spent[0].Seconds(), "threads4/threads1")
}
