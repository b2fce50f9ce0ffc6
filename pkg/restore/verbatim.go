package restore

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
)

// errVerbatim is the class of statement text pitr refuses to print as it is.
var errVerbatim = errors.New("statement text cannot be replayed as one statement")

// verbatim checks statement text that pitr prints as the binlog holds it (DDL, statements of
// the source), and returns it ready for a Sink: a Sink adds ";" after it, and the output is
// piped into the mariadb client, which splits statements and runs commands of its own before
// the server sees anything. It reads the text as the client does (strings, quoted names,
// comments, executable comments, backslash escapes) and
//   - ends the text with a line break when it ends inside a "--" or "#" comment, which would
//     swallow the ";" (apply sends the same bytes, so dry-run equals apply);
//   - drops a trailing ";" (and comments after it) the text was logged with, as the server
//     ignores it;
//   - refuses a string, quoted name or comment that does not end (the client would take the
//     output up to the next quote into it), a ";" that ends a statement inside the text (a
//     second statement), a backslash outside strings (a client command: \! runs a shell
//     command, \. reads a file, \d changes the delimiter), a line that starts with a client
//     command (system, source, ...) before the statement's first word, and "--" followed by a
//     control character, a comment to the server but not to the client.
//
// Text from a binlog can be anything; this is what makes the output hold exactly the
// statements pitr meant. The client's reading is that of its default settings: delimiter ";",
// utf8mb4 (no byte of a multi-byte character is ASCII), backslash escapes in strings (pitr's
// session sets neither NO_BACKSLASH_ESCAPES nor ANSI_QUOTES).
func verbatim(stmt []byte) ([]byte, error) {
	const (
		code = iota
		quoted
		block
		line
	)
	state, q := code, byte(0)
	end := -1      // a top-level ";": only comments and spaces may follow
	empty := true  // no code yet: the client's buffer is empty, and a line may be a command
	lineStart := 0 // where the current line starts
	for i := 0; i < len(stmt); i++ {
		c := stmt[i]
		switch state {
		case quoted:
			switch {
			case c == '\\' && q != '`':
				i++ // the escaped byte, even a quote
			case c == q:
				state = code // a doubled quote opens the string again at the next byte
			}
			continue
		case block:
			if c == '*' && i+1 < len(stmt) && stmt[i+1] == '/' {
				state, i = code, i+1
			}
			continue
		case line:
			if c == '\n' {
				state, lineStart = code, i+1
			}
			continue
		}
		if c == '\n' {
			lineStart = i + 1
			continue
		}
		if isSpace(c) {
			continue
		}
		if empty && i == lineStart || empty && isAllSpace(stmt[lineStart:i]) {
			if w := clientCommandAt(stmt[i:]); w != "" {
				return nil, fmt.Errorf("%w: a line starts with %q, a command of the mysql client", errVerbatim, w)
			}
		}
		startsBlock := c == '/' && i+1 < len(stmt) && stmt[i+1] == '*'
		// The client keeps /*! and /*M! executable comments as text: their content is code.
		executable := startsBlock && i+2 < len(stmt) && (stmt[i+2] == '!' || stmt[i+2] == 'M' && i+3 < len(stmt) && stmt[i+3] == '!')
		dashes := c == '-' && i+1 < len(stmt) && stmt[i+1] == '-'
		switch {
		case c == '#' || dashes && (i+2 == len(stmt) || isSpace(stmt[i+2])):
			state = line
			continue
		case dashes && (stmt[i+2] < 0x20 || stmt[i+2] == 0x7f):
			return nil, fmt.Errorf("%w: \"--\" and a control character at byte %d: a comment to the server, not to the client", errVerbatim, i)
		case startsBlock && !executable:
			state, i = block, i+1
			continue
		}
		if end >= 0 {
			// A stored program's body holds statements of its own: the server reads the whole
			// text as one statement, and the output frames it with a DELIMITER the text does not
			// hold (see appendStatement). Anything else is two statements.
			if !storedProgram.Match(stmt) {
				return nil, fmt.Errorf("%w: a ';' at byte %d ends it and more text follows", errVerbatim, end)
			}
			end = -1
		}
		empty = false
		switch c {
		case '\'', '"', '`':
			state, q = quoted, c
		case ';':
			end = i
		case '\\':
			if i+1 < len(stmt) && stmt[i+1] == 'N' { // \N is NULL to the client as to the server
				i++
				continue
			}
			return nil, fmt.Errorf("%w: a backslash at byte %d outside a string would be a client command", errVerbatim, i)
		}
	}
	switch {
	case state == quoted:
		return nil, fmt.Errorf("%w: the %c-quoted text never ends", errVerbatim, q)
	case state == block:
		return nil, fmt.Errorf("%w: a /* comment never ends", errVerbatim)
	case empty:
		return nil, fmt.Errorf("%w: it holds no statement", errVerbatim)
	case end >= 0:
		return bytes.TrimRight(stmt[:end], " \t\r\n\f\v"), nil
	case state == line:
		return append(stmt[:len(stmt):len(stmt)], '\n'), nil
	}
	return stmt, nil
}

