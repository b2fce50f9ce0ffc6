// Command pitr replays MySQL and MariaDB binary logs as exact SQL for point-in-time recovery.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	root := newRootCmd()
	root.SetArgs(hideSecrets(os.Args)[1:])
	err := root.ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pitr: "+err.Error())
	}
	os.Exit(exitCode(err))
}
