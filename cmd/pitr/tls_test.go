package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

// makeCerts writes a CA and a server certificate for 127.0.0.1 into dir, with openssl.
func makeCerts(t *testing.T, dir string) (ca, cert, key string) {
	t.Helper()
	ca, cert, key = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	ext := filepath.Join(dir, "ext.cnf")
	os.WriteFile(ext, []byte("subjectAltName=IP:127.0.0.1,DNS:localhost\n"), 0o644)
	for _, args := range [][]string{
		{"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=pitr test CA", "-keyout", filepath.Join(dir, "ca-key.pem"), "-out", ca},
		{"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", key, "-out", filepath.Join(dir, "server.csr")},
		{"x509", "-req", "-in", filepath.Join(dir, "server.csr"), "-CA", ca, "-CAkey", filepath.Join(dir, "ca-key.pem"), "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", cert},
	} {
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	return ca, cert, key
}

// TestTLS: users that the server lets in only over TLS can stream binlogs from it and apply to
// it, with the server certificate verified against the CA; a CA that did not sign it, or TLS
// switched off, is refused.
func TestTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a MariaDB server")
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is needed to make test certificates")
	}
	ctx := context.Background()
	dir := t.TempDir()
	ca, cert, key := makeCerts(t, dir)
	otherCA, _, _ := makeCerts(t, t.TempDir())
	srv := mariadbtest.Start(t, mariadbtest.Options{ExtraArgs: []string{"--ssl-ca=" + ca, "--ssl-cert=" + cert, "--ssl-key=" + key}})
	if err := srv.ExecScript(ctx, `CREATE USER 'tlsuser'@'%' IDENTIFIED BY 'Tls-Pw-9f3' REQUIRE SSL;
GRANT ALL ON *.* TO 'tlsuser'@'%';
CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v VARCHAR(20)); CREATE TABLE d.copy LIKE d.t;`); err != nil {
		t.Fatal(err)
	}
	// Rows only in the binlogs replayed: the tables exist already.
	if err := srv.FlushBinlogs(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.ExecScript(ctx, "INSERT INTO d.t VALUES (1, 'over tls'), (2, 'two');"); err != nil {
		t.Fatal(err)
	}
	files, err := srv.BinlogFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	files = files[1:]
	tcp := func(prefix string) []string {
		return []string{"--no-defaults", "--" + prefix + "-host", "127.0.0.1", "--" + prefix + "-port", strconv.Itoa(srv.Port), "--" + prefix + "-user", "tlsuser"}
	}
	env := append(os.Environ(), "MYSQL_PWD=Tls-Pw-9f3")
	run := func(args ...string) (int, string, string) {
		cmd := exec.Command(pitrBinary(t), args...)
		cmd.Env = env
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stdout.String()+stderr.String(), "Tls-Pw-9f3") {
			t.Errorf("pitr %v printed the password", args)
		}
		return code, stdout.String(), stderr.String()
	}

	// Streaming over verified TLS gives the same rows as the files.
	args := append([]string{"replay", "-q", "-t", "d.t", "--start-position", filepath.Base(files[0]) + ":4", "--source-tls", "verify-identity", "--source-ssl-ca", ca}, tcp("source")...)
	code, out, stderr := run(args...)
	if code != 0 || !strings.Contains(out, "'over tls'") {
		t.Fatalf("replay over TLS: exit %d, stderr %s, stdout %s", code, stderr, out)
	}
	if !strings.Contains(out, "certificate and host name verified") {
		t.Errorf("the header does not say the source connection is encrypted and verified:\n%s", out)
	}
	code, _, stderr = run(append([]string{"replay", "--source-tls", "verify-ca", "--source-ssl-ca", otherCA}, tcp("source")...)...)
	if code == 0 || !strings.Contains(strings.ToLower(stderr), "certificate") {
		t.Errorf("replay with a CA that did not sign the server certificate: exit %d, %s", code, stderr)
	}
	code, _, stderr = run(append([]string{"replay", "--source-tls", "disabled"}, tcp("source")...)...)
	if code == 0 {
		t.Errorf("replay without TLS for a REQUIRE SSL user succeeded")
	}

	// Applying over verified TLS (into another table of the same server, by rewriting).
	args = append([]string{"replay", "--yes", "-t", "d.t", "--rewrite-table", "d.t=d.copy", "--target-tls", "verify-ca", "--target-ssl-ca", ca}, tcp("target")...)
	code, _, stderr = run(append(args, files...)...)
	if code != 0 {
		t.Fatalf("apply over TLS: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "encrypted (") || !strings.Contains(stderr, "certificate verified, host name not checked") {
		t.Errorf("the summary does not say the target connection is encrypted and verified:\n%s", stderr)
	}
	var n int
	srv.DB.QueryRow("SELECT COUNT(*) FROM d.copy WHERE v IN ('over tls', 'two')").Scan(&n)
	if n != 2 {
		t.Errorf("apply over TLS wrote %d rows, want 2", n)
	}
	code, _, stderr = run(append(append([]string{"replay", "--yes", "-t", "d.t", "--rewrite-table", "d.t=d.copy", "--target-tls", "disabled"}, tcp("target")...), files...)...)
	if code == 0 {
		t.Errorf("apply without TLS for a REQUIRE SSL user succeeded: %s", stderr)
	}
}
