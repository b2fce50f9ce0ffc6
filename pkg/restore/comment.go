package restore

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// CommentText returns s as it may be printed after "-- " on a comment line of the SQL output.
// Every string pitr prints outside a literal goes through it (file names, GTIDs, statement text,
// names a server sent, header lines): they come from binlogs and servers of unknown origin, and
// the output is piped into a client with full privileges. A line break would end the comment
// and make the rest of the string a statement, so every character that is not printable is
// written as an escape (\n, \r, \x00, \u2028, ...), as are bytes that are not UTF-8, the bidi
// controls that could make a line read differently than it runs, and "*/", so that the text is
// also safe inside a /* */ comment. Printable text, backslashes and quotes are kept as they are:
// the client ignores a "-- " line from its first dash.
func CommentText(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '*' {
			return string(appendComment(make([]byte, 0, len(s)+8), s))
		}
	}
	return s
}

// DisplayText is CommentText for a line of a report that is not SQL (find): the same escapes
// but for "*/", which is left as it is.
func DisplayText(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return string(appendEscaped(make([]byte, 0, len(s)+8), s, false))
		}
	}
	return s
}

// appendComment appends CommentText(s) to b.
func appendComment(b []byte, s string) []byte { return appendEscaped(b, s, true) }

func appendEscaped(b []byte, s string, blockComment bool) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			if blockComment && c == '*' && i+1 < len(s) && s[i+1] == '/' {
				b = append(b, `*\/`...)
				i += 2
				continue
			}
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			b = append(b, `\x`...)
			b = appendHexDigits(b, uint64(c), 2)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r < 0x20 || r == 0x7f:
			b = append(b, `\x`...)
			b = appendHexDigits(b, uint64(r), 2)
		case unicode.IsPrint(r) && !unicode.Is(unicode.Bidi_Control, r):
			b = append(b, s[i:i+n]...)
		case r <= 0xffff:
			b = append(b, `\u`...)
			b = appendHexDigits(b, uint64(r), 4)
		default:
			b = append(b, `\U`...)
			b = appendHexDigits(b, uint64(r), 8)
		}
		i += n
	}
	return b
}

func appendHexDigits(b []byte, v uint64, width int) []byte {
	h := strconv.FormatUint(v, 16)
	for i := len(h); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, h...)
}
