package mysqlconn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Options says how to reach a server. The zero value of a field means "not given".
type Options struct {
	// URI is an optional mysql://[user@]host[:port][?socket=PATH&tls=MODE] address; the fields
	// below, when set, win over it. A password in a URI is accepted but discouraged (it shows in
	// the process list).
	URI string

	Host     string
	Port     int
	Socket   string
	User     string
	Password string
	// AskPassword asks Resolve to prompt for the password (the mysql client's bare -p).
	AskPassword bool

	// DefaultsFile is read instead of ~/.my.cnf; it must exist.
	DefaultsFile string
	// NoDefaults reads no option file at all.
	NoDefaults bool

	// TLS is "" (the default: see TLSMode), "disabled", "preferred", "required" (encrypted,
	// certificate not checked), "verify-ca" or "verify-identity" (against TLSCA, or the system's
	// roots without it).
	TLS                    string
	TLSCA, TLSCert, TLSKey string

	// ConnectTimeout bounds dialing; 0 means 10 s.
	ConnectTimeout time.Duration

	// PasswordFrom is set by Resolve: where the password came from ("the password flag", "the
	// URI", "the defaults file PATH", "MYSQL_PWD", "the prompt"), "" for none, so that a
	// refused login can say what was tried without showing the password.
	PasswordFrom string

	// Warning is set by Resolve: what it ignored (an option file others may write), for the
	// caller to log. (A string, not a list, keeps Options comparable.)
	Warning string
}

// DefaultSocket is where a local server listens when neither host nor socket is given.
var DefaultSocket = "/run/mysqld/mysqld.sock"

// optionGroups are the option-file sections the mysql and mariadb clients read, in order; later
// ones override earlier ones.
var optionGroups = []string{"client", "client-server", "client-mariadb", "mariadb-client"}

// Resolve returns o completed from, in decreasing priority: o's own fields, the URI, the option
// file, env("MYSQL_PWD") for the password (env("USER") for the user), and, when AskPassword is set, prompt. home is the
// user's home directory ("" to skip ~/.my.cnf). prompt may be nil: then AskPassword is an error.
func (o Options) Resolve(env func(string) string, home string, prompt func(question string) (string, error)) (Options, error) {
	r := o
	from := func(what string) {
		if r.PasswordFrom == "" && r.Password != "" {
			r.PasswordFrom = what
		}
	}
	r.PasswordFrom = ""
	from("the password flag")
	if o.URI != "" {
		u, err := parseURI(o.URI)
		if err != nil {
			return o, err
		}
		r.fillFrom(u)
		from("the URI")
	}
	if !o.NoDefaults {
		path := o.DefaultsFile
		mustExist := path != ""
		if path == "" && home != "" {
			path = filepath.Join(home, ".my.cnf")
		}
		if path != "" {
			f, warn, err := readOptionFile(path, mustExist)
			if err != nil {
				return o, err
			}
			r.Warning = warn
			r.fillFrom(f)
			from("the defaults file " + path)
		}
	}
	if env != nil {
		if r.Password == "" {
			r.Password = env("MYSQL_PWD")
			from("MYSQL_PWD")
		}
		// The mysql client's default user is the login name.
		for _, k := range []string{"USER", "LOGNAME"} {
			if r.User == "" {
				r.User = env(k)
			}
		}
	}
	if o.AskPassword && o.Password == "" {
		if prompt == nil {
			return o, errors.New("a password prompt needs a terminal on stdin; use MYSQL_PWD or a defaults file")
		}
		pw, err := prompt(fmt.Sprintf("Enter password for %s: ", r.Address()))
		if err != nil {
			return o, fmt.Errorf("password prompt: %w", err)
		}
		r.Password = pw
		r.PasswordFrom = "the prompt"
	}
	r.AskPassword = false
	if err := r.validate(); err != nil {
		return o, err
	}
	return r, nil
}

