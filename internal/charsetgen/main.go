// Command charsetgen writes the character set tables pkg/restore renders text with: for every
// character set a MariaDB server lists, which byte sequences its own conversion carries to
// Unicode and back unchanged. It asks a throwaway MariaDB (internal/mariadbtest) through
// CONVERT(... USING ...), so the tables are the server's conversions, not a library's idea of
// them. (Which charset a collation id names is pkg/binlog/collation's business.)
//
// Run it with `make charsets`.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"sort"
	"unicode/utf8"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

func main() {
	out := flag.String("o", "pkg/restore", "folder to write charsets_gen.go and charsets_mb.bin.gz into")
	flag.Parse()
	if err := run(context.Background(), *out); err != nil {
		fmt.Fprintln(os.Stderr, "charsetgen:", err)
		os.Exit(1)
	}
}

type charsetRow struct {
	name   string
	maxLen int
	minLen int
	ascii  [2]uint64 // bytes below 0x80 that are themselves both ways
	single []rune    // single-byte charsets: each byte's character, -1 where the round trip fails
	multi  []entry   // multi-byte charsets: every code of one character that round-trips
	srvID  map[int]bool
}

type entry struct {
	code uint32 // the bytes, big-endian
	n    int    // how many
	r    rune
}

func run(ctx context.Context, out string) error {
	tmp, err := os.MkdirTemp("", "charsetgen")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	srv, err := mariadbtest.Launch(ctx, tmp, mariadbtest.Options{NoBinlog: true})
	if err != nil {
		return err
	}
	defer srv.Stop()
	db := srv.DB
	var version string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		return err
	}
	var sets []*charsetRow
	rows, err := db.QueryContext(ctx, "SELECT CHARACTER_SET_NAME, MAXLEN FROM information_schema.CHARACTER_SETS ORDER BY 1")
	if err != nil {
		return err
	}
	for rows.Next() {
		c := &charsetRow{}
		if err := rows.Scan(&c.name, &c.maxLen); err != nil {
			return err
		}
		sets = append(sets, c)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// gb18030 is MySQL's only: its bytes 0x00-0x7F are ASCII by the GB 18030 standard; nothing
	// else of it is proven here, so the rest is written in hex.
	sets = append(sets, &charsetRow{name: "gb18030", maxLen: 4, minLen: 1, ascii: [2]uint64{^uint64(0), ^uint64(0)}})
	for _, c := range sets {
		if c.name == "gb18030" {
			continue
		}
		if err := c.probe(ctx, db); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].name < sets[j].name })
	if err := writeGo(filepath.Join(out, "charsets_gen.go"), version, sets); err != nil {
		return err
	}
	return writeMulti(filepath.Join(out, "charsets_mb.bin.gz"), sets)
}

