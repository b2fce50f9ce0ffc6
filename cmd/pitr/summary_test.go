package main

import (
	"strings"
	"testing"
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