// fillFrom sets the fields of o that are still unset from f.
func (o *Options) fillFrom(f Options) {
	set := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	set(&o.Host, f.Host)
	set(&o.Socket, f.Socket)
	set(&o.User, f.User)
	set(&o.Password, f.Password)
	set(&o.TLS, f.TLS)
	set(&o.TLSCA, f.TLSCA)
	set(&o.TLSCert, f.TLSCert)
	set(&o.TLSKey, f.TLSKey)
	if o.Port == 0 {
		o.Port = f.Port
	}
}

func (o Options) validate() error {
	switch o.TLS {
	case "", "disabled", "preferred", "required", "verify-ca", "verify-identity":
	default:
		return fmt.Errorf("tls mode %q: want disabled, preferred, required, verify-ca or verify-identity", o.TLS)
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return errors.New("a client certificate needs both ssl-cert and ssl-key")
	}
	if o.Port < 0 || o.Port > 65535 {
		return fmt.Errorf("port %d out of range", o.Port)
	}
	return nil
}

// parseURI reads mysql://[user[:password]@][host][:port][/][?socket=PATH&tls=MODE&ssl-ca=FILE...].
// Its errors never quote the URI, which may hold a password.
func parseURI(s string) (Options, error) {
	var o Options
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "mysql" && u.Scheme != "mariadb") {
		return o, errors.New("target URI: want mysql://[user@]host[:port][?socket=PATH]")
	}
	if u.User != nil {
		o.User = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	o.Host = u.Hostname()
	if p := u.Port(); p != "" {
		if o.Port, err = strconv.Atoi(p); err != nil {
			return o, errors.New("target URI: bad port")
		}
	}
	q := u.Query()
	o.Socket = q.Get("socket")
	o.TLS = q.Get("tls")
	o.TLSCA, o.TLSCert, o.TLSKey = q.Get("ssl-ca"), q.Get("ssl-cert"), q.Get("ssl-key")
	return o, nil
}

// Address names the server for messages: user@host:port or user@/path/to.sock. It never
// includes the password.
func (o Options) Address() string {
	user := o.User
	if user == "" {
		user = "(current user)"
	}
	_, addr := o.netAddr()
	return user + "@" + addr
}

// netAddr decides between the socket and TCP as the mysql client does: a socket when one is
// given, or when the host is empty or "localhost" with no port and the default socket exists.
func (o Options) netAddr() (network, addr string) {
	if o.Socket != "" {
		return "unix", o.Socket
	}
	if (o.Host == "" || o.Host == "localhost") && o.Port == 0 {
		if _, err := os.Stat(DefaultSocket); err == nil {
			return "unix", DefaultSocket
		}
	}
	host, port := o.Host, o.Port
	if host == "" {
		host = "localhost"
	}
	if port == 0 {
		port = 3306
	}
	return "tcp", net.JoinHostPort(host, strconv.Itoa(port))
}

// DriverConfig returns a go-sql-driver/mysql configuration for o (call Resolve first): text
// protocol only (no prepared statements, no multi-statements), no time parsing. The config
// holds the password; never print its DSN.
func (o Options) DriverConfig() (*mysql.Config, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr = o.netAddr()
	cfg.User = o.User
	cfg.Passwd = o.Password
	cfg.Timeout = o.ConnectTimeout
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	// The driver's own logger prints "unexpected EOF" lines on stderr; callers see the errors.
	cfg.Logger = mysql.Logger(discard{})
	cfg.ParseTime = false
	cfg.MultiStatements = false
	cfg.InterpolateParams = false
	// The client-side limit: the server's own max_allowed_packet is what counts.
	cfg.MaxAllowedPacket = 1 << 30
	mode := o.TLSMode()
	switch mode {
	case "disabled":
		cfg.TLSConfig = "false"
		return cfg, nil
	case "preferred":
		// The implicit default on loopback only (see TLSMode): encrypted when the server
		// offers it, unverified.
		cfg.TLSConfig = "preferred"
		return cfg, nil
	}
	tc, err := o.tlsConfig(mode, cfg.Addr)
	if err != nil {
		return nil, err
	}
	cfg.TLS = tc
	cfg.AllowFallbackToPlaintext = false
	return cfg, nil
}

