package restore

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
	"github.com/pitr-tool/pitr/pkg/binlog"
)

// candidates are characters a value or ENUM/SET member of each charset may hold: each charset
// keeps those its conversion carries both ways (asked of the server), so that no member turns
// into a '?' twin of another.
var candidates = []string{"é", "Ж", "中", "한", "ア", "€", "ß", "ø", "α", "ש", "ش", "ก", "Ա", "ა", "Ł", "ı", "ё", "ñ", "ç"}

// sampleText holds what trips literal rules: quotes, backslash, swe7's letters ({|}@[]^`~),
// sjis's one-way backslash, and letters of many scripts; each charset stores what it can of it.
const sampleText = "aZ ~\\'\"`{|}@[]^ é€中한アЖß🙂ø"

type charsetSpec struct {
	name, defColl string
	maxLen        int
	ok            []string // candidates the charset round-trips
}

// TestValuesRoundTrip replays, on one source and one target server, a table with a VARCHAR,
// CHAR, TEXT, ENUM and SET column in every character set the server lists, tables whose
// default charset is multi-byte (keyed by text and keyless), a column in every binary and
// NO PAD collation and in locale ones, tables keyed by text in each collation family, BINARY(n)
// with trailing zeros as data and as key, UUID, INET4, INET6, invisible columns, a sequence,
// zero dates, invalid dates and a zero AUTO_INCREMENT value, and a BLOB row that fits the
// packet limit only in its escaped form: under binlog_row_metadata FULL, MINIMAL and NO_LOG
// (schema from mariadb-dump --no-data) and binlog_row_image FULL, MINIMAL and NOBLOB, through
// the mariadb client and through Apply. Every table must match byte for byte (HEX of every
// string column, CHECKSUM TABLE).
func TestValuesRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB servers")
	}
	ctx := context.Background()
	src := mariadbtest.Start(t, mariadbtest.Options{})
	dst := mariadbtest.Start(t, mariadbtest.Options{NoBinlog: true})
	specs := charsetSpecs(t, src.DB)
	colls := collationList(t, src.DB)
	schema := valuesSchema(specs, colls)
	workload := valuesWorkload(specs, colls)

	combos := []struct{ meta, image string }{
		{"FULL", "FULL"}, {"FULL", "MINIMAL"}, {"FULL", "NOBLOB"},
		{"MINIMAL", "FULL"}, {"MINIMAL", "MINIMAL"}, {"MINIMAL", "NOBLOB"},
		{"NO_LOG", "FULL"}, {"NO_LOG", "MINIMAL"}, {"NO_LOG", "NOBLOB"},
	}
	for i, c := range combos {
		db := fmt.Sprintf("v%d", i)
		t.Run(c.meta+"/"+c.image, func(t *testing.T) {
			setup := fmt.Sprintf("CREATE DATABASE %[1]s DEFAULT CHARSET utf8mb4; USE %[1]s;\n%[2]s", db, schema)
			for _, s := range []string{setup, strings.ReplaceAll(setup, db, db+"_a")} {
				if err := dst.ExecScript(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			if err := src.ExecScript(ctx, setup); err != nil {
				t.Fatal(err)
			}
			if _, err := src.DB.ExecContext(ctx, "SET GLOBAL binlog_row_metadata="+c.meta); err != nil {
				t.Fatal(err)
			}
			if err := src.FlushBinlogs(ctx); err != nil {
				t.Fatal(err)
			}
			before, err := src.BinlogFiles(ctx)
			if err != nil {
				t.Fatal(err)
			}
			script := fmt.Sprintf("SET SESSION binlog_row_image=%s; SET SESSION sql_mode='NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES'; SET time_zone='+02:00'; USE %s;\n%s", c.image, db, workload)
			if err := src.ExecScript(ctx, script); err != nil {
				t.Fatal(err)
			}
			if err := src.FlushBinlogs(ctx); err != nil {
				t.Fatal(err)
			}
			files, err := src.BinlogFiles(ctx)
			if err != nil {
				t.Fatal(err)
			}
			files = files[len(before)-1 : len(files)-1]

			cfg := Config{Render: RenderOptions{Batch: 1 + 49*(i%2), MaxPacket: 5 << 20}}
			loadSchema := func() *Catalog {
				dump, err := exec.Command("mariadb-dump", "--no-defaults", "-uroot", "--socket="+src.Socket, "--no-data", "--databases", db).Output()
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(t.TempDir(), "schema.sql")
				if err := os.WriteFile(path, dump, 0o644); err != nil {
					t.Fatal(err)
				}
				cat, err := LoadSchema(ctx, path)
				if err != nil {
					t.Fatal(err)
				}
				return cat
			}
			acfg := cfg
			acfg.Schema = loadSchema()
			if c.meta == "FULL" {
				// The binlog names the columns, but not which are a versioned table's period:
				// through the client without a schema, those tables stay out; Apply is given
				// the schema to check the binlog against.
				acfg.VerifySchema = true
				var exclude []string
				for _, tbl := range versionedTables {
					exclude = append(exclude, db+"."+tbl)
				}
				if cfg.Filter, err = NewFilter(nil, nil, exclude, nil); err != nil {
					t.Fatal(err)
				}
			} else {
				cfg.Schema = loadSchema()
			}
			// Through the client.
			sqlText := replayFiles(t, files, cfg)
			if !bytes.Contains(sqlText, []byte("_binary'")) {
				t.Error("the big row is not in its escaped form")
			}
			cmd := dst.Client(ctx)
			cmd.Stdin = bytes.NewReader(sqlText)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil || stderr.Len() > 0 {
				t.Fatalf("applying the replay: %v\n%s", err, stderr.String())
			}
			// Through Apply, into <db>_a.
			if acfg.Render.Rewrite, err = ParseRewrite([]string{db + "=" + db + "_a"}, nil); err != nil {
				t.Fatal(err)
			}
			_, err = Apply(ctx, ApplyConfig{Config: acfg,
				Connect: func(ctx context.Context) (*sql.Conn, error) { return dst.DB.Conn(ctx) },
				Open: func(ctx context.Context, _ binlog.Position) (binlog.Source, error) {
					return binlog.OpenFiles(files, binlog.FileOptions{})
				}})
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			for _, table := range valuesTables(specs, colls) {
				compareTables(t, src.DB, db, dst.DB, db+"_a", table)
				if !slices.Contains(versionedTables, table) || c.meta != "FULL" {
					compareTables(t, src.DB, db, dst.DB, db, table)
				}
			}
		})
	}
	t.Run("strict", func(t *testing.T) { strictSession(t, src, dst) })
	t.Run("versioned-ddl-in-window", func(t *testing.T) { versionedFromDDL(t, src, dst) })
}

// versionedFromDDL: with FULL metadata and no schema, a CREATE TABLE ... WITH SYSTEM VERSIONING
// in the window is what says which columns are the period.
func versionedFromDDL(t *testing.T, src, dst *mariadbtest.Server) {
	ctx := context.Background()
	if _, err := src.DB.ExecContext(ctx, "SET GLOBAL binlog_row_metadata=FULL"); err != nil {
		t.Fatal(err)
	}
	if err := src.FlushBinlogs(ctx); err != nil {
		t.Fatal(err)
	}
	before, err := src.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.ExecScript(ctx, `CREATE DATABASE vd; USE vd;
CREATE TABLE vt (id INT PRIMARY KEY, v VARCHAR(10)) WITH SYSTEM VERSIONING;
SET @@timestamp = 1700000000.25;
INSERT INTO vt VALUES (1, 'a'), (2, 'b');
SET @@timestamp = 1700000005.5;
UPDATE vt SET v = 'c' WHERE id = 1;
DELETE FROM vt WHERE id = 2;`); err != nil {
		t.Fatal(err)
	}
	if err := src.FlushBinlogs(ctx); err != nil {
		t.Fatal(err)
	}
	files, err := src.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	files = files[len(before)-1 : len(files)-1]
	filter, err := NewFilter([]string{"vd"}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cmd := dst.Client(ctx)
	cmd.Stdin = bytes.NewReader(replayFiles(t, files, Config{Filter: filter}))
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("applying the replay: %v\n%s", err, out)
	}
	a, b := versionedState(t, src.DB, "vd", "vt"), versionedState(t, dst.DB, "vd", "vt")
	if len(a) != 3 || strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("source:\n%s\nreplayed:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
}

// strictSession: what the target cannot store as the source stored it stops the replay with
// the position, in apply and through the client: a value too long for the target's column, a
// string its charset cannot hold, a number out of its range, a value for a generated column
// that pitr was given no schema to know of.
func strictSession(t *testing.T, src, dst *mariadbtest.Server) {
	ctx := context.Background()
	srcSetup := `CREATE DATABASE strict; USE strict;
CREATE TABLE narrow (id INT PRIMARY KEY, v VARCHAR(10));
CREATE TABLE cs (id INT PRIMARY KEY, v VARCHAR(10) CHARACTER SET utf8mb4);
CREATE TABLE num (id INT PRIMARY KEY, n INT);
CREATE TABLE gen (id INT PRIMARY KEY, a INT, v INT);`
	dstSetup := `CREATE DATABASE strict; USE strict;
CREATE TABLE narrow (id INT PRIMARY KEY, v VARCHAR(3));
CREATE TABLE cs (id INT PRIMARY KEY, v VARCHAR(10) CHARACTER SET latin1);
CREATE TABLE num (id INT PRIMARY KEY, n TINYINT);
CREATE TABLE gen (id INT PRIMARY KEY, a INT, v INT AS (a * 2) VIRTUAL);`
	if err := src.ExecScript(ctx, srcSetup); err != nil {
		t.Fatal(err)
	}
	if _, err := src.DB.ExecContext(ctx, "SET GLOBAL binlog_row_metadata=FULL"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ table, insert, want string }{
		{"narrow", "INSERT INTO narrow VALUES (1, 'abcdef')", "Data too long"},
		{"cs", "INSERT INTO cs VALUES (1, '한국')", "Incorrect string value"},
		{"num", "INSERT INTO num VALUES (1, 1000)", "Out of range"},
		{"gen", "INSERT INTO gen VALUES (1, 2, 4)", "generated column"},
	} {
		t.Run(tc.table, func(t *testing.T) {
			if err := dst.ExecScript(ctx, "DROP DATABASE IF EXISTS strict; "+dstSetup); err != nil {
				t.Fatal(err)
			}
			if err := src.FlushBinlogs(ctx); err != nil {
				t.Fatal(err)
			}
			before, err := src.BinlogFiles(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := src.ExecScript(ctx, "USE strict; "+tc.insert); err != nil {
				t.Fatal(err)
			}
			if err := src.FlushBinlogs(ctx); err != nil {
				t.Fatal(err)
			}
			files, err := src.BinlogFiles(ctx)
			if err != nil {
				t.Fatal(err)
			}
			files = files[len(before)-1 : len(files)-1]
			last := filepath.Base(files[len(files)-1])
			filter, err := NewFilter([]string{"strict"}, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Apply(ctx, ApplyConfig{Config: Config{Filter: filter},
				Connect: func(ctx context.Context) (*sql.Conn, error) { return dst.DB.Conn(ctx) },
				Open: func(ctx context.Context, _ binlog.Position) (binlog.Source, error) {
					return binlog.OpenFiles(files, binlog.FileOptions{})
				}})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), last+":") {
				t.Errorf("apply: %v; want %q at a position in %s", err, tc.want, last)
			}
			var n int
			if err := dst.DB.QueryRow("SELECT COUNT(*) FROM strict." + tc.table).Scan(&n); err != nil || n != 0 {
				t.Errorf("apply left %d rows (%v)", n, err)
			}
			cmd := dst.Client(ctx)
			cmd.Stdin = bytes.NewReader(replayFiles(t, files, Config{Filter: filter}))
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Errorf("client: %v\n%s", err, out)
			}
		})
	}
}

func charsetSpecs(t *testing.T, db *sql.DB) []charsetSpec {
	t.Helper()
	rows, err := db.Query("SELECT CHARACTER_SET_NAME, DEFAULT_COLLATE_NAME, MAXLEN FROM information_schema.CHARACTER_SETS ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	var specs []charsetSpec
	for rows.Next() {
		var s charsetSpec
		if err := rows.Scan(&s.name, &s.defColl, &s.maxLen); err != nil {
			t.Fatal(err)
		}
		specs = append(specs, s)
	}
	rows.Close()
	if len(specs) < 40 {
		t.Fatalf("the server lists %d character sets", len(specs))
	}
	for i := range specs {
		for _, c := range candidates {
			var same bool
			if err := db.QueryRow("SELECT CONVERT(CONVERT(? USING "+specs[i].name+") USING utf8mb4) = ? COLLATE utf8mb4_bin", c, c).Scan(&same); err != nil {
				t.Fatal(err)
			}
			if same {
				specs[i].ok = append(specs[i].ok, c)
			}
		}
	}
	return specs
}

// collationList is every binary and NO PAD collation (but the UCA 14 ones, which come in
// hundreds), and locale ones of several charsets.
func collationList(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT FULL_COLLATION_NAME FROM information_schema.COLLATION_CHARACTER_SET_APPLICABILITY
		WHERE (FULL_COLLATION_NAME LIKE '%\_bin' OR FULL_COLLATION_NAME LIKE '%nopad%') AND FULL_COLLATION_NAME NOT LIKE '%uca1400%'
		   OR FULL_COLLATION_NAME IN ('utf8mb4_uca1400_ai_ci', 'utf8mb4_uca1400_as_cs', 'utf8mb4_uca1400_swedish_nopad_ai_ci',
		      'utf8mb4_german2_ci', 'utf8mb4_turkish_ci', 'utf8mb4_unicode_520_ci', 'utf8mb3_czech_ci', 'ucs2_persian_ci',
		      'utf16_spanish2_ci', 'utf32_vietnamese_ci', 'latin1_german2_ci', 'latin2_czech_cs', 'cp1250_polish_ci',
		      'latin7_estonian_cs', 'utf8mb4_croatian_mysql561_ci', 'utf8mb3_thai_520_w2', 'ucs2_myanmar_ci')
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if len(out) < 100 {
		t.Fatalf("only %d collations", len(out))
	}
	return out
}

// versionedTables are system-versioned: implicit period, explicit PERIOD, and without a key.
var versionedTables = []string{"vt", "vte", "vtn"}

// multiDefault are the charsets of the tables whose default charset is multi-byte.
var multiDefault = []string{"big5", "cp932", "eucjpms", "euckr", "gb2312", "gbk", "sjis", "ujis", "utf8mb3", "ucs2", "utf16", "utf16le", "utf32"}

// keyColls are the collations of the text keys (one table each).
var keyColls = []string{"utf8mb4_unicode_520_nopad_ci", "utf8mb4_bin", "utf8mb4_general_ci", "utf8mb4_uca1400_ai_ci", "latin1_german2_ci",
	"ucs2_bin", "sjis_japanese_nopad_ci", "euckr_korean_ci", "utf16_unicode_ci", "swe7_bin", "utf8mb4_nopad_bin"}

func valuesTables(specs []charsetSpec, colls []string) []string {
	out := []string{"cs_all", "coll", "bk", "bn", "inv", "sq", "keep", "big", "vt", "vte", "vtn"}
	for _, cs := range multiDefault {
		out = append(out, "mb_"+cs, "mbn_"+cs)
	}
	for i := range keyColls {
		out = append(out, fmt.Sprintf("ck%d", i))
	}
	return out
}

func sqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func members(s charsetSpec) []string {
	m := []string{"a", "b c"}
	if s.name == "binary" {
		return append(m, "x")
	}
	return append(m, s.ok[:min(2, len(s.ok))]...)
}

func valuesSchema(specs []charsetSpec, colls []string) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE cs_all (id INT PRIMARY KEY")
	for _, s := range specs {
		var quoted []string
		for _, m := range members(s) {
			quoted = append(quoted, sqlString(m))
		}
		ms := strings.Join(quoted, ",")
		fmt.Fprintf(&b, ",\n v_%[1]s VARCHAR(100) CHARACTER SET %[1]s, c_%[1]s CHAR(10) CHARACTER SET %[1]s, t_%[1]s TEXT CHARACTER SET %[1]s,"+
			" e_%[1]s ENUM(%[2]s) CHARACTER SET %[1]s, s_%[1]s SET(%[2]s) CHARACTER SET %[1]s", s.name, ms)
	}
	b.WriteString(");\n")
	b.WriteString("CREATE TABLE coll (id INT PRIMARY KEY")
	for i, c := range colls {
		cs, _, _ := strings.Cut(c, "_")
		fmt.Fprintf(&b, ",\n k%d VARCHAR(10) CHARACTER SET %s COLLATE %s", i, cs, c)
	}
	b.WriteString(");\n")
	for _, cs := range multiDefault {
		fmt.Fprintf(&b, "CREATE TABLE mb_%[1]s (k VARCHAR(20) PRIMARY KEY, c CHAR(5), v VARCHAR(50), n INT) DEFAULT CHARSET=%[1]s;\n", cs)
		fmt.Fprintf(&b, "CREATE TABLE mbn_%[1]s (c CHAR(5), v VARCHAR(50), n INT) DEFAULT CHARSET=%[1]s;\n", cs)
	}
	for i, c := range keyColls {
		cs, _, _ := strings.Cut(c, "_")
		fmt.Fprintf(&b, "CREATE TABLE ck%d (k VARCHAR(10) CHARACTER SET %s COLLATE %s PRIMARY KEY, n INT);\n", i, cs, c)
	}
	b.WriteString(`CREATE TABLE bk (k BINARY(4) PRIMARY KEY, b16 BINARY(16), u UUID, i4 INET4, i6 INET6, v INT);
CREATE TABLE bn (k BINARY(4), b VARBINARY(8), u UUID, i6 INET6, v INT);
CREATE TABLE inv (id INT PRIMARY KEY, h INT INVISIBLE DEFAULT 7, s VARCHAR(10) INVISIBLE, w INT);
CREATE SEQUENCE sq CACHE 2;
CREATE TABLE keep (id INT AUTO_INCREMENT PRIMARY KEY, d DATE, dt DATETIME(3));
CREATE TABLE big (id INT PRIMARY KEY, b LONGBLOB, n INT);
CREATE TABLE vt (id INT PRIMARY KEY, v VARCHAR(10)) WITH SYSTEM VERSIONING;
CREATE TABLE vte (id INT PRIMARY KEY, v INT, s TIMESTAMP(6) GENERATED ALWAYS AS ROW START, e TIMESTAMP(6) GENERATED ALWAYS AS ROW END,
  PERIOD FOR SYSTEM_TIME(s, e)) WITH SYSTEM VERSIONING;
CREATE TABLE vtn (a INT, b VARCHAR(5)) WITH SYSTEM VERSIONING;
`)
	return b.String()
}

func valuesWorkload(specs []charsetSpec, colls []string) string {
	var b strings.Builder
	ascii := make([]byte, 0, 95)
	for c := byte(0x20); c < 0x7F; c++ {
		ascii = append(ascii, c)
	}
	high := make([]byte, 0, 128)
	for c := 0x80; c <= 0xFF; c++ {
		high = append(high, byte(c))
	}
	// cs_all: rows 1-5 per charset column.
	for id := 1; id <= 5; id++ {
		fmt.Fprintf(&b, "INSERT INTO cs_all (id) VALUES (%d);\n", id)
	}
	for _, s := range specs {
		cs := s.name
		wide := s.name == "ucs2" || strings.HasPrefix(s.name, "utf16") || s.name == "utf32"
		ms := members(s)
		var sets []string
		set := func(col, val string, id int) {
			sets = append(sets, fmt.Sprintf("UPDATE cs_all SET %s_%s = %s WHERE id = %d;", col, cs, val, id))
		}
		conv := func(text string) string { return fmt.Sprintf("CONVERT(%s USING %s)", sqlString(text), cs) }
		set("v", conv(sampleText), 1)
		set("c", conv(sampleText), 1)
		set("t", conv(sampleText+strings.Join(s.ok, "")), 1)
		set("e", sqlString(ms[len(ms)-1]), 1)
		set("s", sqlString(strings.Join(ms, ",")), 1)
		if wide {
			set("v", conv(string(ascii)), 2)
			set("t", conv(string(ascii)), 2)
		} else {
			set("v", fmt.Sprintf("_%s X'%X'", cs, ascii), 2)
			set("t", fmt.Sprintf("_%s X'%X'", cs, ascii), 2)
		}
		set("c", conv("`{|}~"), 2)
		set("e", "'a'", 2)
		set("s", sqlString(ms[0]+","+ms[len(ms)-1]), 2)
		if s.maxLen == 1 {
			set("v", fmt.Sprintf("_%s X'%X'", cs, high[:100]), 3)
			set("t", fmt.Sprintf("_%s X'%X'", cs, high), 3)
			set("c", fmt.Sprintf("_%s X'%X'", cs, high[100:110]), 3)
		} else {
			set("v", conv(strings.Join(s.ok, " ")), 3)
			set("t", conv(strings.Join(s.ok, "")), 3)
		}
		set("c", conv("a  "), 4)
		set("v", conv("a  "), 4)
		set("t", conv(""), 4)
		set("s", "''", 4)
		if cs == "binary" {
			set("c", "X'0A0000'", 5)
			set("v", "X'0A0000'", 5)
		}
		b.WriteString(strings.Join(sets, "\n") + "\n")
	}
	b.WriteString("UPDATE cs_all SET id = id + 10 WHERE id = 2;\nDELETE FROM cs_all WHERE id = 3;\n")

	// coll: each collation's column.
	var cols, vals, vals2 []string
	for i := range colls {
		cols = append(cols, fmt.Sprintf("k%d", i))
		vals = append(vals, "'a '")
		vals2 = append(vals2, fmt.Sprintf("k%d = CONCAT(k%d, 'b')", i, i))
	}
	fmt.Fprintf(&b, "INSERT INTO coll (id, %s) VALUES (1, %s), (2, %s);\n", strings.Join(cols, ","), strings.Join(vals, ","), strings.Join(vals, ","))
	fmt.Fprintf(&b, "UPDATE coll SET %s WHERE id = 1;\nDELETE FROM coll WHERE id = 2;\n", strings.Join(vals2, ", "))

	// Multi-byte default charsets: keyed by text, and keyless.
	for _, cs := range multiDefault {
		var ok []string
		for _, s := range specs {
			if s.name == cs {
				ok = s.ok
			}
		}
		k := func(i int) string { return sqlString(fmt.Sprintf("k%d%s", i, strings.Join(ok[:min(i, len(ok))], ""))) }
		fmt.Fprintf(&b, "INSERT INTO mb_%[1]s VALUES (%[2]s, 'a ', %[3]s, 1), (%[4]s, %[5]s, %[2]s, 2), (%[6]s, NULL, '', 3);\n",
			cs, k(1), sqlString(strings.Join(ok, "")), k(2), sqlString(strings.Join(ok[:min(3, len(ok))], "")), k(3))
		fmt.Fprintf(&b, "UPDATE mb_%[1]s SET v = CONCAT(v, 'x'), n = n + 10 WHERE k = %[2]s;\nUPDATE mb_%[1]s SET k = %[3]s WHERE k = %[4]s;\nDELETE FROM mb_%[1]s WHERE k = %[5]s;\n",
			cs, k(1), k(4), k(2), k(3))
		fmt.Fprintf(&b, "INSERT INTO mbn_%[1]s VALUES ('a ', %[2]s, 1), ('a', %[2]s, 1), (%[3]s, 'x', NULL);\n", cs, sqlString(strings.Join(ok, "")), sqlString(strings.Join(ok[:min(2, len(ok))], "")))
		fmt.Fprintf(&b, "UPDATE mbn_%[1]s SET n = 5 WHERE c = 'a' LIMIT 1;\nDELETE FROM mbn_%[1]s WHERE n IS NULL;\n", cs)
	}
	for i, c := range keyColls {
		var ok []string
		for _, s := range specs {
			if cs, _, _ := strings.Cut(c, "_"); s.name == cs {
				ok = s.ok
			}
		}
		keys := []string{"'a'", "'b '"}
		if strings.Contains(c, "nopad") {
			keys = append(keys, "'b'")
		}
		if len(ok) > 0 {
			keys = append(keys, sqlString(ok[0]))
		}
		var rows []string
		for j, k := range keys {
			rows = append(rows, fmt.Sprintf("(%s, %d)", k, j))
		}
		fmt.Fprintf(&b, "INSERT INTO ck%[1]d VALUES %[2]s;\nUPDATE ck%[1]d SET n = n + 100;\nUPDATE ck%[1]d SET k = 'z' WHERE k = %[3]s;\nDELETE FROM ck%[1]d WHERE k = %[4]s;\n",
			i, strings.Join(rows, ", "), keys[len(keys)-1], keys[0])
	}
	b.WriteString(`INSERT INTO bk VALUES (X'0A', X'0102', '12345678-1234-1234-1234-123456789a00', '10.0.0.0', '2001:db8::', 1),
  (X'0B000000', X'00', '6ccd780c-baba-1026-9564-5b8c65602000', '0.0.0.0', '::', 2), (X'0C0000FF', NULL, NULL, NULL, NULL, 3);
UPDATE bk SET v = v + 10, b16 = X'FF00' WHERE k = X'0A000000';
UPDATE bk SET k = X'0D' WHERE k = X'0B000000';
DELETE FROM bk WHERE v = 3;
INSERT INTO bn VALUES (X'0A', X'0A00', '00000000-0000-0000-0000-000000000000', '1::', 1), (X'0A00', X'0A', NULL, '::1', 2), (X'0A', X'0A00', '00000000-0000-0000-0000-000000000000', '1::', 1);
UPDATE bn SET v = 5 WHERE v = 1 LIMIT 1;
DELETE FROM bn WHERE v = 2;
INSERT INTO inv (id, h, s, w) VALUES (1, 2, 'x', 3), (2, 4, NULL, 5);
INSERT INTO inv (id, w) VALUES (3, 6);
UPDATE inv SET h = h + 1, s = 'y' WHERE id = 1;
DELETE FROM inv WHERE id = 2;
SELECT NEXTVAL(sq), NEXTVAL(sq), NEXTVAL(sq);
SELECT SETVAL(sq, 100);
SELECT NEXTVAL(sq), NEXTVAL(sq), NEXTVAL(sq);
INSERT INTO keep VALUES (0, '0000-00-00', '0000-00-00 00:00:00.000'), (NULL, '2020-02-31', '2020-00-15 10:00:00.5');
UPDATE keep SET d = '2021-04-31' WHERE id = 0;
SET @b = REPEAT(CONCAT(X'00275C1A0D0A22', UNHEX(REPEAT('FF', 8)), 'abc'), 150000);
INSERT INTO big VALUES (1, @b, 1), (2, X'00', 2);
UPDATE big SET n = 10, b = CONCAT(@b, X'01') WHERE id = 1;
UPDATE big SET n = 20 WHERE id = 2;
SET @@timestamp = 1700000000.000001;
INSERT INTO vt VALUES (1, 'a'), (2, 'b'), (3, 'c');
INSERT INTO vte (id, v) VALUES (1, 1), (2, 2);
INSERT INTO vtn VALUES (1, 'x'), (2, 'y'), (2, 'y');
SET @@timestamp = 1700000001.5;
UPDATE vt SET v = 'a2' WHERE id = 1;
UPDATE vte SET v = v + 1;
UPDATE vtn SET b = CONCAT(b, 'z');
SET @@timestamp = 1700000002.25;
DELETE FROM vt WHERE id = 2;
DELETE FROM vte WHERE id = 2;
DELETE FROM vtn WHERE a = 2 LIMIT 1;
UPDATE vt SET v = CONCAT(v, '!');
SET @@timestamp = 1700000003;
UPDATE vt SET v = 'a3' WHERE id = 1;
SET @@timestamp = DEFAULT;
SET system_versioning_insert_history = 1;
INSERT INTO vt (id, v, row_start, row_end) VALUES (9, 'old', '2001-01-01 00:00:00', '2002-01-01 00:00:00.5');
SET system_versioning_insert_history = 0;
`)
	return b.String()
}

// compareTables fails the test unless table holds the same rows in both places.
func compareTables(tb testing.TB, a *sql.DB, adb string, b *sql.DB, bdb, table string) {
	tb.Helper()
	var sa, sb string
	var ra, rb []string
	if slices.Contains(versionedTables, table) {
		ra, rb = versionedState(tb, a, adb, table), versionedState(tb, b, bdb, table)
	} else {
		sa, ra = tableState(tb, a, adb, table)
		sb, rb = tableState(tb, b, bdb, table)
	}
	if len(ra) == 0 {
		tb.Errorf("%s.%s: the source table is empty, so the comparison proves nothing", adb, table)
		return
	}
	if len(ra) != len(rb) {
		tb.Errorf("%s.%s: source has %d rows, %s.%s %d", adb, table, len(ra), bdb, table, len(rb))
	}
	for i := 0; i < len(ra) && i < len(rb); i++ {
		if ra[i] != rb[i] {
			tb.Errorf("%s.%s row %d differs:\nsource:   %.2000s\nreplayed: %.2000s", bdb, table, i, ra[i], rb[i])
			break
		}
	}
	if sa != sb {
		tb.Errorf("%s.%s: CHECKSUM TABLE source %s, replayed %s", bdb, table, sa, sb)
	}
}

// versionedState is every row of a system-versioned table, current and history, with its
// period, as text.
func versionedState(tb testing.TB, db *sql.DB, schema, table string) []string {
	tb.Helper()
	cols := map[string]string{"vt": "id, HEX(v), row_start, row_end", "vte": "id, v, s, e", "vtn": "a, HEX(b), row_start, row_end"}[table]
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET time_zone='+00:00'"); err != nil {
		tb.Fatal(err)
	}
	rows, err := conn.QueryContext(ctx, fmt.Sprintf("SELECT CONCAT_WS(' | ', %s) AS r FROM `%s`.`%s` FOR SYSTEM_TIME ALL ORDER BY r", cols, schema, table))
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			tb.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}
