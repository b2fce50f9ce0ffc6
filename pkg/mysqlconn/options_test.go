package mysqlconn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolve(t *testing.T) {
	home := t.TempDir()
	writeFile(t, home, ".my.cnf", `
# a comment
; another
!include /etc/mysql/other.cnf
!includedir /etc/mysql/conf.d/
[mysqld]
user = mysql
port = 1111

[client]
user = "file user"
password = 'se#cret\'s' # trailing comment
host = db.example   # comment
port=3307
ssl-ca = /ca.pem

[client-mariadb]
socket = /run/x.sock
loose_ssl_cert = /c.pem
ssl-key = /k.pem
`)
	other := t.TempDir()
	df := writeFile(t, other, "my.cnf", "[client]\nuser=df\npassword=dfpw\n[mysql]\npassword=ignored\n")
	noEnv := func(string) string { return "" }
	env := func(k string) string {
		return map[string]string{"MYSQL_PWD": "envpw", "USER": "login"}[k]
	}
	cases := []struct {
		name string
		in   Options
		env  func(string) string
		home string
		want Options
	}{
		{name: "home file", env: noEnv, home: home, want: Options{Host: "db.example", Port: 3307, Socket: "/run/x.sock",
			User: "file user", Password: `se#cret's`, TLSCA: "/ca.pem", TLSCert: "/c.pem", TLSKey: "/k.pem", PasswordFrom: "the defaults file " + filepath.Join(home, ".my.cnf")}},
		{name: "flags win", in: Options{Host: "h", Port: 1, User: "u", Password: "p", Socket: "/s"}, env: env, home: home,
			want: Options{Host: "h", Port: 1, Socket: "/s", User: "u", Password: "p", TLSCA: "/ca.pem", TLSCert: "/c.pem", TLSKey: "/k.pem", PasswordFrom: "the password flag"}},
		{name: "defaults file replaces home", in: Options{DefaultsFile: df}, env: env, home: home,
			want: Options{DefaultsFile: df, User: "df", Password: "dfpw", PasswordFrom: "the defaults file " + df}},
		{name: "MYSQL_PWD and USER", in: Options{NoDefaults: true}, env: env, home: home,
			want: Options{NoDefaults: true, User: "login", Password: "envpw", PasswordFrom: "MYSQL_PWD"}},
		{name: "file password beats MYSQL_PWD", env: env, home: home, want: Options{Host: "db.example", Port: 3307, Socket: "/run/x.sock",
			User: "file user", Password: `se#cret's`, TLSCA: "/ca.pem", TLSCert: "/c.pem", TLSKey: "/k.pem", PasswordFrom: "the defaults file " + filepath.Join(home, ".my.cnf")}},
		{name: "uri", in: Options{URI: "mysql://ann@10.0.0.1:3310?tls=required", Port: 4000}, env: noEnv,
			want: Options{URI: "mysql://ann@10.0.0.1:3310?tls=required", Host: "10.0.0.1", Port: 4000, User: "ann", TLS: "required"}},
		{name: "prompt", in: Options{NoDefaults: true, User: "u", AskPassword: true}, env: env,
			want: Options{NoDefaults: true, User: "u", Password: "typed", PasswordFrom: "the prompt"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.Resolve(tc.env, tc.home, func(q string) (string, error) {
				if !strings.Contains(q, "u@") {
					t.Errorf("prompt %q does not name the user", q)
				}
				return "typed", nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.cnf", "[client]\npassword='hunter2\n")
	badPort := writeFile(t, dir, "port.cnf", "[client]\nport=hunter2\n")
	cases := []struct {
		name string
		in   Options
		want string
	}{
		{name: "missing defaults file", in: Options{DefaultsFile: filepath.Join(dir, "nope")}, want: "no such file"},
		{name: "unterminated quote", in: Options{DefaultsFile: bad}, want: "bad.cnf:2: option password: unterminated quote"},
		{name: "bad port", in: Options{DefaultsFile: badPort}, want: "port.cnf:2: port"},
		{name: "prompt without terminal", in: Options{NoDefaults: true, AskPassword: true}, want: "needs a terminal"},
		{name: "bad tls", in: Options{NoDefaults: true, TLS: "maybe"}, want: `tls mode "maybe"`},
		{name: "bad uri", in: Options{URI: "http://u:hunter2@x"}, want: "target URI"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.in.Resolve(nil, "", nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestDriverConfig(t *testing.T) {
	cases := []struct {
		name           string
		in             Options
		net, addr, tls string
		wantTLS        bool
	}{
		{name: "socket", in: Options{Socket: "/s.sock", User: "u"}, net: "unix", addr: "/s.sock", tls: "false"},
		{name: "tcp to a remote host: required", in: Options{Host: "db", User: "u"}, net: "tcp", addr: "db:3306", wantTLS: true},
		{name: "tcp loopback: preferred", in: Options{Host: "127.0.0.1", Port: 3310, User: "u"}, net: "tcp", addr: "127.0.0.1:3310", tls: "preferred"},
		{name: "tcp port", in: Options{Host: "::1", Port: 3310, User: "u", TLS: "disabled"}, net: "tcp", addr: "[::1]:3310", tls: "false"},
		{name: "required", in: Options{Host: "db", User: "u", TLS: "required"}, net: "tcp", addr: "db:3306", wantTLS: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := tc.in.DriverConfig()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Net != tc.net || cfg.Addr != tc.addr || cfg.TLSConfig != tc.tls || (cfg.TLS != nil) != tc.wantTLS {
				t.Errorf("got %s %s tls=%q %v", cfg.Net, cfg.Addr, cfg.TLSConfig, cfg.TLS != nil)
			}
			if cfg.AllowFallbackToPlaintext {
				t.Error("falls back to plaintext")
			}
			if cfg.MultiStatements || cfg.InterpolateParams || cfg.ParseTime {
				t.Error("want the plain text protocol")
			}
		})
	}
}

func TestAddressHidesPassword(t *testing.T) {
	o := Options{Host: "db", Port: 3307, User: "ann", Password: "hunter2"}
	if got := o.Address(); got != "ann@db:3307" {
		t.Errorf("Address() = %q", got)
	}
	o = Options{Socket: "/run/m.sock", User: "ann", Password: "hunter2"}
	if got := o.Address(); got != "ann@/run/m.sock" {
		t.Errorf("Address() = %q", got)
	}
}

// TestOptionFileWritableByOthers: as the mysql client, a defaults file others may write is
// ignored with a warning; the same file readable by its owner alone is read.
func TestOptionFileWritableByOthers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "my.cnf")
	if err := os.WriteFile(path, []byte("[client]\nuser=fromfile\npassword=FilePw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mode    os.FileMode
		ignored bool
	}{{0o600, false}, {0o640, false}, {0o666, true}, {0o602, true}} {
		if err := os.Chmod(path, tc.mode); err != nil {
			t.Fatal(err)
		}
		r, err := Options{Socket: "/s", DefaultsFile: path}.Resolve(func(string) string { return "" }, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Password == ""; got != tc.ignored {
			t.Errorf("mode %04o: password %q, want ignored=%v", tc.mode, r.Password, tc.ignored)
		}
		if got := strings.Contains(r.Warning, "writable by others"); got != tc.ignored {
			t.Errorf("mode %04o: warning %q", tc.mode, r.Warning)
		}
	}
}

// TestTLSMode: the mode each combination of options connects with. Once any TLS option is
// given there is no fallback to plaintext; only loopback defaults to preferred.
func TestTLSMode(t *testing.T) {
	for _, tc := range []struct {
		in   Options
		want string
	}{
		{Options{Socket: "/s"}, "disabled"},
		{Options{Host: "localhost", Port: 3307}, "preferred"},
		{Options{Host: "127.0.0.1"}, "preferred"},
		{Options{Host: "::1"}, "preferred"},
		{Options{Host: "db.example.com"}, "required"},
		{Options{Host: "10.0.0.5", TLS: "disabled"}, "disabled"},
		{Options{Host: "10.0.0.5", TLS: "preferred"}, "preferred"},
		{Options{Host: "10.0.0.5", TLSCA: "/ca.pem"}, "verify-ca"},
		{Options{Host: "127.0.0.1", TLS: "preferred", TLSCA: "/ca.pem"}, "verify-ca"},
		{Options{Host: "127.0.0.1", TLSCert: "/c.pem", TLSKey: "/k.pem"}, "required"},
		{Options{Host: "10.0.0.5", TLS: "verify-identity"}, "verify-identity"},
	} {
		if got := tc.in.TLSMode(); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.in, got, tc.want)
		}
	}
	// verify-* without a CA file verifies against the system's roots.
	for _, mode := range []string{"verify-ca", "verify-identity"} {
		cfg, err := Options{Host: "db.example.com", TLS: mode}.DriverConfig()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.TLS == nil || cfg.TLS.RootCAs != nil || cfg.AllowFallbackToPlaintext {
			t.Errorf("%s: %+v", mode, cfg.TLS)
		}
		if mode == "verify-identity" && (cfg.TLS.InsecureSkipVerify || cfg.TLS.ServerName != "db.example.com") {
			t.Errorf("%s: does not verify the host name", mode)
		}
		if mode == "verify-ca" && cfg.TLS.VerifyPeerCertificate == nil {
			t.Errorf("%s: does not verify the chain", mode)
		}
	}
}
