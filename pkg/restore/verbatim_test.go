package restore

import (
	"errors"
	"testing"
)

func TestVerbatim(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" means refused
	}{
		{"CREATE TABLE t (a INT)", "CREATE TABLE t (a INT)"},
		{"CREATE TABLE t (a INT) -- trailing", "CREATE TABLE t (a INT) -- trailing\n"},
		{"CREATE TABLE t (a INT) # trailing", "CREATE TABLE t (a INT) # trailing\n"},
		{"CREATE TABLE t (a INT) --", "CREATE TABLE t (a INT) --\n"},
		{"CREATE TABLE t (a INT) -- a\n", "CREATE TABLE t (a INT) -- a\n"},
		{"CREATE TABLE t (a INT);", "CREATE TABLE t (a INT)"},
		{"CREATE TABLE t (a INT) ; -- done", "CREATE TABLE t (a INT)"},
		{"CREATE TABLE t (a INT) /* c ; ' */", "CREATE TABLE t (a INT) /* c ; ' */"},
		{"CREATE TABLE t (a INT COMMENT 'x;y\\'z''w\\\\')", "CREATE TABLE t (a INT COMMENT 'x;y\\'z''w\\\\')"},
		{"CREATE TABLE `a;b\\` (a INT)", "CREATE TABLE `a;b\\` (a INT)"},
		{"CREATE TABLE t (a INT DEFAULT \\N)", "CREATE TABLE t (a INT DEFAULT \\N)"},
		{"CREATE TABLE t (a INT) /*!50100 COMMENT 'x' */", "CREATE TABLE t (a INT) /*!50100 COMMENT 'x' */"},
		{"CREATE TABLE t (a INT--1)", "CREATE TABLE t (a INT--1)"},
		{"-- comment first\nCREATE TABLE t (a INT)", "-- comment first\nCREATE TABLE t (a INT)"},
		{"CREATE TABLE t (\nsystem INT)", "CREATE TABLE t (\nsystem INT)"},
		// Stored programs: the body's ";" belong to the one statement the server ran.
		{"CREATE DEFINER=`root`@`localhost` PROCEDURE `p`(IN n INT)\nBEGIN\n  DECLARE i INT DEFAULT 0;\n  SET i = n;\nEND", "CREATE DEFINER=`root`@`localhost` PROCEDURE `p`(IN n INT)\nBEGIN\n  DECLARE i INT DEFAULT 0;\n  SET i = n;\nEND"},
		{"CREATE OR REPLACE TRIGGER t1 AFTER INSERT ON t FOR EACH ROW BEGIN INSERT INTO l VALUES (1); END;", "CREATE OR REPLACE TRIGGER t1 AFTER INSERT ON t FOR EACH ROW BEGIN INSERT INTO l VALUES (1); END"},
		{"/* c */ BEGIN NOT ATOMIC SELECT 1; SELECT 2; END", "/* c */ BEGIN NOT ATOMIC SELECT 1; SELECT 2; END"},

		{"CREATE TABLE t (a INT); DROP DATABASE canary", ""},
		{"CREATE TABLE t (a INT);\nDROP DATABASE canary", ""},
		{"CREATE TABLE t (a INT);;", ""},
		{"/* CREATE PROCEDURE */ CREATE TABLE t (a INT); DROP DATABASE canary", ""},
		{"CREATE VIEW v AS SELECT 'CREATE PROCEDURE'; DROP DATABASE canary", ""},
		{"CREATE TABLE t (a INT) COMMENT 'open", ""},
		{"CREATE TABLE t (a INT) COMMENT 'x\\'", ""},
		{"CREATE TABLE `t (a INT)", ""},
		{"CREATE TABLE t (a INT) /* open", ""},
		{"CREATE TABLE t (a INT) \\! rm -rf /", ""},
		{"CREATE TABLE t (a INT) \\. /etc/passwd", ""},
		{"CREATE TABLE t (a INT) /*! \\! id */", ""},
		{"CREATE TABLE t (a INT) /*!99999 ; DROP DATABASE canary */", ""},
		{"-- x\nsystem touch /tmp/pwned", ""},
		{"/* x */\n  SOURCE /etc/passwd", ""},
		{"CREATE TABLE t (a INT) --\x01 'x", ""},
		{"-- only a comment", ""},
		{"  ", ""},
	} {
		got, err := verbatim([]byte(tc.in))
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("verbatim(%q) = %q, want it refused", tc.in, got)
		case tc.want == "" && !errors.Is(err, errVerbatim):
			t.Errorf("verbatim(%q): %v, not errVerbatim", tc.in, err)
		case tc.want != "" && err != nil:
			t.Errorf("verbatim(%q): %v", tc.in, err)
		case tc.want != "" && string(got) != tc.want:
			t.Errorf("verbatim(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAppendStatement(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"INSERT INTO t VALUES ('a;b')", "INSERT INTO t VALUES ('a;b');\n"},
		{"INSERT INTO t VALUES ('a\\';b')", "INSERT INTO t VALUES ('a\\';b');\n"},
		{"CREATE TABLE t (a INT) /* ; */", "CREATE TABLE t (a INT) /* ; */;\n"},
		{"CREATE PROCEDURE p() BEGIN SELECT 1; END", "DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$\nDELIMITER ;\n"},
		{"CREATE PROCEDURE p() BEGIN SELECT '$$'; END", "DELIMITER $$$\nCREATE PROCEDURE p() BEGIN SELECT '$$'; END$$$\nDELIMITER ;\n"},
		{"CREATE PROCEDURE p() BEGIN SELECT 1; END -- c\n", "DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END -- c\n$$\nDELIMITER ;\n"},
	} {
		if got := string(appendStatement(nil, []byte(tc.in))); got != tc.want {
			t.Errorf("appendStatement(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
