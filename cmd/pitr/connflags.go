package main

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"

	"github.com/spf13/pflag"

	"github.com/pitr-tool/pitr/pkg/mysqlconn"
)

// askPassword is what a bare --<prefix>-password (no value) leaves in the field: prompt for it.
const askPassword = "(ask)"

// connFlags are the flags of one server connection (--target-host, ..., or --source-host, ...).
type connFlags struct {
	prefix string
	opts   mysqlconn.Options
}

// addConnFlags registers --<prefix> (a mysql:// URI), --<prefix>-host, -port, -socket, -user,
// -password, -tls, -ssl-ca, -ssl-cert and -ssl-key into o. --defaults-file and --no-defaults are
// shared by every connection of a command: see addDefaultsFlags.
func addConnFlags(fs *pflag.FlagSet, prefix string, o *mysqlconn.Options) {
	fs.StringVar(&o.URI, prefix, "", "the "+prefix+" server as mysql://[user@]host[:port][?socket=PATH&tls=MODE]")
	fs.StringVar(&o.Host, prefix+"-host", "", prefix+" server host name or IP address")
	fs.IntVar(&o.Port, prefix+"-port", 0, prefix+" server TCP port (default 3306)")
	fs.StringVar(&o.Socket, prefix+"-socket", "", prefix+" server unix socket `PATH`")
	fs.StringVar(&o.User, prefix+"-user", "", prefix+" user name (default: the login name)")
	fs.StringVar(&o.Password, prefix+"-password", "", "given without a value: ask for the "+prefix+" password on the terminal. "+
		"A value here shows in the process list; prefer MYSQL_PWD, a defaults file or the prompt")
	fs.Lookup(prefix + "-password").NoOptDefVal = askPassword
	fs.StringVar(&o.TLS, prefix+"-tls", "", "TLS `MODE` for the "+prefix+": disabled, preferred, required, verify-ca, verify-identity "+
		"(default: none over a socket, preferred to a loopback address, required to any other host; never plaintext once a TLS option is given)")
	fs.StringVar(&o.TLSCA, prefix+"-ssl-ca", "", "CA certificate `FILE` (PEM) for verify-ca and verify-identity (default: the system's roots); given alone, it means verify-ca")
	fs.StringVar(&o.TLSCert, prefix+"-ssl-cert", "", "client certificate `FILE` (PEM)")
	fs.StringVar(&o.TLSKey, prefix+"-ssl-key", "", "client key `FILE` (PEM)")
}

// addDefaultsFlags registers --defaults-file and --no-defaults.
func addDefaultsFlags(fs *pflag.FlagSet, file *string, none *bool) {
	fs.StringVar(file, "defaults-file", "", "read connection options from the [client] sections of `FILE` instead of ~/.my.cnf")
	fs.BoolVar(none, "no-defaults", false, "read no option file")
}

// connGiven reports whether any flag chose a server.
func connGiven(o mysqlconn.Options) bool {
	return o.URI != "" || o.Host != "" || o.Port != 0 || o.Socket != "" || o.User != ""
}

// resolveConn completes o from the option file, MYSQL_PWD and a password prompt (only when
// the password flag was given without a value, and only on a terminal).
func resolveConn(o mysqlconn.Options, defaultsFile string, noDefaults bool, log *slog.Logger) (mysqlconn.Options, error) {
	o.DefaultsFile, o.NoDefaults = defaultsFile, noDefaults
	if o.Password == askPassword {
		o.Password, o.AskPassword = "", true
	}
	home, _ := os.UserHomeDir()
	var prompt func(string) (string, error)
	if isTerminal(os.Stdin) {
		prompt = promptPassword
	}
	r, err := o.Resolve(os.Getenv, home, prompt)
	if r.Warning != "" && log != nil {
		log.Warn(r.Warning)
	}
	return r, err
}

// promptPassword reads a line from /dev/tty with echo off. golang.org/x/term is not a
// dependency, so echo is switched with stty(1), as shell scripts do.
func promptPassword(question string) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", err
	}
	defer tty.Close()
	stty := func(arg string) error {
		cmd := exec.Command("stty", arg)
		cmd.Stdin = tty
		return cmd.Run()
	}
	if err := stty("-echo"); err != nil {
		return "", fmt.Errorf("cannot turn off echo (stty): %w", err)
	}
	defer stty("echo")
	fmt.Fprint(tty, question)
	line, err := bufio.NewReader(tty).ReadString('\n')
	fmt.Fprintln(tty)
	if err != nil && line == "" {
		return "", errors.New("no password read")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// loginHint says, after a refused login on the --source or --target server (side), which flags
// and sources of the password there are, and which user and password source were tried.
func loginHint(side string, c mysqlconn.Options) string {
	tried := "no password (none came from --" + side + "-password, the URI, the defaults file or MYSQL_PWD)"
	if c.PasswordFrom != "" {
		tried = "the password from " + strings.Replace(c.PasswordFrom, "the password flag", "--"+side+"-password", 1)
	}
	files := "~/.my.cnf"
	switch {
	case c.NoDefaults:
		files = "none: --no-defaults"
	case c.DefaultsFile != "":
		files = c.DefaultsFile
	}
	return fmt.Sprintf("check the user and password: --%s-user, --%s-password (without a value it asks), MYSQL_PWD, or the [client] password of --defaults-file (read: %s); tried user %q with %s",
		side, side, files, c.User, tried)
}
