package main

import (
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/pkg/restore"
)

// TestSummaryDisplayText: names in the apply summary come from binlogs and servers; a line
// break or a terminal escape in one must not make a line of its own nor reach the terminal.
func TestSummaryDisplayText(t *testing.T) {
	var b strings.Builder
	hostile := "mysql-bin.000001\n  checkpoint:  none\x1b[2J"
	summary{origin: "binlogs: " + hostile, target: "root@db\r1", o: replayOptions{timezone: "UTC"}}.print(&b)
	out := b.String()
	if strings.ContainsAny(out, "\x1b\r") {
		t.Errorf("a control character reached the summary: %q", out)
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if strings.HasPrefix(l, "  checkpoint:  none\\") || l == "  checkpoint:  none" {
			t.Errorf("the file name made a line of its own: %q", out)
		}
	}
	if !strings.Contains(out, `mysql-bin.000001\n  checkpoint:  none\x1b[2J`) {
		t.Errorf("the name is not shown escaped: %q", out)
	}
}

// TestSummaryFlashback: the counting pass reads a flashback's window forward, so the summary
// before an undo turns its counts around (a mass DELETE is undone by inserts) and says why there
// is no checkpoint; a replay's summary shows them as read.
func TestSummaryFlashback(t *testing.T) {
	st := restore.Stats{Transactions: 2, Inserts: 3, Updates: 5, Deletes: 150}
	for _, tc := range []struct {
		flashback bool
		want      []string
	}{
		{true, []string{"  to undo:     2 transactions, 158 rows (150 inserted, 5 updated, 3 deleted)\n", "  checkpoint:  none (--flashback: one target transaction"}},
		{false, []string{"  to apply:    2 transactions, 158 rows (3 inserted, 5 updated, 150 deleted)\n", "  checkpoint:  none (--no-checkpoint)\n"}},
	} {
		var b strings.Builder
		summary{origin: "binlogs: mysql-bin.000001", target: "root@db1:3306", counted: true, stats: st,
			o: replayOptions{timezone: "UTC", flashback: tc.flashback}}.print(&b)
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("flashback=%v: the summary lacks %q:\n%s", tc.flashback, w, b.String())
			}
		}
	}
}
