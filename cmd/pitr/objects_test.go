package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

// objectsWorkload creates, alters and drops views, routines, an event, a trigger and an
// account in a kept database (app) and in one a database filter leaves out (other).
const objectsWorkload = `CREATE TABLE app.t (id INT PRIMARY KEY, v INT);
CREATE TABLE other.o (id INT PRIMARY KEY, v INT);
INSERT INTO app.t VALUES (1, 1), (2, 2);
INSERT INTO other.o VALUES (1, 1);
CREATE VIEW app.v AS SELECT id, v * 2 AS w FROM app.t;
CREATE VIEW other.ov AS SELECT * FROM other.o;
DELIMITER //
CREATE PROCEDURE app.p(IN x INT) BEGIN INSERT INTO app.t VALUES (x, x); END//
DELIMITER ;
CREATE FUNCTION app.f(x INT) RETURNS INT DETERMINISTIC RETURN x * 3;
CREATE EVENT app.ev ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM app.t WHERE id < 0;
CREATE PROCEDURE other.op() BEGIN END;
CREATE USER 'objtest'@'%' IDENTIFIED BY 'objpw';
GRANT SELECT ON app.* TO 'objtest'@'%';
CALL app.p(7);
ALTER VIEW app.v AS SELECT id, v + app.f(v) AS w FROM app.t;
DROP VIEW other.ov;
CREATE TRIGGER app.trg BEFORE INSERT ON app.t FOR EACH ROW SET NEW.v = NEW.v + 100;`

// TestDatabaseFilterObjects: with -d, the views, routines, events and triggers of a kept
// database replay as the source made them, piped and applied; those of other databases and
// account statements are left out and counted. A table filter keeps none of them. A CREATE
// TRIGGER stops the SQL output as it stops apply, unless --allow-triggers.
func TestDatabaseFilterObjects(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB servers")
	}
	ctx := context.Background()
	src, files := statementSource(t, objectsWorkload)

	res := runPitr(t, append([]string{"replay", "-d", "app", "--source-time-zone=SYSTEM"}, files...)...)
	wantFailure(t, res, exitError, "trigger", "app", "--allow-triggers", "--stop-position")

	res = runPitr(t, append([]string{"replay", "-t", "app.t", "--source-time-zone=SYSTEM"}, files...)...)
	if res.code != 0 {
		t.Fatalf("-t app.t: exit %d: %s", res.code, res.stderr)
	}
	for _, obj := range []string{"VIEW", "PROCEDURE", "FUNCTION", "EVENT", "TRIGGER", "objtest"} {
		if strings.Contains(res.stdout, obj) {
			t.Errorf("-t app.t replays %s:\n%s", obj, res.stdout)
		}
	}
	if !strings.Contains(res.stderr, "statements_left_out_by_filter=11") {
		t.Errorf("-t app.t: want 11 statements left out in the summary:\n%s", res.stderr)
	}

	dst := mariadbtest.Start(t, mariadbtest.Options{NoBinlog: true})
	dst.Exec(t, "CREATE USER '"+applyUser+"'@'%' IDENTIFIED BY '"+applyPassword+"'; GRANT ALL ON *.* TO '"+applyUser+"'@'%'")
	objects := `SELECT 'view', TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA IN ('app', 'other')
UNION ALL SELECT ROUTINE_TYPE, CONCAT(ROUTINE_SCHEMA, '.', ROUTINE_NAME), CONCAT(DEFINER, ' ', SQL_MODE, ' ', ROUTINE_DEFINITION) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN ('app', 'other')
UNION ALL SELECT 'event', CONCAT(EVENT_SCHEMA, '.', EVENT_NAME), CONCAT(DEFINER, ' ', STATUS, ' ', EVENT_DEFINITION) FROM information_schema.EVENTS WHERE EVENT_SCHEMA IN ('app', 'other')
UNION ALL SELECT 'trigger', CONCAT(TRIGGER_SCHEMA, '.', TRIGGER_NAME), CONCAT(DEFINER, ' ', ACTION_STATEMENT) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA IN ('app', 'other')
UNION ALL SELECT 'user', CONCAT(User, '@', Host), '' FROM mysql.user WHERE User = 'objtest'
ORDER BY 1, 2`
	list := func(s *mariadbtest.Server) []string {
		rows, err := s.DB.QueryContext(ctx, objects)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var kind, name, def string
			if err := rows.Scan(&kind, &name, &def); err != nil {
				t.Fatal(err)
			}
			out = append(out, kind+" "+name+": "+def)
		}
		return out
	}
	var want []string
	for _, o := range list(src) {
		if !strings.Contains(o, "other.") && !strings.HasPrefix(o, "user ") && !strings.HasPrefix(o, "view ov") {
			want = append(want, o)
		}
	}
	if len(want) != 5 {
		t.Fatalf("the source holds %d objects of app, want 5:\n%s", len(want), strings.Join(want, "\n"))
	}
	for _, mode := range []string{"pipe", "apply"} {
		t.Run(mode, func(t *testing.T) {
			mustScript(t, dst, "DROP DATABASE IF EXISTS app; DROP DATABASE IF EXISTS other; CREATE DATABASE app; CREATE DATABASE other")
			if mode == "pipe" {
				out := filepath.Join(t.TempDir(), "replay.sql")
				res := runPitr(t, append([]string{"replay", "-d", "app", "--source-time-zone=SYSTEM", "--allow-triggers", "-o", out}, files...)...)
				if res.code != 0 {
					t.Fatalf("replay: exit %d: %s", res.code, res.stderr)
				}
				if !strings.Contains(res.stderr, "statements_left_out_by_filter=5") {
					t.Errorf("want 5 statements left out in the summary:\n%s", res.stderr)
				}
				sqlText, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				cmd := dst.Client(ctx)
				cmd.Stdin = bytes.NewReader(sqlText)
				if msg, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("piping: %v\n%s\n%s", err, msg, sqlText)
				}
			} else {
				res := runApplyPitr(t, append(targetArgs(dst, "--yes", "-d", "app", "--source-time-zone=SYSTEM", "--allow-triggers"), files...)...)
				if res.code != 0 {
					t.Fatalf("apply: exit %d: %s", res.code, res.stderr)
				}
			}
			got := list(dst)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("objects on the target:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			wantSum, wantRows := tableRows(t, src.DB, "app.t")
			gotSum, gotRows := tableRows(t, dst.DB, "app.t")
			if wantSum != gotSum || strings.Join(wantRows, "\n") != strings.Join(gotRows, "\n") {
				t.Errorf("app.t differs:\nwant %s %v\ngot  %s %v", wantSum, wantRows, gotSum, gotRows)
			}
		})
	}
}