// probe asks the server how each code of the charset converts: to utf8mb4, and back.
func (c *charsetRow) probe(ctx context.Context, db *sql.DB) error {
	switch c.name {
	case "binary":
		return nil
	case "ucs2", "utf16", "utf16le", "utf32":
		// Not ASCII-compatible; rendered by their Unicode encoding rules (pkg/restore), which
		// the round-trip test checks on a server.
		c.minLen = map[string]int{"ucs2": 2, "utf16": 2, "utf16le": 2, "utf32": 4}[c.name]
		return nil
	}
	c.minLen = 1
	codes := func(n int, from, to uint32) ([]entry, error) {
		// One query per range: each code as a binary string of n bytes, converted to the
		// charset (invalid codes become '?'), to utf8mb4, and back.
		q := fmt.Sprintf(`SELECT seq, HEX(CONVERT(CONVERT(b USING %[1]s) USING utf8mb4)),
			HEX(CONVERT(CONVERT(CONVERT(b USING %[1]s) USING utf8mb4) USING %[1]s)), CHAR_LENGTH(CONVERT(b USING %[1]s))
			FROM (SELECT seq, UNHEX(LPAD(HEX(seq), %[2]d, '0')) AS b FROM mysql.seq_%[3]d_to_%[4]d) t`, c.name, 2*n, from, to)
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []entry
		for rows.Next() {
			var code uint32
			var u, back string
			var chars int
			if err := rows.Scan(&code, &u, &back, &chars); err != nil {
				return nil, err
			}
			want := fmt.Sprintf("%0*X", 2*n, code)
			ub, err := hex.DecodeString(u)
			if err != nil {
				return nil, err
			}
			r, size := utf8.DecodeRune(ub)
			if back != want || chars != 1 || size != len(ub) || r == utf8.RuneError {
				continue
			}
			out = append(out, entry{code: code, n: n, r: r})
		}
		return out, rows.Err()
	}
	one, err := codes(1, 0, 255)
	if err != nil {
		return err
	}
	if c.maxLen == 1 {
		c.single = make([]rune, 256)
		for i := range c.single {
			c.single[i] = -1
		}
	}
	for _, e := range one {
		if e.code < 0x80 && e.r == rune(e.code) {
			c.ascii[e.code>>6] |= 1 << (e.code & 63)
		}
		if c.single != nil {
			c.single[e.code] = e.r
		} else if e.code >= 0x80 {
			c.multi = append(c.multi, e)
		}
	}
	if c.maxLen == 1 || c.name == "utf8mb3" || c.name == "utf8mb4" {
		return nil
	}
	two, err := codes(2, 0x8000, 0xFFFF)
	if err != nil {
		return err
	}
	c.multi = append(c.multi, two...)
	if c.maxLen == 3 { // ujis, eucjpms: JIS X 0212 behind the 0x8F shift byte
		three, err := codes(3, 0x8FA1A1, 0x8FFEFE)
		if err != nil {
			return err
		}
		c.multi = append(c.multi, three...)
	}
	return nil
}

func writeGo(path, version string, sets []*charsetRow) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by go run ./internal/charsetgen from MariaDB %s; DO NOT EDIT.\n\n", version)
	b.WriteString("package restore\n\n")
	b.WriteString("// charsetTable lists every character set, with what the server's conversions prove about it.\nvar charsetTable = [...]charsetInfo{\n")
	for _, c := range sets {
		fmt.Fprintf(&b, "\t{name: %q, minLen: %d, maxLen: %d, ascii: [2]uint64{%#x, %#x}, multi: %v", c.name, c.minLen, c.maxLen, c.ascii[0], c.ascii[1], len(c.multi) > 0)
		if c.single != nil {
			b.WriteString(", single: &[256]rune{")
			for j, r := range c.single {
				if j%16 == 0 {
					b.WriteString("\n\t\t")
				}
				fmt.Fprintf(&b, "%d, ", r)
			}
			b.WriteString("\n\t}")
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return err
	}
	return os.WriteFile(path, src, 0o644)
}

// writeMulti writes the multi-byte tables: per charset, its name (length byte, then the name),
// the number of entries (uvarint), and each entry, sorted by length then code, as its code length
// (1 byte), the code's distance from the one before (uvarint) and the rune's (varint).
func writeMulti(path string, sets []*charsetRow) error {
	var raw bytes.Buffer
	var tmp [binary.MaxVarintLen64]byte
	for _, c := range sets {
		if len(c.multi) == 0 {
			continue
		}
		sort.Slice(c.multi, func(i, j int) bool {
			a, b := c.multi[i], c.multi[j]
			return a.n < b.n || a.n == b.n && a.code < b.code
		})
		raw.WriteByte(byte(len(c.name)))
		raw.WriteString(c.name)
		raw.Write(binary.AppendUvarint(tmp[:0], uint64(len(c.multi))))
		var code uint32
		var r rune
		n := 0
		for _, e := range c.multi {
			if e.n != n {
				code, n = 0, e.n
			}
			raw.WriteByte(byte(e.n))
			raw.Write(binary.AppendUvarint(tmp[:0], uint64(e.code-code)))
			raw.Write(binary.AppendVarint(tmp[:0], int64(e.r-r)))
			code, r = e.code, e.r
		}
	}
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	w.Write(raw.Bytes())
	if err := w.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, gz.Bytes(), 0o644)
}
