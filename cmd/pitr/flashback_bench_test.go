package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

// BenchmarkFlashbackMassDelete undoes one DELETE of every row of a table (N rows, then 2N, in one
// transaction each) and reports the pitr process's peak RSS: a flashback spills the inverse
// statements to disk, so the peak must stay flat as the transaction doubles. N is 200k, or
// PITR_FLASHBACK_ROWS (the 2M: PITR_FLASHBACK_ROWS=2000000).
//
//	go test ./cmd/pitr -run '^$' -bench FlashbackMassDelete -benchtime 1x
func BenchmarkFlashbackMassDelete(b *testing.B) {
	n := 200000
	if v := os.Getenv("PITR_FLASHBACK_ROWS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	s := mariadbtest.Start(b, mariadbtest.Options{ExtraArgs: []string{"--max-binlog-size=1073741824"}})
	bin := pitrBinary(b)
	for _, rows := range []int{n, 2 * n} {
		db := fmt.Sprintf("fb%d", rows)
		mustScript(b, s, fmt.Sprintf(`CREATE DATABASE %[1]s;
CREATE TABLE %[1]s.t (id INT PRIMARY KEY, a BIGINT UNSIGNED, b VARCHAR(40), c DATETIME(6), d DECIMAL(12,2));
INSERT INTO %[1]s.t SELECT seq, seq * 7919, CONCAT('row ', seq, ' é'), '2026-11-29' + INTERVAL seq SECOND, seq / 100 FROM %[1]s.seq_1_to_%[2]d;`, db, rows))
		start := masterPos(b, s.DB)
		mustScript(b, s, "DELETE FROM "+db+".t")
		stop := masterPos(b, s.DB)
		files, err := s.BinlogFiles(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			var rss int64
			var wall time.Duration
			for i := 0; i < b.N; i++ {
				cmd := exec.Command(bin, append([]string{"replay", "--flashback", "--start-position", start, "--stop-position", stop, "-t", db + ".t"}, files...)...)
				var stderr strings.Builder
				cmd.Stderr = &stderr
				t0 := time.Now()
				if err := cmd.Run(); err != nil {
					b.Fatalf("%v: %s", err, stderr.String())
				}
				wall += time.Since(t0)
				if !strings.Contains(stderr.String(), fmt.Sprintf("inserted=%d", rows)) {
					b.Fatalf("the flashback does not insert %d rows: %s", rows, stderr.String())
				}
				if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > rss {
					rss = ru.Maxrss // KiB on Linux
				}
			}
			b.ReportMetric(float64(rss)/1024, "peak-RSS-MiB")
			b.ReportMetric(float64(rows)*float64(b.N)/wall.Seconds(), "rows/s")
		})
	}
}
