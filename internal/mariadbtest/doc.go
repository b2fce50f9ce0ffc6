// Package mariadbtest starts throwaway MariaDB servers for tests and for the
// tools that generate fixtures and benchmarks.
//
// pitr reads binary logs and replays them, so most of its interesting tests
// need a real server that writes real binlogs with known settings
// (binlog_format=ROW, binlog_row_image, binlog_row_metadata, max_binlog_size)
// and a second, clean server to replay into. Mocks cannot reproduce the
// byte-level output of mariadbd, so this package runs the real thing.
//
// Every server is private to its caller:
//
//   - it lives in its own temporary directory (datadir, binlogs, error log,
//     unix socket) which disappears with the test;
//   - mariadbd is started with --no-defaults as its very first argument, so no
//     my.cnf of the machine is ever read;
//   - it listens on the unix socket in its own directory and on a free
//     ephemeral TCP port bound to 127.0.0.1 — never on 3306 and never on the
//     machine's default socket. A MariaDB server that belongs to the machine may
//     well be running there, and nothing in this package ever connects to it;
//   - the process is tied to the test binary (Pdeathsig on Linux), and stopped
//     through tb.Cleanup, so no server outlives the test run even if a test
//     fails or the test binary is killed.
//
// A fresh datadir comes from mariadb-install-db. Installing takes over a
// second, so an initialised, never-started ("pristine") datadir is cached and
// copied for every server; see [Launch] for where that cache lives and how to
// turn it off.
//
// The pristine datadir also has the time zone tables filled from
// /usr/share/zoneinfo (when mariadb-tzinfo-to-sql is installed), so tests can
// use named zones (SET time_zone = 'Europe/Berlin'). The server's own default
// time zone is left alone (the system's): tests set the zones they need.
//
// Start never skips: when mariadbd or mariadb-install-db is missing, or the
// server does not come up, the test fails (tb.Fatalf) with the tail of the
// server's error log. The binlog tests are the point of pitr's test suite and
// CI must run them; a silently skipped suite would look green while testing
// nothing. Install MariaDB (Debian: apt-get install mariadb-server
// mariadb-client) to run the tests.
//
// The binaries are looked up in the environment variables
// PITR_MARIADBD, PITR_MARIADB_INSTALL_DB and PITR_MARIADB_CLIENT, then in PATH,
// then in the usual Debian/RPM locations (/usr/sbin/mariadbd,
// /usr/libexec/mariadbd, ...).
package mariadbtest
