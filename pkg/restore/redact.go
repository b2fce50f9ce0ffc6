package restore

import (
	"bytes"
	"strings"
)

// RedactSQL returns statement text fit for a log line or a report: in a statement that sets a
// password (CREATE USER ... IDENTIFIED BY 'pw', SET PASSWORD = PASSWORD('pw'), GRANT ...
// IDENTIFIED BY, CHANGE MASTER TO MASTER_PASSWORD='pw', CREATE SERVER ... OPTIONS (PASSWORD 'pw'),
// IDENTIFIED WITH plugin AS 'hash'), every string is replaced by '<redacted>' except the user
// and host of user@host. A statement counts as one when a word outside strings is IDENTIFIED,
// PASSWORD or ends in _PASSWORD; that over-redacts a column named password, in logs only.
// The SQL output itself keeps the statement as it is, so that the replay sets the same password.
func RedactSQL(stmt []byte) []byte {
	if !setsPassword(stmt) {
		return stmt
	}
	out := make([]byte, 0, len(stmt))
	for i := 0; i < len(stmt); {
		c := stmt[i]
		switch {
		case c == '\'' || c == '"':
			j := stringEnd(stmt, i)
			prevAt := len(bytes.TrimRight(out, " \t\r\n")) > 0 && bytes.TrimRight(out, " \t\r\n")[len(bytes.TrimRight(out, " \t\r\n"))-1] == '@'
			nextAt := bytes.HasPrefix(bytes.TrimLeft(stmt[j:], " \t\r\n"), []byte("@"))
			if prevAt || nextAt {
				out = append(out, stmt[i:j]...)
			} else {
				out = append(out, "'<redacted>'"...)
			}
			i = j
		case c == '`':
			j := stringEnd(stmt, i)
			out = append(out, stmt[i:j]...)
			i = j
		default:
			out = append(out, c)
			i++
		}
	}
	return out
}

// RedactString is RedactSQL for a string.
func RedactString(stmt string) string {
	if !setsPassword([]byte(stmt)) {
		return stmt
	}
	return string(RedactSQL([]byte(stmt)))
}

// stringEnd returns the index after the quoted text that starts at s[i].
func stringEnd(s []byte, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q != '`':
			j++
		case s[j] == q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

// setsPassword reports whether a word outside strings names a password.
func setsPassword(s []byte) bool {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			i = stringEnd(s, i)
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(s) && (s[j] == '_' || s[j] == '$' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			w := strings.ToUpper(string(s[i:j]))
			if w == "IDENTIFIED" || w == "PASSWORD" || strings.HasSuffix(w, "_PASSWORD") {
				return true
			}
			i = j
		default:
			i++
		}
	}
	return false
}

// redactError returns an error message about stmt fit for a log line: parsers and servers quote
// the statement near the error, which for a statement that sets a password may be the password.
func redactError(msg string, stmt []byte) string {
	if !setsPassword(stmt) {
		return msg
	}
	if i := strings.Index(msg, " near "); i >= 0 {
		rest := msg[i+len(" near "):]
		end := ""
		if j := strings.LastIndex(rest, " at line "); j >= 0 {
			end = rest[j:]
		}
		return msg[:i] + " near <redacted>" + end
	}
	return msg
}
