package mariadbtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// binaries holds the absolute paths of the MariaDB programs used.
type binaries struct {
	mariadbd  string
	installDB string
	client    string
	tzinfo    string // mariadb-tzinfo-to-sql; "" if missing (optional)
}

// zoneinfoDir is the system time zone database loaded into mysql.time_zone*
// so that tests can SET time_zone='Europe/Berlin'.
const zoneinfoDir = "/usr/share/zoneinfo"

var (
	binOnce sync.Once
	binVal  binaries
	binErr  error
)

// findBinaries locates mariadbd, mariadb-install-db and the mariadb client.
func findBinaries() (binaries, error) {
	binOnce.Do(func() {
		var missing []string
		find := func(env string, names []string, paths []string) string {
			if v := os.Getenv(env); v != "" {
				if p, err := exec.LookPath(v); err == nil {
					return absPath(p)
				}
				missing = append(missing, fmt.Sprintf("%s=%q is not an executable", env, v))
				return ""
			}
			for _, n := range names {
				if p, err := exec.LookPath(n); err == nil {
					return absPath(p)
				}
			}
			for _, p := range paths {
				if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
					return p
				}
			}
			missing = append(missing, fmt.Sprintf("%s (looked for $%s, %s in PATH, %s)",
				names[0], env, strings.Join(names, ", "), strings.Join(paths, ", ")))
			return ""
		}
		binVal.mariadbd = find("PITR_MARIADBD", []string{"mariadbd", "mysqld"},
			[]string{"/usr/sbin/mariadbd", "/usr/libexec/mariadbd", "/usr/local/sbin/mariadbd",
				"/usr/local/bin/mariadbd", "/usr/sbin/mysqld", "/usr/libexec/mysqld"})
		binVal.installDB = find("PITR_MARIADB_INSTALL_DB", []string{"mariadb-install-db", "mysql_install_db"},
			[]string{"/usr/bin/mariadb-install-db", "/usr/local/bin/mariadb-install-db", "/usr/bin/mysql_install_db"})
		binVal.client = find("PITR_MARIADB_CLIENT", []string{"mariadb", "mysql"},
			[]string{"/usr/bin/mariadb", "/usr/local/bin/mariadb", "/usr/bin/mysql"})
		for _, n := range []string{"mariadb-tzinfo-to-sql", "mysql_tzinfo_to_sql"} {
			if p, err := exec.LookPath(n); err == nil {
				binVal.tzinfo = absPath(p)
				break
			}
		}
		if binVal.tzinfo != "" {
			if st, err := os.Stat(zoneinfoDir); err != nil || !st.IsDir() {
				binVal.tzinfo = ""
			}
		}
		if len(missing) > 0 {
			binErr = fmt.Errorf("mariadbtest: MariaDB is not installed (install mariadb-server and mariadb-client); missing: %s",
				strings.Join(missing, "; "))
		}
	})
	return binVal, binErr
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// installAffecting lists server options (in dash form) whose value is baked
// into the datadir by mariadb-install-db, so a pristine datadir made without
// them cannot be reused. They are passed to the installer and become part of
// the cache key.
var installAffecting = []string{
	"innodb-page-size",
	"innodb-data-file-path",
	"innodb-undo-tablespaces",
	"innodb-log-file-size",
	"lower-case-table-names",
	"innodb-checksum-algorithm",
}

// installArgsFrom returns the subset of the server arguments that must also be
// given to mariadb-install-db.
func installArgsFrom(extra []string) []string {
	var out []string
	for _, a := range extra {
		name := strings.TrimLeft(a, "-")
		name = strings.TrimPrefix(name, "loose-")
		if i := strings.IndexByte(name, '='); i >= 0 {
			name = name[:i]
		}
		name = strings.ReplaceAll(name, "_", "-")
		for _, n := range installAffecting {
			if name == n {
				out = append(out, a)
			}
		}
	}
	return out
}

// baseInstallArgs are given to mariadb-install-db before the datadir-specific
// ones; they mirror the InnoDB sizing of the server so that the first start
// does not have to resize anything.
var baseInstallArgs = []string{
	"--innodb-buffer-pool-size=64M",
	"--innodb-log-file-size=48M",
}

// install runs mariadb-install-db into datadir (which must not exist or be
// empty). When mariadb-tzinfo-to-sql and /usr/share/zoneinfo exist, the time
// zone tables are filled too.
func install(ctx context.Context, bins binaries, datadir string, extra []string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if err := os.MkdirAll(filepath.Dir(datadir), 0o755); err != nil {
		return err
	}
	var tzFile string
	if bins.tzinfo != "" {
		f, err := os.CreateTemp(filepath.Dir(datadir), "tzinfo-*.sql")
		if err != nil {
			return err
		}
		tzFile = f.Name()
		defer os.Remove(tzFile)
		fmt.Fprintln(f, "USE mysql;")
		tz := exec.CommandContext(ctx, bins.tzinfo, zoneinfoDir)
		tz.Stdout = f
		// stderr: warnings about files that are not zones; ignored.
		err = tz.Run()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("mariadbtest: %s %s: %v", bins.tzinfo, zoneinfoDir, err)
		}
	}
	args := []string{
		"--no-defaults", // must be first
		"--auth-root-authentication-method=normal",
		"--datadir=" + datadir,
		"--skip-test-db",
		"--skip-name-resolve",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	if tzFile != "" {
		args = append(args, "--extra-file="+tzFile)
	}
	args = append(args, baseInstallArgs...)
	args = append(args, extra...)
	cmd := exec.CommandContext(ctx, bins.installDB, args...)
	cmd.Dir = filepath.Dir(datadir)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	setProcAttrs(cmd)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("mariadbtest: %s %s: %v\n--- output (tail) ---\n%s",
			bins.installDB, strings.Join(args, " "), err, tailLines(out.String(), 40))
	}
	return nil
}

