package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

// hostileSetup writes a binlog with a few transactions; the canary database is created outside
// the binlog, and must survive the replay of anything pitr prints.
const hostileSetup = `
SET sql_log_bin = 0;
CREATE DATABASE canary;
CREATE TABLE canary.t (id INT PRIMARY KEY);
INSERT INTO canary.t VALUES (1);
SET sql_log_bin = 1;
FLUSH BINARY LOGS;
CREATE DATABASE shop;
CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(20));
INSERT INTO shop.t VALUES (1, 'one'), (2, 'two');
FLUSH BINARY LOGS;
UPDATE shop.t SET v = 'uno' WHERE id = 1;
`

// hostileName is what an attacker names a binlog file: a line break ends the comment the
// name is printed in.
const hostileName = "mysql-bin.000032\nDROP DATABASE canary;\n-- mysql-bin.000032"

// TestHostileInput feeds pitr binlog file names and Rotate events made to inject SQL or to
// escape a folder, and pipes what it prints into the client: the canary database must survive.
func TestHostileInput(t *testing.T) {
	ctx := context.Background()
	srv := mariadbtest.Start(t, mariadbtest.Options{})
	if err := srv.ExecScript(ctx, hostileSetup); err != nil {
		t.Fatal(err)
	}
	// Sent as they are (the client would strip the comments): DDL ending in a comment, which
	// must not swallow the terminator of the replay.
	srv.Exec(t, "ALTER TABLE shop.t ADD COLUMN w INT -- a trailing comment")
	srv.Exec(t, "ALTER TABLE shop.t ADD COLUMN x INT # another one")
	srv.Exec(t, "UPDATE shop.t SET w = 5, x = 6 WHERE id = 2")
	srv.Exec(t, "CREATE USER app@'%' IDENTIFIED BY 'UserPlainPW_777'")
	srv.Exec(t, "ALTER TABLE shop.t ADD COLUMN password INT, COMMENT 'plain comment' -- IDENTIFIED BY 'UserPlainPW_777'")
	files, err := srv.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	files = files[1:] // the first holds nothing of the setup
	g := &globalOptions{quiet: true}

	// pipe runs sql through the client as a user would, after taking away what the replay
	// recreates, and fails the test if the canary is gone.
	pipe := func(t *testing.T, sql string, replayed bool) {
		t.Helper()
		srv.Exec(t, "SET sql_log_bin = 0; DROP DATABASE IF EXISTS shop; DROP USER IF EXISTS app@'%'; SET sql_log_bin = 1")
		cmd := srv.Client(ctx)
		cmd.Stdin = strings.NewReader(sql)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("the client failed on the output: %v\n%s", err, out)
		}
		var n int
		if err := srv.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'canary'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("the canary database was dropped by the output:\n%s", sql)
		}
		if !replayed {
			return
		}
		var v string
		if err := srv.DB.QueryRowContext(ctx, "SELECT v FROM shop.t WHERE id = 1").Scan(&v); err != nil || v != "uno" {
			t.Errorf("shop.t id 1 = %q, %v after the replay; want uno", v, err)
		}
		var w, x int
		if err := srv.DB.QueryRowContext(ctx, "SELECT w, x FROM shop.t WHERE id = 2").Scan(&w, &x); err != nil || w != 5 || x != 6 {
			t.Errorf("shop.t id 2 = (%d, %d), %v after the replay; want (5, 6)", w, x, err)
		}
	}
	noBareLine := func(t *testing.T, out string) {
		t.Helper()
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "DROP DATABASE canary") {
				t.Errorf("a name from the binlog became a statement line:\n%s", out)
			}
		}
	}

	t.Run("local file name with a line break", func(t *testing.T) {
		dir := t.TempDir()
		var named []string
		for i, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Join(dir, hostileName+"\r\u2028.00000"+strconv.Itoa(i+1))
			if err := os.WriteFile(name, b, 0o600); err != nil {
				t.Fatal(err)
			}
			named = append(named, name)
		}
		var out bytes.Buffer
		if err := runReplay(ctx, replayOptions{timezone: "UTC", batch: 1, maxPacket: "64M"}, g, named, &out); err != nil {
			t.Fatal(err)
		}
		noBareLine(t, out.String())
		if !strings.Contains(out.String(), `mysql-bin.000032\nDROP DATABASE canary;\n-- mysql-bin.000032\r\u2028.000001:`) {
			t.Errorf("the file name is not printed escaped:\n%s", out.String())
		}
		pipe(t, out.String(), true)
	})

	t.Run("server rotate event naming a hostile file", func(t *testing.T) {
		p := newRotateProxy(t, srv.Port, func(string) string { return hostileName })
		o := replayOptions{timezone: "UTC", batch: 1, maxPacket: "64M"}
		o.stream.source.Host, o.stream.source.Port, o.stream.source.User = "127.0.0.1", p.port, "root"
		o.stream.source.TLS = "disabled"
		o.apply.noDefaults = true
		var out bytes.Buffer
		err := runReplay(ctx, o, g, nil, &out)
		if p.rewritten.Load() == 0 {
			t.Fatal("the proxy saw no Rotate event: the test proves nothing")
		}
		if err == nil || !strings.Contains(err.Error(), "binlog file name") {
			t.Errorf("replay of a stream naming %q: err = %v, want a refused binlog file name", hostileName, err)
		}
		noBareLine(t, out.String())
		pipe(t, out.String(), false)
	})

	t.Run("fetch rotate event escaping the folder", func(t *testing.T) {
		root := t.TempDir()
		to := filepath.Join(root, "a", "b")
		p := newRotateProxy(t, srv.Port, func(name string) string { return "../../PWNED-" + name })
		o := fetchOptions{to: to, noDefaults: true}
		o.stream.source.Host, o.stream.source.Port, o.stream.source.User = "127.0.0.1", p.port, "root"
		o.stream.source.TLS = "disabled"
		err := runFetch(ctx, o, g)
		if p.rewritten.Load() == 0 {
			t.Fatal("the proxy saw no Rotate event: the test proves nothing")
		}
		if err == nil || !strings.Contains(err.Error(), "binlog file name") {
			t.Errorf("fetch of a stream naming ../../PWNED-*: err = %v, want a refused binlog file name", err)
		}
		filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err == nil && strings.Contains(d.Name(), "PWNED") {
				t.Errorf("fetch wrote %s", path)
			}
			return nil
		})
	})

	t.Run("passwords stay out of logs", func(t *testing.T) {
		// With a table filter the account statement is left out, and logged.
		res := runPitr(t, append([]string{"replay", "-v", "-d", "shop"}, files...)...)
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		if strings.Contains(res.stderr, "UserPlainPW_777") || !strings.Contains(res.stderr, "IDENTIFIED BY '<redacted>'") {
			t.Errorf("the log shows the password, or not the statement:\n%s", res.stderr)
		}
		// Without a filter it is replayed as it is, and the header says so.
		res = runPitr(t, append([]string{"replay"}, files...)...)
		if !strings.Contains(res.stdout, "IDENTIFIED BY 'UserPlainPW_777'") {
			t.Errorf("the replay does not set the password as the binlog does:\n%s", res.stdout)
		}
		if !strings.Contains(res.stdout, "passwords of account statements included") {
			t.Errorf("the header does not say the output holds passwords:\n%s", res.stdout)
		}
	})

	t.Run("no fallback to plaintext once TLS is asked for", func(t *testing.T) {
		ca, _, _ := makeCerts(t, t.TempDir())
		tcp := []string{"replay", "--no-defaults", "--source-host", "127.0.0.1", "--source-port", strconv.Itoa(srv.Port), "--source-user", "root"}
		// This server has no TLS: loopback without TLS options connects, and says so.
		res := runPitr(t, tcp...)
		if res.code != 0 || !strings.Contains(res.stdout, "NOT encrypted (tls preferred)") {
			t.Errorf("loopback default: exit %d, header:\n%.600s\n%s", res.code, res.stdout, res.stderr)
		}
		for _, extra := range [][]string{{"--source-ssl-ca", ca}, {"--source-tls", "required"}, {"--source-tls", "verify-identity"},
			{"--source-tls", "preferred", "--source-ssl-ca", ca}} {
			res := runPitr(t, append(tcp, extra...)...)
			if res.code == 0 || !strings.Contains(strings.ToLower(res.stderr), "tls") {
				t.Errorf("%v against a server without TLS: exit %d, %s", extra, res.code, res.stderr)
			}
		}
	})

	t.Run("a hung target stops at the statement timeout", func(t *testing.T) {
		srv.Exec(t, "SET sql_log_bin = 0; DROP DATABASE IF EXISTS shop; DROP USER IF EXISTS app@'%'; SET sql_log_bin = 1")
		lock, err := srv.DB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Close()
		// Every write waits, as on a full disk, until the lock goes.
		if _, err := lock.ExecContext(ctx, "FLUSH TABLES WITH READ LOCK"); err != nil {
			t.Fatal(err)
		}
		res := runPitr(t, append([]string{"replay", "--no-defaults", "--target-host", "127.0.0.1", "--target-port", strconv.Itoa(srv.Port),
			"--target-user", "root", "--yes", "--statement-timeout", "2s", "--checkpoint-table", "canary.ck"}, files...)...)
		lock.ExecContext(ctx, "UNLOCK TABLES")
		if res.code == 0 || !strings.Contains(res.stderr, "no answer within 2s") || strings.Contains(res.stderr, "reconnecting") {
			t.Errorf("exit %d: %q", res.code, res.stderr)
		}
		if !strings.Contains(res.stderr, "the server says the session is") {
			t.Logf("the server's state was not read (a loaded machine): %s", res.stderr)
		}
		t.Logf("%s", res.stderr)
	})

	t.Run("files pitr writes are the owner's alone", func(t *testing.T) {
		to := filepath.Join(t.TempDir(), "binlogs")
		o := fetchOptions{to: to, noDefaults: true}
		o.stream.source.Socket, o.stream.source.User = srv.Socket, "root"
		if err := runFetch(ctx, o, g); err != nil {
			t.Fatal(err)
		}
		sql := filepath.Join(t.TempDir(), "out.sql")
		if err := runReplay(ctx, replayOptions{timezone: "UTC", batch: 1, maxPacket: "64M", output: sql}, g, files, io.Discard); err != nil {
			t.Fatal(err)
		}
		paths, _ := filepath.Glob(filepath.Join(to, "*"))
		for _, p := range append(paths, sql, to) {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			want := os.FileMode(0o600)
			if fi.IsDir() {
				want = 0o700
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s: mode %04o, want %04o", p, fi.Mode().Perm(), want)
			}
		}
		if len(paths) < 2 {
			t.Errorf("fetch wrote %v", paths)
		}
	})
}

