package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestPipesAndArchives: stdin ("-"), a pipe (/dev/fd/N, as <(zcat x.gz) gives) and .gz/.zst
// archives are read forward, once, and give the replay of the files (less the transactions'
// end offsets, which only a lookahead knows).
func TestPipesAndArchives(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/dml/mysql-bin.00000*")
	if len(files) < 2 {
		t.Fatal("no fixture binlogs")
	}
	want := runPitr(t, append([]string{"replay"}, files...)...)
	if want.code != 0 {
		t.Fatal(want.stderr)
	}
	dir := t.TempDir()
	var gz, zs []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var gb bytes.Buffer
		zw := gzip.NewWriter(&gb)
		zw.Write(b)
		zw.Close()
		p := filepath.Join(dir, filepath.Base(f)+".gz")
		os.WriteFile(p, gb.Bytes(), 0o600)
		gz = append(gz, p)
		var zb bytes.Buffer
		ze, _ := zstd.NewWriter(&zb)
		ze.Write(b)
		ze.Close()
		p = filepath.Join(dir, filepath.Base(f)+".zst")
		os.WriteFile(p, zb.Bytes(), 0o600)
		zs = append(zs, p)
	}
	for name, args := range map[string][]string{"gz": gz, "zst": zs} {
		got := runPitr(t, append([]string{"replay"}, args...)...)
		if got.code != 0 || normalize(got.stdout) != normalize(want.stdout) {
			t.Errorf("%s archives: exit %d %s\n%s", name, got.code, got.stderr, got.stdout)
		}
	}

	one := runPitr(t, "replay", files[0])
	first, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	asFile := func(out string) string {
		return normalize(strings.ReplaceAll(out, "-- stdin:", "-- "+filepath.Base(files[0])+":"))
	}

	cmd := exec.Command(pitrBinary(t), "replay", "-")
	cmd.Stdin = bytes.NewReader(first)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || asFile(stdout.String()) != normalize(one.stdout) {
		t.Errorf("stdin: %v %s\n%s", err, stderr.String(), stdout.String())
	}

	// A pipe, as the shell's <(zcat ...) gives it: /dev/fd/3.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(pitrBinary(t), "replay", "/dev/fd/3")
	cmd.ExtraFiles = []*os.File{r}
	stdout.Reset()
	stderr.Reset()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	w.Write(first)
	w.Close()
	err = cmd.Wait()
	got := strings.ReplaceAll(stdout.String(), "-- 3:", "-- "+filepath.Base(files[0])+":")
	if err != nil || normalize(got) != normalize(one.stdout) {
		t.Errorf("pipe: %v %s\n%s", err, stderr.String(), stdout.String())
	}

	// A file holding the magic number alone, from a pipe too, is an error.
	res := runPitr(t, "replay", writeFile(t, dir, "mysql-bin.000009", string(first[:4])))
	if res.code == 0 || !strings.Contains(res.stderr, "format description") {
		t.Errorf("magic only: exit %d, %s", res.code, res.stderr)
	}
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
