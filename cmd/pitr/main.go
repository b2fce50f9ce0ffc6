// Command pitr replays MySQL and MariaDB binary logs as exact SQL for point-in-time recovery.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// For the developers: a CPU profile of the whole run (go tool pprof bin/pitr FILE).
	if p := os.Getenv("PITR_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil && pprof.StartCPUProfile(f) == nil {
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
	}
	root := newRootCmd()
	root.SetArgs(hideSecrets(os.Args)[1:])
	err := root.ExecuteContext(ctx)
	stop()
	pprof.StopCPUProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pitr: "+err.Error())
	}
	os.Exit(exitCode(err))
}
