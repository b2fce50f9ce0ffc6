package main

import "strings"

// hideSecrets returns a copy of args (os.Args) for the flag parser, and overwrites the
// passwords in args themselves with 'x', as the mysql client does: the process list shows the
// arguments for the whole run, to every user of the machine. The values are --*-password=PW and
// the password of a mysql://user:PW@host URI. Where the arguments cannot be overwritten in place
// (see overwriteArg), the copy is all that changes.
func hideSecrets(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.Clone(a) // the parser must keep the value, not the memory overwritten below
		for _, span := range secretSpans(a) {
			overwriteArg(a, span[0], span[1])
		}
	}
	return out
}

// secretSpans returns the byte ranges of a that hold a password.
func secretSpans(a string) [][2]int {
	var spans [][2]int
	if strings.HasPrefix(a, "--") {
		if name, _, ok := strings.Cut(a, "="); ok && strings.HasSuffix(name, "-password") && len(a) > len(name)+1 {
			spans = append(spans, [2]int{len(name) + 1, len(a)})
		}
	}
	// mysql://user:PW@host, alone or as --source=URI.
	if i := strings.Index(a, "://"); i >= 0 {
		rest := a[i+3:]
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			if c := strings.IndexByte(rest[:at], ':'); c >= 0 && c+1 < at {
				spans = append(spans, [2]int{i + 3 + c + 1, i + 3 + at})
			}
		}
	}
	return spans
}
