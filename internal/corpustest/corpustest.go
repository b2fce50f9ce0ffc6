// Package corpustest finds the corpus of real server binlogs (see its MANIFEST.md) for tests.
// It lives outside the repository and is optional: tests that read it skip without it.
package corpustest

import (
	"os"
	"path/filepath"
)

// Dir returns where the corpus is, or would be (to name in a skip message): PITR_CORPUS when
// set, else shared/corpus beside the module root of the working directory or beside one of
// its parent folders.
func Dir() string {
	wd, _ := os.Getwd()
	root := wd
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			root = dir
			break
		}
		if dir == filepath.Dir(dir) {
			break
		}
	}
	return Find(root, os.Getenv("PITR_CORPUS"))
}

// Find returns env (PITR_CORPUS) when set, else shared/corpus beside the repository root or
// beside one of its parent folders (../shared/corpus of a checkout, also from a worktree one
// level deeper), else the first of those. No machine's absolute path is named. The Makefile's
// test target looks the same way, to say once when there is none.
func Find(root, env string) string {
	if env != "" {
		return env
	}
	for dir := filepath.Dir(root); ; dir = filepath.Dir(dir) {
		if st, err := os.Stat(filepath.Join(dir, "shared", "corpus")); err == nil && st.IsDir() {
			return filepath.Join(dir, "shared", "corpus")
		}
		if dir == filepath.Dir(dir) {
			return filepath.Join(filepath.Dir(root), "shared", "corpus")
		}
	}
}
