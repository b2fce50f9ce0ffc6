package binlog

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// OrderFiles expands server .index files and returns the binlog paths in sequence order, as the
// server wrote them, whatever order they were given in. Files must share one base name. A
// missing sequence number is an error unless allowGaps: a gap means transactions are missing.
func OrderFiles(paths []string, allowGaps bool) ([]string, error) {
	var files []string
	for _, p := range paths {
		if strings.HasSuffix(p, ".index") {
			listed, err := readIndex(p)
			if err != nil {
				return nil, err
			}
			files = append(files, listed...)
			continue
		}
		files = append(files, p)
	}
	if len(files) == 0 {
		return nil, errors.New("no binlog files given")
	}
	type entry struct {
		path string
		base string
		seq  uint64
	}
	entries := make([]entry, 0, len(files))
	seen := map[string]string{}
	for _, f := range files {
		name := inputName(f) // mysql-bin.000042.gz holds mysql-bin.000042
		if prev, ok := seen[name]; ok {
			// The same file twice: mysql-bin.* in the server's folder names both the files and
			// the .index that lists them.
			if prev == f || sameFile(prev, f) {
				continue
			}
			return nil, fmt.Errorf("%s and %s have the same file name", prev, f)
		}
		seen[name] = f
		seq, ok := fileSeq(name)
		if !ok {
			if len(files) == 1 {
				return []string{f}, nil
			}
			return nil, fmt.Errorf("%s: binlog file name has no numeric extension, so its order is unknown; give it alone", f)
		}
		entries = append(entries, entry{path: f, base: name[:strings.LastIndexByte(name, '.')], seq: seq})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].seq < entries[j].seq })
	out := make([]string, len(entries))
	for i, e := range entries {
		if e.base != entries[0].base {
			return nil, fmt.Errorf("%s and %s belong to different binlog series", entries[0].path, e.path)
		}
		if i > 0 && e.seq != entries[i-1].seq+1 && !allowGaps {
			return nil, fmt.Errorf("binlog sequence has a gap between %s and %s (files missing; --allow-gaps to replay anyway)",
				filepath.Base(entries[i-1].path), filepath.Base(e.path))
		}
		out[i] = e.path
	}
	return out, nil
}

// readIndex reads a server's binlog index: one path per line, relative to the data directory
// (usually "./mysql-bin.000001"), which we resolve against the index file's own folder.
func readIndex(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dir := filepath.Dir(path)
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		p := filepath.Join(dir, filepath.Base(line))
		if filepath.IsAbs(line) {
			if _, err := os.Stat(line); err == nil {
				p = line
			}
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: index lists no binlog files", path)
	}
	return out, nil
}

func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}
