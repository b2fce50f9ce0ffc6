package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

// applyBench, on by default, adds to the report the apply throughput: pitr replay --target into a
// fresh MariaDB, against `mariadb-binlog FILES | mariadb` into another fresh one, and whether
// both end in the same state.
var applyBench = flag.Bool("apply", true, "also time pitr replay --target against mariadb-binlog | mariadb, each into a fresh server")

// applyThreads lists the --threads values the apply benchmark runs pitr with, besides its
// default flags ("" for those only).
var applyThreads = flag.String("apply-threads", "1,2,4,8", "comma-separated --threads `values` to time pitr replay --target with, after its default flags")

// applyRounds: the applies are run in turn this many times (every --threads value, then the
// pipe, then again), and the figures are medians, each ratio the median of each round's own.
// The pipe's wall time swings most: it waits on a round trip per statement, and on an idle VM
// each wake-up costs more than on a busy one.
var applyRounds = flag.Int("apply-runs", 3, "rounds of the apply commands, taken in turn; figures are medians")

// applyServerArgs are the same for both targets: enough buffer pool and redo log for the
// 1M-row transaction. The pipe also needs max_allowed_packet raised (its BINLOG statement for the
// bulk transaction is bigger than the default); pitr splits statements and never needs it.
var applyServerArgs = []string{"--innodb-buffer-pool-size=512M", "--innodb-log-file-size=512M", "--max-allowed-packet=1G"}

// applyRun is one apply and what it left on its target.
type applyRun struct {
	label   string
	res     result
	srvCPU  time.Duration
	sums    string
	rows    int64
	summary string
}

// measureApply runs both applies, one after the other, and reports them.
func measureApply(ctx context.Context, dir, pitr, mbinlog string, ds dataset) (string, error) {
	files := ds.paths(dir)
	total := sizeOf(files)
	client, err := clientPath()
	if err != nil {
		return "", err
	}
	// Both targets start empty: the binlog's own DDL creates the tables, for pitr as for the pipe.

	var rounds [][]applyRun
	whiches := []string{"pitr"}
	for _, t := range strings.Split(*applyThreads, ",") {
		if t = strings.TrimSpace(t); t != "" {
			whiches = append(whiches, "pitr --threads="+t)
		}
	}
	whiches = append(whiches, "pipe")
	for round := 0; round < max(1, *applyRounds); round++ {
		var runs []applyRun
		for _, which := range whiches {
			sdir := filepath.Join(dir, "apply-"+strings.NewReplacer(" ", "", "=", "", "-", "").Replace(which))
			os.RemoveAll(sdir)
			srv, err := mariadbtest.Launch(ctx, sdir, mariadbtest.Options{NoBinlog: true, ExtraArgs: applyServerArgs})
			if err != nil {
				return "", err
			}
			r, err := func() (applyRun, error) {
				defer func() { srv.Stop(); os.RemoveAll(sdir) }()
				var argv []string
				var label string
				if flags, ok := strings.CutPrefix(which, "pitr"); ok {
					label = "F pitr replay --target (fresh MariaDB)"
					argv = []string{pitr, "replay", "--no-defaults", "--target-socket=" + srv.Socket, "--target-user=root", "--yes"}
					if flags = strings.TrimSpace(flags); flags != "" {
						label = "F pitr replay --target " + flags
						argv = append(argv, flags)
					}
					argv = append(argv, files...)
				} else {
					label = "G mariadb-binlog | mariadb (fresh MariaDB)"
					pipe := shellQuote(mbinlog)
					for _, f := range files {
						pipe += " " + shellQuote(f)
					}
					pipe += " | " + shellQuote(client) + " --no-defaults -uroot --socket=" + shellQuote(srv.Socket) + " --max-allowed-packet=1G"
					argv = []string{"/bin/sh", "-c", pipe}
				}
				before := procCPU(srv.Pid())
				m, err := measure(ctx, label, total, argv)
				if err != nil {
					return applyRun{}, err
				}
				r := applyRun{label: label, res: m, srvCPU: procCPU(srv.Pid()) - before}
				var sums []string
				for _, t := range []string{"big", "orders", "accounts", "small"} {
					var name string
					var sum int64
					if err := srv.DB.QueryRowContext(ctx, "CHECKSUM TABLE bench."+t).Scan(&name, &sum); err != nil {
						return r, err
					}
					sums = append(sums, t+"="+strconv.FormatInt(sum, 10))
				}
				r.sums = strings.Join(sums, " ")
				if c, ok := applyCounts(m.stderr); ok {
					r.rows = c["inserted"] + c["updated"] + c["deleted"]
				}
				return r, nil
			}()
			if err != nil {
				return "", err
			}
			runs = append(runs, r)
		}
		rounds = append(rounds, runs)
	}
	runs := medianRuns(rounds)
	p, g := runs[0], runs[len(runs)-1]
	rows := p.rows // the pipe prints no counts; both apply the same rows
	var sb strings.Builder
	fmt.Fprintf(&sb, "\napply into a fresh MariaDB (%s), %d round(s), the commands in turn in each; medians; target options %s:\n",
		ds.Server, len(rounds), strings.Join(applyServerArgs, " "))
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\twall s\tk rows/s\tclient cpu s\tserver cpu s\tclient peak RSS MiB\texit\t")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s \t%.2f\t%.1f\t%.2f\t%.2f\t%.1f\t%d\t\n", r.label, r.res.wall.Seconds(),
			float64(rows)/r.res.wall.Seconds()/1000, (r.res.user + r.res.sys).Seconds(), r.srvCPU.Seconds(), float64(r.res.rssKiB)/1024, r.res.exit)
	}
	tw.Flush()
	fmt.Fprintf(&sb, "rows: %d (from pitr's apply summary)\n", rows)
	ratio := func(i int) (med float64, each []string) {
		var xs []float64
		for _, rs := range rounds {
			x := rs[len(rs)-1].res.wall.Seconds() / rs[i].res.wall.Seconds()
			xs = append(xs, x)
			each = append(each, fmt.Sprintf("%.2f", x))
		}
		return median(xs), each
	}
	m, each := ratio(0)
	fmt.Fprintf(&sb, "throughput ratio pitr / pipe (F/G), default flags: %.2f, the median of each round's (%s) (issue 16's aim: at least 1.5)\n", m, strings.Join(each, " "))
	for i, r := range runs[1 : len(runs)-1] {
		m, each := ratio(i + 1)
		fmt.Fprintf(&sb, "  %s / pipe: %.2f (%s)\n", r.label, m, strings.Join(each, " "))
	}
	same := "yes"
	for _, rs := range rounds {
		for _, r := range rs[:len(rs)-1] {
			if r.sums != rs[len(rs)-1].sums {
				same = "NO (" + r.label + ")"
			}
		}
	}
	fmt.Fprintf(&sb, "same end state (CHECKSUM TABLE): %s\n  F: %s\n  G: %s\n", same, p.sums, g.sums)
	fmt.Fprintf(&sb, "where F's time goes: pitr %.1f s CPU, the server %.1f s CPU, of %.1f s wall (the rest is waiting on round trips and commits)\n",
		(p.res.user + p.res.sys).Seconds(), p.srvCPU.Seconds(), p.res.wall.Seconds())
	for _, r := range slices.Concat(rounds...) {
		if r.res.exit != 0 {
			fmt.Fprintf(&sb, "%s exited %d; stderr tail:\n%s\n", r.label, r.res.exit, lastLines(r.res.stderr, 10))
		}
	}
	slog.Info("apply benchmark done")
	return sb.String(), nil
}

