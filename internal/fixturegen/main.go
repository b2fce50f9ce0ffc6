// Command fixturegen makes the fixture binlogs under testdata/: for each <case>/setup.sql it
// starts a throwaway MariaDB with the binlog options named on the script's "-- options:" line,
// runs the script, and copies the binlog files it wrote into <case>/. Run it with `make fixtures`,
// which then regenerates the golden SQL.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

func main() {
	testdata := flag.String("testdata", "testdata", "folder holding <case>/setup.sql")
	only := flag.String("case", "", "regenerate only this case")
	flag.Parse()
	if err := run(context.Background(), *testdata, *only); err != nil {
		fmt.Fprintln(os.Stderr, "fixturegen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, testdata, only string) error {
	scripts, err := filepath.Glob(filepath.Join(testdata, "*", "setup.sql"))
	if err != nil {
		return err
	}
	for _, script := range scripts {
		dir := filepath.Dir(script)
		if only != "" && filepath.Base(dir) != only {
			continue
		}
		if err := generate(ctx, dir, script); err != nil {
			return fmt.Errorf("%s: %w", script, err)
		}
	}
	return nil
}

// fixtureOptions is what a script's "-- options:" line asks for.
type fixtureOptions struct {
	server     mariadbtest.Options
	script     string // run this script (relative to the case folder) instead of the file itself
	schemaDump bool   // also write schema.sql: mariadb-dump --no-data of the script's databases
}

// options reads "-- options: row_image=X row_metadata=Y [script=PATH] [schema_dump=1]" from the
// script's first lines.
func options(script string) (fixtureOptions, error) {
	var o fixtureOptions
	f, err := os.Open(script)
	if err != nil {
		return o, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "-- options:")
		if !ok {
			continue
		}
		for _, kv := range strings.Fields(rest) {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "row_image":
				o.server.RowImage = v
			case "row_metadata":
				o.server.RowMetadata = v
			case "script":
				o.script = v
			case "schema_dump":
				o.schemaDump = v == "1"
			default:
				return o, fmt.Errorf("unknown option %q", k)
			}
		}
		return o, nil
	}
	return o, sc.Err()
}

func generate(ctx context.Context, dir, script string) error {
	opts, err := options(script)
	if err != nil {
		return err
	}
	if opts.script != "" {
		script = filepath.Join(dir, opts.script)
	}
	sql, err := os.ReadFile(script)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "fixturegen")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	srv, err := mariadbtest.Launch(ctx, tmp, opts.server)
	if err != nil {
		return err
	}
	defer srv.Stop()
	// The binlog starts with the server's own start-up events; a fresh file keeps fixtures to
	// what the script wrote.
	if err := srv.FlushBinlogs(ctx); err != nil {
		return err
	}
	before, err := srv.BinlogFiles(ctx)
	if err != nil {
		return err
	}
	if err := srv.ExecScript(ctx, string(sql)); err != nil {
		return err
	}
	if err := srv.FlushBinlogs(ctx); err != nil {
		return err
	}
	files, err := srv.BinlogFiles(ctx)
	if err != nil {
		return err
	}
	// Keep the files the script wrote: from the last one open before it ran up to, not
	// including, the empty one the final flush opened.
	files = files[len(before)-1 : len(files)-1]
	old, _ := filepath.Glob(filepath.Join(dir, "mysql-bin.*"))
	for _, f := range old {
		os.Remove(f)
	}
	for _, f := range files {
		if err := copyFile(f, filepath.Join(dir, filepath.Base(f))); err != nil {
			return err
		}
	}
	if opts.schemaDump {
		if err := dumpSchema(ctx, srv, filepath.Join(dir, "schema.sql")); err != nil {
			return err
		}
	}
	var version string
	if err := srv.DB.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		return err
	}
	slog.Info("fixture written", "case", filepath.Base(dir), "files", len(files), "server", version)
	return os.WriteFile(filepath.Join(dir, "SERVER"), []byte(version+"\n"), 0o644)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// dumpSchema writes the CREATE statements of every database the script made, as
// `mariadb-dump --no-data` prints them: the schema a user passes to pitr replay --schema.
func dumpSchema(ctx context.Context, srv *mariadbtest.Server, path string) error {
	rows, err := srv.DB.QueryContext(ctx, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ('mysql','information_schema','performance_schema','sys','test') ORDER BY 1")
	if err != nil {
		return err
	}
	var dbs []string
	for rows.Next() {
		var d string
		rows.Scan(&d)
		dbs = append(dbs, d)
	}
	rows.Close()
	args := append([]string{"--no-defaults", "-uroot", "--socket=" + srv.Socket, "--no-data", "--skip-dump-date", "--databases"}, dbs...)
	out, err := exec.CommandContext(ctx, "mariadb-dump", args...).Output()
	if err != nil {
		return fmt.Errorf("mariadb-dump: %w", err)
	}
	return os.WriteFile(path, out, 0o644)
}
