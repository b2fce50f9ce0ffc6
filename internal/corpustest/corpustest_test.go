package corpustest

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFindCorpus: the corpus is found beside the checkout, beside a parent folder (a worktree),
// or where PITR_CORPUS points.
func TestFindCorpus(t *testing.T) {
	base := t.TempDir()
	checkout := filepath.Join(base, "work", "main")
	worktree := filepath.Join(base, "work", "wt", "recipe")
	corpus := filepath.Join(base, "work", "shared", "corpus")
	for _, d := range []string{checkout, worktree, corpus} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ root, env, want string }{
		{checkout, "", corpus},
		{worktree, "", corpus},
		{worktree, "/elsewhere", "/elsewhere"},
	} {
		if got := Find(tc.root, tc.env); got != tc.want {
			t.Errorf("Find(%s, %q) = %s, want %s", tc.root, tc.env, got, tc.want)
		}
	}
	os.RemoveAll(corpus)
	if got := Find(checkout, ""); got != filepath.Join(base, "work", "shared", "corpus") {
		t.Errorf("without a corpus: %s, want the path beside the checkout", got)
	}
}
