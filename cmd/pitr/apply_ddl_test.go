package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

// TestApplyWithDDL applies the dml fixture, DDL and all (CREATE DATABASE and TABLE, ALTER TABLE,
// DROP TABLE), to an empty server, and the same replay printed and piped into the mariadb client
// to another: both end the same, table by table.
func TestApplyWithDDL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB servers")
	}
	ctx := context.Background()
	applied := mariadbtest.Start(t, mariadbtest.Options{NoBinlog: true})
	piped := mariadbtest.Start(t, mariadbtest.Options{NoBinlog: true})
	res := runPitr(t, append([]string{"replay", "-q", "--yes", "--no-defaults", "--target-socket", applied.Socket, "--target-user", "root"}, fixture("dml")...)...)
	if res.code != 0 {
		t.Fatalf("apply: exit %d: %s", res.code, res.stderr)
	}
	if res.stderr != "" { // -q: errors only; --yes asks nothing, so no summary either
		t.Errorf("-q --yes printed on stderr:\n%s", res.stderr)
	}
	var sql bytes.Buffer
	if err := runReplay(ctx, replayOptions{timezone: "UTC", batch: 1, maxPacket: "64M"}, &globalOptions{quiet: true}, fixture("dml"), &sql); err != nil {
		t.Fatal(err)
	}
	cmd := piped.Client(ctx)
	cmd.Stdin = &sql
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("piping: %v\n%s", err, out)
	}
	for _, table := range []string{"shop.orders", "shop.audit", "crm.customers"} {
		sa, ra := tableRows(t, applied.DB, table)
		sp, rp := tableRows(t, piped.DB, table)
		if sa != sp || len(ra) != len(rp) || len(ra) == 0 && table != "shop.audit" { // audit ends empty
			t.Errorf("%s: applied %s %v, piped %s %v", table, sa, ra, sp, rp)
		}
	}
	var n int
	applied.DB.QueryRow("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'order_items'").Scan(&n)
	if n != 0 {
		t.Errorf("shop.order_items was dropped on the source but exists on the target")
	}
}
