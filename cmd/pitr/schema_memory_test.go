package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
	maxRSS := peakRSS(t, append([]string{pitrBinary(t), "replay", "-q", "--schema", path, "--start-position", "mysql-bin.000002:4"}, files...))
	t.Logf("peak RSS %d KiB with a %d MiB dump", maxRSS, st.Size()>>20)
	if maxRSS > 100<<10 {
		t.Errorf("peak RSS %d KiB with a 1 GiB --schema dump, want under 100 MiB", maxRSS)
	}
}

// peakRSS runs argv and returns its peak RSS in KiB. It is started from a fresh, small helper
// process: os/exec forks with the parent's address space shared until exec, and Linux then
// charges the child's ru_maxrss with the parent's peak, which in a test binary that has run
// other tests can be far above pitr's own.
func peakRSS(t *testing.T, argv []string) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestPeakRSSHelper$")
	cmd.Env = append(os.Environ(), "PITR_PEAKRSS_ARGV="+strings.Join(argv, "\x1f"))
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s%s", strings.Join(argv, " "), err, stdout.String(), stderr.String())
	}
	_, after, ok := strings.Cut(stdout.String(), "maxrss ")
	if !ok {
		t.Fatalf("helper printed no maxrss:\n%s", stdout.String())
	}
	f := strings.Fields(after)
	kib, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return kib
}

// TestPeakRSSHelper is the helper process of peakRSS; run alone it skips.
func TestPeakRSSHelper(t *testing.T) {
	argv := os.Getenv("PITR_PEAKRSS_ARGV")
	if argv == "" {
		t.Skip("helper process, started by peakRSS")
	}
	args := strings.Split(argv, "\x1f")
	cmd := exec.Command(args[0], args[1:]...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	fmt.Printf("maxrss %d\n", cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) // KiB on Linux
}
