package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/internal/mariadbtest"
)

// TestApplyVerifyProperty applies a random workload (seeded, a few hundred transactions) to
// copies of an early state of its source, each with random rows removed or changed. Every run
// either ends with the target equal to what the source's changes make of the damaged copy, or
// stops at the first transaction the damage affects, naming it, with the target as the
// checkpoint says: every transaction before the checkpoint applied, none after it.
func TestApplyVerifyProperty(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB servers")
	}
	pitrBinary(t)
	const (
		seed  = 20261129
		txns  = 300
		based = 40 // transactions in the copy before the damage
	)
	rng := rand.New(rand.NewPCG(seed, 1))
	ctx := context.Background()
	src := mariadbtest.Start(t, mariadbtest.Options{})
	const schema = `CREATE TABLE %[1]s.k (id INT PRIMARY KEY, v INT NOT NULL, w INT NOT NULL);
CREATE TABLE %[1]s.nk (x INT, y INT)`
	src.Exec(t, "CREATE DATABASE p;\n"+fmt.Sprintf(schema, "p"))
	if err := src.FlushBinlogs(ctx); err != nil {
		t.Fatal(err)
	}

	// The workload, with the row changes each transaction makes.
	var work [][]propOp
	m := newPropModel()
	nextID := 1
	conn, err := src.DB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var start, gtid []string
	for range txns {
		var file, pos, s1, s2 string
		if err := conn.QueryRowContext(ctx, "SHOW MASTER STATUS").Scan(&file, &pos, &s1, &s2); err != nil {
			t.Fatal(err)
		}
		start = append(start, file+":"+pos)
		var ops []propOp
		var stmts []string
		for range 1 + rng.IntN(4) {
			n0 := len(ops)
			ids := m.ids()
			switch c := rng.IntN(10); {
			case c < 3 || len(ids) < 6:
				id := nextID
				nextID++
				v, w := rng.IntN(1000), rng.IntN(1000)
				stmts = append(stmts, fmt.Sprintf("INSERT INTO p.k VALUES (%d,%d,%d)", id, v, w))
				ops = append(ops, propOp{kind: 'i', id: id, v: v, w: w})
			case c < 6:
				// Several rows in key order: a folded update.
				pick := pickSorted(rng, ids, 1+rng.IntN(4))
				stmts = append(stmts, "UPDATE p.k SET v = v + 1 WHERE id IN ("+joinInts(pick)+")")
				for _, id := range pick {
					r := m.k[id]
					ops = append(ops, propOp{kind: 'u', id: id, v: r.v, w: r.w, nv: r.v + 1})
				}
			case c < 7:
				pick := pickSorted(rng, ids, 1+rng.IntN(3))
				stmts = append(stmts, "DELETE FROM p.k WHERE id IN ("+joinInts(pick)+")")
				for _, id := range pick {
					r := m.k[id]
					ops = append(ops, propOp{kind: 'd', id: id, v: r.v, w: r.w})
				}
			case c < 9:
				x, y := rng.IntN(4), rng.IntN(2)
				stmts = append(stmts, fmt.Sprintf("INSERT INTO p.nk VALUES (%d,%d)", x, y))
				ops = append(ops, propOp{kind: 'I', x: x, y: y})
			default:
				var have [][2]int
				for xy, n := range m.nk {
					if n > 0 {
						have = append(have, xy)
					}
				}
				if len(have) == 0 {
					continue
				}
				sort.Slice(have, func(i, j int) bool { return have[i][0]*10+have[i][1] < have[j][0]*10+have[j][1] })
				xy := have[rng.IntN(len(have))]
				stmts = append(stmts, fmt.Sprintf("DELETE FROM p.nk WHERE x=%d AND y=%d LIMIT 1", xy[0], xy[1]))
				ops = append(ops, propOp{kind: 'D', x: xy[0], y: xy[1]})
			}
			m.apply(ops[n0:], false) // the source: every change finds its row
		}
		// Later changes of one statement see the earlier ones of the same transaction: the
		// model was applied op by op above, so ops hold each row's image at its change.
		if _, err := conn.ExecContext(ctx, "BEGIN;\n"+strings.Join(stmts, ";\n")+";\nCOMMIT"); err != nil {
			t.Fatal(err)
		}
		var g string
		conn.QueryRowContext(ctx, "SELECT @@gtid_binlog_pos").Scan(&g)
		gtid = append(gtid, g)
		work = append(work, ops)
	}
	conn.Close()
	files := src.WrittenBinlogs(t)
	tgt := newTarget(t)
	args := func(db string, more ...string) []string {
		a := targetArgs(tgt, "--yes", "--rewrite-db", "p="+db, "--checkpoint-name", db)
		return append(append(a, more...), files...)
	}

	stops, ends := 0, 0
	for round := range 8 {
		db := fmt.Sprintf("r%d", round)
		beforeImage := round%2 == 1
		tgt.Exec(t, "CREATE DATABASE "+db+";\n"+fmt.Sprintf(schema, db))
		if res := runApplyPitr(t, args(db, "--stop-position", start[based])...); res.code != 0 {
			t.Fatalf("%s: base: exit %d\n%s", db, res.code, res.stderr)
		}
		// The damage: rows removed (and, with the before image checked, changed); in rounds
		// 0, 1, 4, 5 among the rows the rest of the workload touches, in the others among
		// those it leaves alone (the apply then ends, with the damage still there).
		d := newPropModel()
		for _, ops := range work[:based] {
			d.apply(ops, false)
		}
		touched := map[int]bool{}
		for _, ops := range work[based:] {
			for _, o := range ops {
				if o.kind == 'u' || o.kind == 'd' {
					touched[o.id] = true
				}
			}
		}
		var pool []int
		for _, id := range d.ids() {
			if touched[id] == (round%4 < 2) {
				pool = append(pool, id)
			}
		}
		var damage []string
		for range 1 + rng.IntN(3) {
			if len(pool) == 0 {
				break
			}
			id := pool[rng.IntN(len(pool))]
			if _, ok := d.k[id]; !ok {
				continue
			}
			if beforeImage && rng.IntN(2) == 0 {
				r := d.k[id]
				r.w = -r.w - 1
				d.k[id] = r
				damage = append(damage, fmt.Sprintf("UPDATE %s.k SET w = %d WHERE id = %d", db, r.w, id))
			} else {
				delete(d.k, id)
				damage = append(damage, fmt.Sprintf("DELETE FROM %s.k WHERE id = %d", db, id))
			}
		}
		if round%4 < 2 && rng.IntN(2) == 0 {
			for xy, n := range d.nk {
				if n > 0 {
					d.nk[xy]--
					damage = append(damage, fmt.Sprintf("DELETE FROM %s.nk WHERE x=%d AND y=%d LIMIT 1", db, xy[0], xy[1]))
					break
				}
			}
		}
		for _, q := range damage {
			tgt.Exec(t, q)
		}
		// The first transaction the damage affects, and the model of each state up to it.
		states := []*propModel{d.clone()}
		first := -1
		for i, ops := range work[based:] {
			if !d.apply(ops, beforeImage) {
				first = based + i
				break
			}
			states = append(states, d.clone())
		}
		var extra []string
		if beforeImage {
			extra = append(extra, "--verify-before-image")
		}
		res := runApplyPitr(t, args(db, extra...)...)
		var ck string
		tgt.DB.QueryRow("SELECT CONCAT(binlog_file, ':', binlog_pos) FROM pitr.checkpoint WHERE name = ?", db).Scan(&ck)
		got := readPropModel(t, tgt, db)
		if first < 0 {
			if res.code != 0 {
				t.Errorf("%s (damage %q): exit %d, no transaction is affected\n%s", db, damage, res.code, res.stderr)
			}
			if want := states[len(states)-1]; !got.equal(want) {
				t.Errorf("%s (damage %q): the target ends\n%v\nnot\n%v", db, damage, got, want)
			}
			ends++
			continue
		}
		stops++
		if res.code == 0 || !strings.Contains(res.stderr, start[first]+": transaction (GTID "+gtid[first]+")") {
			t.Errorf("%s (damage %q): exit %d; want a stop at transaction %d, %s (GTID %s)\n%s", db, damage, res.code, first, start[first], gtid[first], res.stderr)
			continue
		}
		// The checkpoint is at the start of a transaction g <= first (those grouped with the
		// failing one are rolled back with it), and the target holds exactly the state
		// before g.
		g := -1
		for i := based; i <= first; i++ {
			if start[i] == ck {
				g = i
			}
		}
		if g < 0 {
			t.Errorf("%s: checkpoint %s is not the start of a transaction from %d to %d", db, ck, based, first)
			continue
		}
		if want := states[g-based]; !got.equal(want) {
			t.Errorf("%s (damage %q): at checkpoint %s the target holds\n%v\nnot\n%v", db, damage, ck, got, want)
		}
	}
	t.Logf("%d of 8 rounds stopped at the first damaged transaction, %d ended", stops, ends)
	if stops < 3 || ends < 2 {
		t.Errorf("%d rounds stopped, %d ended: the test does not test both", stops, ends)
	}
}

