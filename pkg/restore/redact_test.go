package restore

import (
	"errors"
	"strings"
	"testing"
)

func TestRedactSQL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"CREATE USER 'app'@'%' IDENTIFIED BY 'UserPlainPW_777'", "CREATE USER 'app'@'%' IDENTIFIED BY '<redacted>'"},
		{"CREATE USER app@localhost IDENTIFIED BY 'a''b\\'c'", "CREATE USER app@localhost IDENTIFIED BY '<redacted>'"},
		{"ALTER USER `app`@`%` IDENTIFIED VIA ed25519 USING PASSWORD(\"pw\")", "ALTER USER `app`@`%` IDENTIFIED VIA ed25519 USING PASSWORD('<redacted>')"},
		{"create user u identified with 'caching_sha2_password' as '$A$005$hash'", "create user u identified with '<redacted>' as '<redacted>'"},
		{"SET PASSWORD FOR 'u'@'h' = PASSWORD('pw')", "SET PASSWORD FOR 'u'@'h' = PASSWORD('<redacted>')"},
		{"GRANT ALL ON *.* TO 'u' @ 'h' IDENTIFIED BY PASSWORD '*ABC'", "GRANT ALL ON *.* TO 'u' @ 'h' IDENTIFIED BY PASSWORD '<redacted>'"},
		{"CHANGE MASTER TO MASTER_HOST='h', MASTER_PASSWORD='pw'", "CHANGE MASTER TO MASTER_HOST='<redacted>', MASTER_PASSWORD='<redacted>'"},
		{"CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (USER 'u', PASSWORD 'pw')", "CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (USER '<redacted>', PASSWORD '<redacted>')"},
		{"ALTER TABLE t COMMENT 'password: none'", "ALTER TABLE t COMMENT 'password: none'"},
		{"INSERT INTO t VALUES ('identified by x')", "INSERT INTO t VALUES ('identified by x')"},
	} {
		if got := string(RedactSQL([]byte(tc.in))); got != tc.want {
			t.Errorf("RedactSQL(%q)\n = %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactedMessages(t *testing.T) {
	stmt := "CREATE USER 'app'@'%' IDENTIFIED BY 'UserPlainPW_777'"
	err := (&StatementError{Stmt: stmt, Err: errors.New("Error 1064: You have an error in your SQL syntax; check the manual near 'IDENTIFIED BY 'UserPlainPW_777'' at line 1")}).Error()
	if strings.Contains(err, "UserPlainPW_777") || !strings.Contains(err, "near <redacted> at line 1") {
		t.Errorf("statement error: %s", err)
	}
	if got := truncate([]byte(stmt), 200); strings.Contains(got, "UserPlainPW_777") {
		t.Errorf("log text: %s", got)
	}
	if _, err := newDDLParser().change("", []byte("CREATE USER 'a'@'%' IDENTIFIED BY 'UserPlainPW_777' garbage (")); err != nil && strings.Contains(err.Error(), "UserPlainPW_777") {
		t.Errorf("parse error: %v", err)
	}
}