// clientCommands are the mysql client's named commands, which it runs when a line starts with
// one while no statement has begun (MariaDB client/mysql.cc, commands[]).
var clientCommands = []string{"?", "charset", "clear", "connect", "delimiter", "edit", "ego", "exit", "go", "help",
	"nopager", "notee", "nowarning", "pager", "print", "prompt", "quit", "rehash", "sandbox", "source", "status",
	"system", "tee", "use", "warnings"}

// clientCommandAt returns the client command b starts with, or "".
func clientCommandAt(b []byte) string {
	for _, w := range clientCommands {
		if len(b) >= len(w) && bytes.EqualFold(b[:len(w)], []byte(w)) && (len(b) == len(w) || isSpace(b[len(w)]) || b[len(w)] == ';') {
			return w
		}
	}
	return ""
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isAllSpace(b []byte) bool { return len(bytes.TrimLeft(b, " \t\r\n\f\v")) == 0 }

// storedProgram matches the statements whose text may hold ";" of their own: the definition
// of a procedure, function, trigger, event or package, and MariaDB's anonymous block, after any
// leading comments. Their body is one statement to the server.
var storedProgram = regexp.MustCompile(`(?is)^\s*(?:(?:/\*[^!M].*?\*/|--[ \t][^\n]*\n|#[^\n]*\n)\s*)*` +
	`(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:DEFINER\s*=\s*\S+\s+)?(?:SQL\s+SECURITY\s+\w+\s+)?(?:AGGREGATE\s+)?(?:PROCEDURE|FUNCTION|TRIGGER|EVENT|PACKAGE)\b` +
	`|ALTER\s+(?:DEFINER\s*=\s*\S+\s+)?EVENT\b|(?:\w+\s*:\s*)?BEGIN\s+NOT\s+ATOMIC\b)`)

// appendStatement appends stmt and its terminator as the mysql client reads them: ";" and a
// line break, or, for a stored program whose body holds ";" (see verbatim), the text between
// DELIMITER lines, with a delimiter the text does not contain, so the client sends the whole
// text as the one statement the source ran, exactly as apply sends it.
func appendStatement(dst, stmt []byte) []byte {
	if bytes.IndexByte(stmt, ';') < 0 || !topLevelSemicolon(stmt) {
		dst = append(dst, stmt...)
		return append(dst, ";\n"...)
	}
	d := []byte("$$")
	for bytes.Contains(stmt, d) {
		d = append(d, '$')
	}
	dst = append(dst, "DELIMITER "...)
	dst = append(dst, d...)
	dst = append(dst, '\n')
	dst = append(dst, stmt...)
	dst = append(dst, d...)
	return append(dst, "\nDELIMITER ;\n"...)
}

// topLevelSemicolon reports whether stmt holds a ";" outside strings, quoted names and
// comments: one the client would take for the end of a statement.
func topLevelSemicolon(stmt []byte) bool {
	for i := 0; i < len(stmt); i++ {
		switch c := stmt[i]; c {
		case '\'', '"', '`':
			for i++; i < len(stmt) && stmt[i] != c; i++ {
				if stmt[i] == '\\' && c != '`' {
					i++
				}
			}
		case '/':
			if i+2 < len(stmt) && stmt[i+1] == '*' && stmt[i+2] != '!' && stmt[i+2] != 'M' {
				if j := bytes.Index(stmt[i+2:], []byte("*/")); j >= 0 {
					i += j + 3
				} else {
					return false
				}
			}
		case '#':
			for i < len(stmt) && stmt[i] != '\n' {
				i++
			}
		case '-':
			if i+2 < len(stmt) && stmt[i+1] == '-' && isSpace(stmt[i+2]) {
				for i < len(stmt) && stmt[i] != '\n' {
					i++
				}
			}
		case ';':
			return true
		}
	}
	return false
}
