package restore

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCommentText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"mysql-bin.000001", "mysql-bin.000001"},
		{"a\nDROP DATABASE x;\n-- b", `a\nDROP DATABASE x;\n-- b`},
		{"cr\rlf", `cr\rlf`},
		{"nul\x00 esc\x1b[2J del\x7f", `nul\x00 esc\x1b[2J del\x7f`},
		{"bad utf8 \xff\xc3", `bad utf8 \xff\xc3`},
		{"nel\u0085 ls\u2028 ps\u2029 rlo\u202e", `nel\u0085 ls\u2028 ps\u2029 rlo\u202e`},
		{"end of a block */ comment", `end of a block *\/ comment`},
		{"héllo 'quoted' `x` \\ kept", "héllo 'quoted' `x` \\ kept"},
		{"tab\there", `tab\there`},
	} {
		if got := CommentText(tc.in); got != tc.want {
			t.Errorf("CommentText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzCommentText checks the guarantee: whatever the input, the text has no line break the
// client or the server honours, cannot end a block comment, is valid UTF-8, and escaping twice
// changes nothing (a Note of an escaped origin stays as it is).
func FuzzCommentText(f *testing.F) {
	for _, s := range []string{"a\nb", "*/", "\xff", "\u2028", "x\r\n;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := CommentText(s)
		if strings.ContainsAny(got, "\n\r\x00\u0085\u2028\u2029") || strings.Contains(got, "*/") || !utf8.ValidString(got) {
			t.Fatalf("CommentText(%q) = %q", s, got)
		}
		if again := CommentText(got); again != got {
			t.Fatalf("CommentText is not idempotent on %q: %q then %q", s, got, again)
		}
	})
}