// TLSMode is the TLS mode a connection uses. A mode given is kept, except that "preferred"
// with a CA, certificate or key is not: once any TLS option is given pitr never falls back to
// plaintext (a CA makes it verify-ca, a certificate alone required). With none given:
//   - a unix socket: disabled (local, as the mysql client; the server's require_secure_transport
//     accepts it too);
//   - TCP to a loopback address or localhost: preferred (no network to attack);
//   - TCP to any other host: required, as MariaDB 11.4's client turns TLS on by default. The
//     11.4 client goes further and verifies the server's certificate by default, trusting a
//     self-signed one through a digest of the password only that client and server compute; pitr
//     cannot, so it encrypts by default and verifies when given verify-ca or verify-identity
//     (against --ssl-ca, or the system's roots).
func (o Options) TLSMode() string {
	mode := o.TLS
	anyFile := o.TLSCA != "" || o.TLSCert != "" || o.TLSKey != ""
	switch {
	case mode == "" && anyFile, mode == "preferred" && anyFile:
		if o.TLSCA != "" {
			return "verify-ca"
		}
		return "required"
	case mode != "":
		return mode
	}
	network, addr := o.netAddr()
	if network == "unix" {
		return "disabled"
	}
	host, _, _ := net.SplitHostPort(addr)
	if host == "localhost" {
		return "preferred"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return "preferred"
	}
	return "required"
}

// TLSState describes a connection for a summary: whether it is encrypted (cipher is the
// server's Ssl_cipher, "" for none) and whether the server's certificate was verified.
func (o Options) TLSState(cipher string) string {
	network, _ := o.netAddr()
	return DescribeTLS(o.TLSMode(), network, cipher)
}

// DescribeTLS is TLSState for a connection of the given TLS mode and network.
func DescribeTLS(mode, network, cipher string) string {
	switch {
	case cipher == "" && network == "unix":
		return "unix socket, not encrypted"
	case cipher == "":
		return "NOT encrypted (tls " + mode + ")"
	case mode == "verify-identity":
		return "encrypted (" + cipher + "), certificate and host name verified"
	case mode == "verify-ca":
		return "encrypted (" + cipher + "), certificate verified, host name not checked"
	default:
		return "encrypted (" + cipher + "), certificate NOT verified (tls " + mode + ")"
	}
}

func (o Options) tlsConfig(mode, addr string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("ssl-cert/ssl-key: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	var pool *x509.CertPool
	if o.TLSCA != "" {
		pem, err := os.ReadFile(o.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("ssl-ca: %w", err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ssl-ca %s: no PEM certificate in it", o.TLSCA)
		}
	}
	switch mode {
	case "verify-identity":
		tc.RootCAs = pool
		if host, _, err := net.SplitHostPort(addr); err == nil {
			tc.ServerName = host
		}
	case "verify-ca":
		// Check the chain, not the name: crypto/tls can only do that by hand.
		tc.InsecureSkipVerify = true
		tc.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("server sent no certificate")
			}
			certs := make([]*x509.Certificate, len(raw))
			for i, r := range raw {
				c, err := x509.ParseCertificate(r)
				if err != nil {
					return err
				}
				certs[i] = c
			}
			inter := x509.NewCertPool()
			for _, c := range certs[1:] {
				inter.AddCert(c)
			}
			_, err := certs[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter})
			return err
		}
	default: // required, preferred: encrypted, not verified (as the mysql client's REQUIRED)
		tc.InsecureSkipVerify = true
	}
	return tc, nil
}

type discard struct{}

func (discard) Print(...any) {}
