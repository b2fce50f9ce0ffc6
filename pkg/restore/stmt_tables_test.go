package restore

import (
	"fmt"
	"strings"
	"testing"
)

func TestTablesOf(t *testing.T) {
	d := newDDLParser()
	for _, tc := range []struct {
		sql             string
		writes, reads   string
		unknown, nondet bool
	}{
		{sql: "INSERT INTO t VALUES (1)", writes: "app.t", reads: "app.t"},
		{sql: "REPLACE INTO x.t SET a = 1", writes: "x.t", reads: "x.t"},
		{sql: "INSERT INTO t (a) SELECT b FROM o.src WHERE c > 1", writes: "app.t", reads: "app.t o.src"},
		{sql: "INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = VALUES(a) + 1", writes: "app.t", reads: "app.t"},
		{sql: "UPDATE t SET a = 1 WHERE id = 2", writes: "app.t", reads: "app.t"},
		{sql: "UPDATE t JOIN o.u AS uu ON uu.id = t.id SET t.a = uu.b", writes: "app.t", reads: "app.t o.u"},
		{sql: "UPDATE t JOIN o.u AS uu ON uu.id = t.id SET t.a = 1, uu.b = 2", writes: "app.t o.u", reads: "app.t o.u"},
		{sql: "UPDATE t JOIN u ON u.id = t.id SET a = 1", writes: "app.t app.u", reads: "app.t app.u", unknown: true},
		{sql: "DELETE FROM t WHERE id = 1", writes: "app.t", reads: "app.t"},
		{sql: "DELETE t FROM t JOIN o.u ON o.u.id = t.id", writes: "app.t", reads: "app.t o.u"},
		{sql: "DELETE FROM a1 USING t AS a1 JOIN o.u AS a2", writes: "app.t", reads: "app.t o.u"},
		{sql: "INSERT INTO t WITH c AS (SELECT 1 AS x) SELECT x FROM c", writes: "app.t", reads: "app.t"},
		{sql: "INSERT INTO t VALUES (myfunc(1))", writes: "app.t", reads: "app.t", unknown: true},
		{sql: "INSERT INTO t VALUES (x.f(1))", writes: "app.t", reads: "app.t", unknown: true},
		{sql: "CALL p()", unknown: true},
		{sql: "CREATE VIEW v AS SELECT 1", reads: "app.v", unknown: true},
		{sql: "INSERT INTO t VALUES (UUID())", writes: "app.t", reads: "app.t", nondet: true},
		{sql: "DELETE FROM t LIMIT 1", writes: "app.t", reads: "app.t", nondet: true},
		{sql: "DELETE FROM t ORDER BY id LIMIT 1", writes: "app.t", reads: "app.t"},
		{sql: "INSERT INTO t SELECT * FROM u LIMIT 2", writes: "app.t", reads: "app.t app.u", nondet: true},
		{sql: "INSERT INTO t VALUES (CONCAT('a', NOW(), ST_AsText(POINT(1, 2))))", writes: "app.t", reads: "app.t"},
		{sql: "not sql at all", unknown: true},
	} {
		st := d.tablesOf("app", []byte(tc.sql))
		join := func(rs []tableRef) string {
			var s []string
			for _, r := range rs {
				s = append(s, r.DB+"."+r.Table)
			}
			return strings.Join(s, " ")
		}
		got := fmt.Sprintf("writes %q reads %q unknown %v nondet %v", join(st.writes), join(st.reads), st.unknown != "", len(st.nondet) > 0)
		want := fmt.Sprintf("writes %q reads %q unknown %v nondet %v", tc.writes, tc.reads, tc.unknown, tc.nondet)
		if got != want {
			t.Errorf("%s:\n got %s (%s)\nwant %s", tc.sql, got, st.unknown, want)
		}
	}
}