// medianRuns is each command's run with the median wall time, CPU and server CPU over the rounds.
func medianRuns(rounds [][]applyRun) []applyRun {
	out := slices.Clone(rounds[0])
	for i := range out {
		var wall, user, sys, srv, rss []float64
		for _, rs := range rounds {
			r := rs[i]
			wall, user, sys, srv = append(wall, float64(r.res.wall)), append(user, float64(r.res.user)), append(sys, float64(r.res.sys)), append(srv, float64(r.srvCPU))
			rss = append(rss, float64(r.res.rssKiB))
			if r.res.exit != 0 {
				out[i].res.exit, out[i].res.stderr = r.res.exit, r.res.stderr
			}
		}
		out[i].res.wall, out[i].res.user, out[i].res.sys = time.Duration(median(wall)), time.Duration(median(user)), time.Duration(median(sys))
		out[i].srvCPU = time.Duration(median(srv))
		out[i].res.rssKiB = int64(median(rss))
	}
	return out
}

var applyDoneRE = doneRE

// applyCounts reads pitr's final "apply done" log line.
func applyCounts(stderr string) (map[string]int64, bool) {
	for _, line := range strings.Split(stderr, "\n") {
		if !strings.Contains(line, "apply done") {
			continue
		}
		m := map[string]int64{}
		for _, g := range applyDoneRE.FindAllStringSubmatch(line, -1) {
			n, _ := strconv.ParseInt(g[2], 10, 64)
			m[g[1]] = n
		}
		return m, len(m) == 4
	}
	return nil, false
}

// procCPU is the user+system CPU time of a process so far, from /proc (0 if unreadable).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

func clientPath() (string, error) {
	for _, c := range []string{os.Getenv("PITR_MARIADB_CLIENT"), "mariadb", "/usr/bin/mariadb"} {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("mariadb client not found")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