type propOp struct {
	kind     byte // i, u, d on k; I, D on nk
	id, v, w int  // the row's key and before image (after image for i)
	nv       int  // u: the new v
	x, y     int
}

type propRow struct{ v, w int }

type propModel struct {
	k  map[int]propRow
	nk map[[2]int]int
}

func newPropModel() *propModel {
	return &propModel{k: map[int]propRow{}, nk: map[[2]int]int{}}
}

func (m *propModel) ids() []int {
	ids := make([]int, 0, len(m.k))
	for id := range m.k {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

func (m *propModel) clone() *propModel {
	c := newPropModel()
	for k, v := range m.k {
		c.k[k] = v
	}
	for k, v := range m.nk {
		c.nk[k] = v
	}
	return c
}

// apply makes the transaction's row changes, as an apply that checks found rows does (by key,
// or by the whole before image), and reports false, leaving m as it was, if one of them would
// not find its row.
func (m *propModel) apply(ops []propOp, beforeImage bool) bool {
	c := m.clone()
	for _, o := range ops {
		r, ok := c.k[o.id]
		if beforeImage && ok && (r.v != o.v || r.w != o.w) {
			ok = false
		}
		switch o.kind {
		case 'i':
			if _, dup := c.k[o.id]; dup {
				return false
			}
			c.k[o.id] = propRow{o.v, o.w}
		case 'u':
			if !ok {
				return false
			}
			// Only the changed column is set: a damaged w stays damaged.
			c.k[o.id] = propRow{o.nv, r.w}
		case 'd':
			if !ok {
				return false
			}
			delete(c.k, o.id)
		case 'I':
			c.nk[[2]int{o.x, o.y}]++
		case 'D':
			if c.nk[[2]int{o.x, o.y}] == 0 {
				return false
			}
			c.nk[[2]int{o.x, o.y}]--
		}
	}
	*m = *c
	return true
}

func (m *propModel) equal(o *propModel) bool { return m.String() == o.String() }

func (m *propModel) String() string {
	var b strings.Builder
	for _, id := range m.ids() {
		fmt.Fprintf(&b, "%d:%d,%d ", id, m.k[id].v, m.k[id].w)
	}
	b.WriteString("| ")
	var xys [][2]int
	for xy, n := range m.nk {
		if n > 0 {
			xys = append(xys, xy)
		}
	}
	sort.Slice(xys, func(i, j int) bool { return xys[i][0]*10+xys[i][1] < xys[j][0]*10+xys[j][1] })
	for _, xy := range xys {
		fmt.Fprintf(&b, "%d,%dx%d ", xy[0], xy[1], m.nk[xy])
	}
	return b.String()
}

func readPropModel(t *testing.T, s *mariadbtest.Server, db string) *propModel {
	t.Helper()
	m := newPropModel()
	rows, err := s.DB.Query("SELECT id, v, w FROM " + db + ".k")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int
		var r propRow
		rows.Scan(&id, &r.v, &r.w)
		m.k[id] = r
	}
	rows.Close()
	rows, err = s.DB.Query("SELECT x, y, COUNT(*) FROM " + db + ".nk GROUP BY x, y")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var x, y, n int
		rows.Scan(&x, &y, &n)
		m.nk[[2]int{x, y}] = n
	}
	rows.Close()
	return m
}

func pickSorted(rng *rand.Rand, ids []int, n int) []int {
	seen := map[int]bool{}
	var out []int
	for range n {
		id := ids[rng.IntN(len(ids))]
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	sort.Ints(out)
	return out
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}
