package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestSchemaLargeDumpMemory: a 1 GiB full dump used as --schema is streamed: the data lines are
// skipped without being held, so pitr's peak RSS stays far below the dump's size.
func TestSchemaLargeDumpMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 1 GiB file")
	}
	schema, err := os.ReadFile(filepath.Join("..", "..", "testdata", "types_minimal", "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "big.sql")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.Write(schema)
	// 256 INSERT lines of 4 MiB each (a dump's extended inserts can be that long), with a line
	// that looks like a CREATE TABLE inside the data to be sure data is not parsed.
	line := "INSERT INTO `types` VALUES (1,'" + strings.Repeat("x", 4<<20) + "');\n"
	for i := 0; i < 256; i++ {
		w.WriteString(line)
	}
	w.WriteString("('CREATE TABLE is data here');\n")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	st, _ := os.Stat(path)
	if st.Size() < 1<<30 {
		t.Fatalf("dump is %d bytes, want at least 1 GiB", st.Size())
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "types_minimal", "mysql-bin.[0-9]*"))
	cmd := exec.Command(pitrBinary(t), append([]string{"replay", "-q", "--schema", path, "--start-position", "mysql-bin.000002:4"}, files...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("replay --schema with a 1 GiB dump: %v\n%s", err, stderr.String())
	}
	maxRSS := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
	t.Logf("peak RSS %d KiB with a %d MiB dump", maxRSS, st.Size()>>20)
	if maxRSS > 100<<10 {
		t.Errorf("peak RSS %d KiB with a 1 GiB --schema dump, want under 100 MiB", maxRSS)
	}
}
