package restore

import "testing"

// TestDumpTrigger: the trigger lines of mysqldump and mariadb-dump, whose names are as the
// trigger was written (quoted or not, with a database or not).
func TestDumpTrigger(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER c7.k_audit AFTER INSERT ON c7.k FOR EACH ROW INSERT INTO c7.nk VALUES (1)",
			"`c7`.`k_audit` AFTER INSERT ON `c7`.`k`"},
		{"/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER `t``x` before update ON `my db`.`tb` FOR EACH ROW SET NEW.a = 1",
			"`d`.`t``x` BEFORE UPDATE ON `my db`.`tb`"},
		{"CREATE TRIGGER IF NOT EXISTS trg AFTER DELETE ON tbl FOR EACH ROW DELETE FROM x", "`d`.`trg` AFTER DELETE ON `d`.`tbl`"},
		{"CREATE TABLE `trigger` (a INT)", ""},
	} {
		got := ""
		if m := dumpTrigger.FindStringSubmatch(tc.line); m != nil {
			got = triggerName("d", []byte(m[1])) + " " + upper(m[2]) + " " + upper(m[3]) + " ON " + triggerName("d", []byte(m[4]))
		}
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.line, got, tc.want)
		}
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

// TestStmtTable: the table a rendered statement writes, for messages and the trigger check.
func TestStmtTable(t *testing.T) {
	for stmt, want := range map[string]string{
		"INSERT INTO `db`.`t` (`a`) VALUES (1)":       "`db`.`t`",
		"UPDATE `d``b`.`t.x` SET `a`=1 WHERE `id`=1":  "`d``b`.`t.x`",
		"DELETE FROM `db`.```` WHERE `id` IN (1,2)":   "`db`.````",
		"SET foreign_key_checks=0":                    "?",
		"INSERT INTO `db`.`a b` (`x`) VALUES ('`.`')": "`db`.`a b`",
	} {
		if got := stmtTable(stmt); got != want {
			t.Errorf("stmtTable(%q) = %q, want %q", stmt, got, want)
		}
	}
}
