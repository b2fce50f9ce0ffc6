package binlog

import (
	"fmt"
	"strconv"
	"strings"
)

// checkServerName checks a binlog file name a server sent (SHOW BINARY LOGS, a Rotate event).
// A server of unknown origin, or a proxy in between, chooses these names, and pitr prints them
// and fetch creates files by them: a name must be a plain base name in the series the server
// logs, BASE.NNNNNN with the base of its other files (base is "" until one is known), and
// nothing else, so that it can neither leave a folder nor hold a line break or a quote.
func checkServerName(name, base string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: the server sent the binlog file name %s: %s", ErrCorrupt, strconv.QuoteToASCII(name), why)
	}
	if name == "" || len(name) > 255 {
		return bad("empty or longer than a file name")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f || c == '/' || c == '\\' || c == '\'' || c == '"' || c == '`' {
			return bad("not a plain file name")
		}
	}
	dot := strings.LastIndexByte(name, '.')
	if dot <= 0 || dot == len(name)-1 || strings.Trim(name[dot+1:], "0123456789") != "" || strings.HasPrefix(name, ".") {
		return bad("not BASE.NUMBER, as servers name binlogs")
	}
	if base != "" && name[:dot] != base {
		return bad("not in the server's series " + base + ".*")
	}
	return nil
}

// seriesBase returns the part of a binlog file name before its number.
func seriesBase(name string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		return name[:i]
	}
	return name
}