// cacheRoot returns the directory holding pristine datadirs, or "" when the
// cache is disabled.
func cacheRoot() string {
	switch v := os.Getenv("PITR_MARIADBTEST_CACHE"); strings.ToLower(v) {
	case "off", "0", "none", "false", "no":
		return ""
	case "":
	default:
		return v
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "pitr-mariadbtest")
	}
	return filepath.Join(os.TempDir(), "pitr-mariadbtest-"+strconv.Itoa(os.Geteuid()))
}

// cacheKey identifies a pristine datadir: the exact binaries (path, size,
// mtime), the user that owns the files, and the installer arguments.
func cacheKey(bins binaries, extra []string) string {
	h := sha256.New()
	fmt.Fprintf(h, "pitr-mariadbtest v1\nuid=%d\ntzinfo=%s\n", os.Geteuid(), bins.tzinfo)
	for _, p := range []string{bins.mariadbd, bins.installDB} {
		fmt.Fprintf(h, "%s", p)
		if st, err := os.Stat(p); err == nil {
			fmt.Fprintf(h, " %d %d", st.Size(), st.ModTime().UnixNano())
		}
		fmt.Fprintln(h)
	}
	for _, a := range append(append([]string(nil), baseInstallArgs...), extra...) {
		fmt.Fprintln(h, a)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

var (
	keyLocksMu sync.Mutex
	keyLocks   = map[string]*sync.Mutex{}
)

func keyLock(key string) *sync.Mutex {
	keyLocksMu.Lock()
	defer keyLocksMu.Unlock()
	m := keyLocks[key]
	if m == nil {
		m = new(sync.Mutex)
		keyLocks[key] = m
	}
	return m
}

// pristineDataDir returns the path of a cached, initialised datadir for the
// given installer arguments, creating it if needed. Creation is safe against
// concurrent test processes: the installer writes into a temporary directory
// that is renamed into place atomically.
func pristineDataDir(ctx context.Context, bins binaries, root string, extra []string) (string, error) {
	key := cacheKey(bins, extra)
	final := filepath.Join(root, key)
	mu := keyLock(key)
	mu.Lock()
	defer mu.Unlock()
	if st, err := os.Stat(final); err == nil && st.IsDir() {
		// Mark as used, so cleanStale keeps it.
		now := time.Now()
		os.Chtimes(final, now, now)
		return final, nil
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", err
	}
	cleanStale(root)
	tmp, err := os.MkdirTemp(root, ".tmp-"+key+"-")
	if err != nil {
		return "", err
	}
	datadir := filepath.Join(tmp, "data")
	if err := install(ctx, bins, datadir, extra); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	if err := os.Rename(datadir, final); err != nil {
		os.RemoveAll(tmp)
		// Another process won the race: use its copy.
		if st, err2 := os.Stat(final); err2 == nil && st.IsDir() {
			return final, nil
		}
		return "", err
	}
	os.RemoveAll(tmp)
	return final, nil
}

// cleanStale removes leftovers of interrupted installs, and pristine
// datadirs not used for a week (made by other MariaDB builds, typically).
func cleanStale(root string) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range ents {
		info, err := e.Info()
		if err != nil {
			continue
		}
		age := time.Since(info.ModTime())
		if (strings.HasPrefix(e.Name(), ".tmp-") && age > 30*time.Minute) ||
			(isCacheKey(e.Name()) && age > 7*24*time.Hour) {
			os.RemoveAll(filepath.Join(root, e.Name()))
		}
	}
}

func isCacheKey(name string) bool {
	if len(name) != 16 {
		return false
	}
	_, err := hex.DecodeString(name)
	return err == nil
}

// prepareDataDir fills datadir (which must not exist) with an initialised
// MariaDB datadir, from the cache if possible.
func prepareDataDir(ctx context.Context, bins binaries, datadir string, extra []string) error {
	if root := cacheRoot(); root != "" {
		src, err := pristineDataDir(ctx, bins, root, extra)
		if err == nil {
			if err := copyDir(datadir, src); err == nil {
				return nil
			}
			os.RemoveAll(datadir)
		} else if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		// Fall through: an unusable cache (read-only home, full disk, ...)
		// must not break the tests; install directly.
	}
	return install(ctx, bins, datadir, extra)
}

// copyDir copies the tree src into dst (which must not exist), keeping
// permission bits.
func copyDir(dst, src string) error {
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		return err
	}
	// os.CopyFS creates directories 0777 and files 0666 (minus umask);
	// mariadbd does not care, but keep the datadir private like the installer.
	return filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dst, p)
		if err != nil {
			return err
		}
		st, err := os.Stat(filepath.Join(src, rel))
		if err != nil {
			return err
		}
		return os.Chmod(p, st.Mode().Perm())
	})
}

// tailLines returns the last n lines of s.
func tailLines(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
