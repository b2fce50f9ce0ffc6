package mysqlconn

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// readOptionFile reads the client groups of a my.cnf-style file. A missing file is no error
// unless mustExist. !include and !includedir are ignored (pitr reads one file, as named). A file
// that users other than its owner's group may write is ignored with a warning, as the mysql
// client ignores a world-writable one: anyone could point pitr at their own server or user.
func readOptionFile(path string, mustExist bool) (o Options, warning string, err error) {
	f, err := os.Open(path)
	if err != nil {
		if !mustExist && errors.Is(err, fs.ErrNotExist) {
			return Options{}, "", nil
		}
		return Options{}, "", fmt.Errorf("defaults file: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o002 != 0 {
		return Options{}, fmt.Sprintf("defaults file %s is writable by others (mode %04o): ignored, as the mysql client does", path, fi.Mode().Perm()), nil
	}
	o, err = parseOptionFile(f, path)
	if err != nil {
		return Options{}, "", err
	}
	return o, "", nil
}

// parseOptionFile reads host, port, socket, user, password and the ssl options from the
// [client], [client-server], [client-mariadb] and [mariadb-client] groups; later lines win.
// Errors name path:line, never a value.
func parseOptionFile(f io.Reader, path string) (Options, error) {
	var o Options
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	inGroup := false
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '!' {
			continue
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				return o, fmt.Errorf("%s:%d: unterminated group name", path, n)
			}
			g := strings.ToLower(strings.TrimSpace(line[1:end]))
			inGroup = false
			for _, want := range optionGroups {
				if g == want {
					inGroup = true
				}
			}
			continue
		}
		if !inGroup {
			continue
		}
		key, val, hasVal := strings.Cut(line, "=")
		key = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(key)), "_", "-")
		key = strings.TrimPrefix(key, "loose-")
		v, err := optionValue(strings.TrimSpace(val))
		if err != nil {
			return o, fmt.Errorf("%s:%d: option %s: %w", path, n, key, err)
		}
		switch key {
		case "host":
			o.Host = v
		case "port":
			p, err := strconv.Atoi(v)
			if err != nil || p < 0 || p > 65535 {
				return o, fmt.Errorf("%s:%d: port: not a port number", path, n)
			}
			o.Port = p
		case "socket":
			o.Socket = v
		case "user":
			o.User = v
		case "password":
			if hasVal { // a bare "password" means "prompt" to the mysql client; pitr ignores it
				o.Password = v
			}
		case "ssl-ca":
			o.TLSCA = v
		case "ssl-cert":
			o.TLSCert = v
		case "ssl-key":
			o.TLSKey = v
		case "ssl-mode": // MySQL's spelling
			o.TLS = strings.ToLower(strings.ReplaceAll(v, "_", "-"))
		case "ssl":
			if !hasVal || v == "1" || strings.EqualFold(v, "on") || strings.EqualFold(v, "true") {
				if o.TLS == "" || o.TLS == "disabled" || o.TLS == "preferred" {
					o.TLS = "required"
				}
			} else {
				o.TLS = "disabled"
			}
		case "skip-ssl":
			o.TLS = "disabled"
		case "ssl-verify-server-cert":
			if !hasVal || v == "1" || strings.EqualFold(v, "on") || strings.EqualFold(v, "true") {
				o.TLS = "verify-identity"
			}
		}
	}
	if err := sc.Err(); err != nil {
		return o, fmt.Errorf("defaults file %s: %w", path, err)
	}
	return o, nil
}

// optionValue unquotes a value as the mysql client does: '...' or "..." with backslash escapes
// (\n \t \r \b \s \\ \' \"), or a bare word that ends at an unescaped " #" comment.
func optionValue(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if q := s[0]; q == '\'' || q == '"' {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			c := s[i]
			switch {
			case c == q:
				rest := strings.TrimSpace(s[i+1:])
				if rest != "" && rest[0] != '#' && rest[0] != ';' {
					return "", errors.New("text after the closing quote")
				}
				return b.String(), nil
			case c == '\\' && i+1 < len(s):
				i++
				b.WriteByte(unescape(s[i]))
			default:
				b.WriteByte(c)
			}
		}
		return "", errors.New("unterminated quote")
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') {
			break
		}
		if c == '\\' && i+1 < len(s) {
			i++
			b.WriteByte(unescape(s[i]))
			continue
		}
		b.WriteByte(c)
	}
	return strings.TrimSpace(b.String()), nil
}

func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'r':
		return '\r'
	case 'b':
		return '\b'
	case 's':
		return ' '
	}
	return c
}
