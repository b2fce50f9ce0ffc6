package binlog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

// eventDigest is what a replay sees of an event: where it is, what it is, and its bytes.
type eventDigest struct {
	Pos  Position
	End  int64
	Type string
	Sum  [32]byte
}

func digestAll(tb testing.TB, src Source) []eventDigest {
	tb.Helper()
	var out []eventDigest
	for {
		ev, err := src.Next(context.Background())
		if err == io.EOF {
			return out
		}
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, eventDigest{Pos: ev.Pos, End: ev.End, Type: ev.Header.Type.String(), Sum: sha256.Sum256(ev.Body)})
	}
}

// TestStreamSurvivesDrop streams a server's binlogs, breaks the replication connection in the
// middle of a transaction (by killing the server's "Binlog Dump" thread, or restarting the
// server), and checks that the stream reconnects and yields exactly the events of the server's
// files, none lost and none repeated: the transaction the drop cut in two is whole.
func TestStreamSurvivesDrop(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		drop func(t *testing.T, srv *mariadbtest.Server)
	}{
		{"kill dump thread", func(t *testing.T, srv *mariadbtest.Server) { killDump(t, srv.DB) }},
		{"server crash and restart", func(t *testing.T, srv *mariadbtest.Server) {
			// SIGKILL: a graceful shutdown would wait for the dump thread, blocked on writing to
			// a client that is not reading (this test, paused).
			srv.Kill()
			if err := srv.Restart(ctx); err != nil {
				t.Fatal(err)
			}
		}},
	}
	var script strings.Builder
	script.WriteString("SET TIMESTAMP=1700000000; CREATE DATABASE s; CREATE TABLE s.t (id INT PRIMARY KEY, v VARCHAR(2000));\n")
	for i := 0; i < 1500; i++ {
		// Multi-event transactions, so that the drop lands inside one.
		fmt.Fprintf(&script, "BEGIN; INSERT INTO s.t VALUES (%d, REPEAT('x', 1000)); UPDATE s.t SET v = REPEAT('y', 900) WHERE id = %d; COMMIT;\n", i, i)
		if i == 700 {
			script.WriteString("FLUSH BINARY LOGS;\n")
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := mariadbtest.Start(t, mariadbtest.Options{})
			if err := srv.ExecScript(ctx, script.String()); err != nil {
				t.Fatal(err)
			}
			var logBuf syncBuffer
			src, err := OpenStream(ctx, StreamOptions{Network: "unix", Addr: srv.Socket, User: "root", Heartbeat: 200 * time.Millisecond,
				Log: slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelInfo}))})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			stop := src.Info().Current
			var got []eventDigest
			for len(got) < 50 {
				ev, err := src.Next(ctx)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, eventDigest{Pos: ev.Pos, End: ev.End, Type: ev.Header.Type.String(), Sum: sha256.Sum256(ev.Body)})
			}
			if last := got[len(got)-1].Type; last == "XIDEvent" || last == "QueryEvent" {
				t.Fatalf("the drop should land inside a transaction, but event %d is its end (%s)", len(got)-1, last)
			}
			tc.drop(t, srv)
			got = append(got, digestAll(t, src)...)
			if !strings.Contains(logBuf.String(), "reconnected") {
				t.Fatalf("the drop did not cut the stream (log: %s)", logBuf.String())
			}

			// The files, up to where the stream stopped (a restart appends to them).
			files, err := srv.BinlogFiles(ctx)
			if err != nil {
				t.Fatal(err)
			}
			fs, err := OpenFiles(files, FileOptions{AllowGaps: true})
			if err != nil {
				t.Fatal(err)
			}
			defer fs.Close()
			var want []eventDigest
			for _, d := range digestAll(t, fs) {
				if d.Pos.Before(stop) {
					want = append(want, d)
				}
			}
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("event %d: streamed %v, file has %v", i, got[i], want[i])
				}
			}
			if len(got) != len(want) {
				t.Fatalf("streamed %d events, the files hold %d; log:\n%s", len(got), len(want), logBuf.String())
			}
		})
	}
}

// killDump kills the server's binlog dump threads.
func killDump(tb testing.TB, db *sql.DB) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		rows, err := db.Query("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND = 'Binlog Dump'")
		if err != nil {
			tb.Fatal(err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				tb.Fatal(err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		for _, id := range ids {
			if _, err := db.Exec(fmt.Sprintf("KILL %d", id)); err != nil {
				tb.Fatal(err)
			}
		}
		if len(ids) > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatal("no Binlog Dump thread to kill")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestStreamErrors checks that what the server refuses is named, and is not retried.
func TestStreamErrors(t *testing.T) {
	ctx := context.Background()
	srv := mariadbtest.Start(t, mariadbtest.Options{})
	srv.Exec(t, "CREATE USER nopriv@'%' IDENTIFIED BY 'pw'; CREATE USER client@'%' IDENTIFIED BY 'pw'; GRANT REPLICATION CLIENT ON *.* TO client@'%'")
	srv.Exec(t, "FLUSH BINARY LOGS")
	srv.Exec(t, "FLUSH BINARY LOGS")
	if err := srv.PurgeBinlogsTo(ctx, "mysql-bin.000002"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		opts StreamOptions
		want error
	}{
		{"wrong password", StreamOptions{User: "nopriv", Password: "bad"}, ErrSourceAuth},
		{"no privileges", StreamOptions{User: "nopriv", Password: "pw"}, ErrSourcePrivilege},
		{"no REPLICATION SLAVE", StreamOptions{User: "client", Password: "pw"}, ErrSourcePrivilege},
		{"purged start", StreamOptions{User: "root", Start: Position{File: "mysql-bin.000001", Offset: 4}}, ErrSourcePurged},
		{"closed port", StreamOptions{Network: "tcp", Addr: "127.0.0.1:1", User: "root"}, ErrSourceConnect},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			if o.Addr == "" {
				o.Network, o.Addr = "tcp", fmt.Sprintf("127.0.0.1:%d", srv.Port)
			}
			s, err := OpenStream(ctx, o)
			if err == nil {
				_, err = s.Next(ctx)
				s.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), "bad") && o.Password == "bad" {
				t.Errorf("the message shows the password: %v", err)
			}
			t.Log(err)
		})
	}
}