// rotateProxy stands between pitr and a server and rewrites the file name of every Rotate event
// of a binlog dump, keeping the event well-formed (size, packet length, checksum). It hides the
// server's TLS so that it can read the stream.
type rotateProxy struct {
	port      int
	rewritten atomic.Int64
}

func newRotateProxy(t *testing.T, upstream int, rename func(string) string) *rotateProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &rotateProxy{port: ln.Addr().(*net.TCPAddr).Port}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(upstream))
			if err != nil {
				c.Close()
				continue
			}
			var dumping atomic.Bool
			wg.Add(2)
			go func() { // client to server: watch for the dump command
				defer wg.Done()
				defer s.Close()
				for {
					pkt, err := readPacket(c)
					if err != nil {
						return
					}
					if len(pkt) > 4 && pkt[3] == 0 && (pkt[4] == 0x12 || pkt[4] == 0x1e) {
						dumping.Store(true)
					}
					if _, err := s.Write(pkt); err != nil {
						return
					}
				}
			}()
			go func() { // server to client: rewrite
				defer wg.Done()
				defer c.Close()
				first := true
				for {
					pkt, err := readPacket(s)
					if err != nil {
						return
					}
					if first { // the greeting: take away CLIENT_SSL
						first = false
						if v := bytes.IndexByte(pkt[5:], 0); v >= 0 {
							if at := 5 + v + 1 + 4 + 8 + 1; at+2 <= len(pkt) {
								pkt[at+1] &^= 0x08
							}
						}
					} else if dumping.Load() && len(pkt) > 4+1+19 && pkt[4] == 0 && pkt[4+1+4] == 4 {
						pkt = p.rewrite(pkt, rename)
					}
					if _, err := c.Write(pkt); err != nil {
						return
					}
				}
			}()
		}
	}()
	return p
}

func readPacket(r io.Reader) ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
	pkt := make([]byte, 4+n)
	copy(pkt, h[:])
	_, err := io.ReadFull(r, pkt[4:])
	return pkt, err
}

// rewrite renames the file of the Rotate event in pkt (header, OK byte, event).
func (p *rotateProxy) rewrite(pkt []byte, rename func(string) string) []byte {
	ev := pkt[5:]
	crc := len(ev) >= 19+8+4 && crc32.ChecksumIEEE(ev[:len(ev)-4]) == binary.LittleEndian.Uint32(ev[len(ev)-4:])
	body := ev[19:]
	if crc {
		body = body[:len(body)-4]
	}
	name := rename(string(body[8:]))
	out := append([]byte(nil), ev[:19+8]...)
	out = append(out, name...)
	size := len(out)
	if crc {
		size += 4
	}
	binary.LittleEndian.PutUint32(out[9:], uint32(size))
	if crc {
		out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(out))
	}
	n := 1 + len(out)
	res := []byte{byte(n), byte(n >> 8), byte(n >> 16), pkt[3], 0}
	p.rewritten.Add(1)
	return append(res, out...)
}
