package main

import (
	"os"
	"os/exec"
	"testing"
)

func TestZZScratch(t *testing.T) {
	_, files := statementSource(t, os.Getenv("SCRATCH_SQL"))
	out, err := exec.Command("mariadb-binlog", append([]string{"--no-defaults", "-vv"}, files...)...).CombinedOutput()
	os.WriteFile("/tmp/evscratch/out.sql", out, 0o644)
	if err != nil {
		t.Fatal(err)
	}
}
