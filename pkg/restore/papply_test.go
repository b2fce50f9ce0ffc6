package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// commitLog is what fake workers committed, in the order they committed it.
type commitLog struct {
	mu      sync.Mutex
	txns    []string // each committed target transaction, its queries joined by ";\n"
	session [][]string
	failed  atomic.Int64 // failures injected
}

// fakeWorker is a worker connection that runs nothing: it keeps each target transaction's
// queries until its COMMIT and sleeps a little on each, to shuffle the workers' timing.
type fakeWorker struct {
	log   *commitLog
	n     int
	cur   []string
	rng   *rand.Rand
	flaky func(q string) error // fails a query, maybe
}

func (f *fakeWorker) Exec(_ context.Context, q string) ([]int64, error) {
	time.Sleep(time.Duration(f.rng.IntN(300)) * time.Microsecond)
	if len(f.cur) == 0 && !strings.HasPrefix(q, "BEGIN") && q != "ROLLBACK" {
		f.log.mu.Lock()
		f.log.session[f.n] = append(f.log.session[f.n], q)
		f.log.mu.Unlock()
		return nil, nil
	}
	if f.flaky != nil {
		if err := f.flaky(q); err != nil {
			f.log.failed.Add(1)
			return nil, err
		}
	}
	if q == "ROLLBACK" {
		f.cur = nil
		return nil, nil
	}
	f.cur = append(f.cur, q)
	if strings.HasSuffix(q, "COMMIT") {
		f.log.mu.Lock()
		f.log.txns = append(f.log.txns, strings.Join(f.cur, ";\n"))
		f.log.mu.Unlock()
		f.cur = nil
	}
	return nil, nil
}

var fixtureKeys = &KeyCatalog{Tables: map[string]TableKeys{
	"shop.orders":      {Primary: true, Indexes: [][]string{{"id"}}},
	"shop.order_items": {Primary: true, Indexes: [][]string{{"order_id", "sku"}}},
	"crm.customers":    {Primary: true, Indexes: [][]string{{"id"}}, Whole: false},
}}

func runParallelFixture(t *testing.T, threads, maxBatch int, flaky func(q string) error) (*commitLog, *ParallelApplier, Stats, error) {
	t.Helper()
	log := &commitLog{session: make([][]string, threads)}
	var ws []ParallelWorker
	for i := range threads {
		ws = append(ws, ParallelWorker{X: &fakeWorker{log: log, n: i, rng: rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano()))), flaky: flaky}})
	}
	ck := &Checkpoint{DB: "pitr", Table: "checkpoint", Name: "mysql-bin"}
	p, err := NewParallelApplier(context.Background(), ws, ParallelOptions{
		ApplierOptions: ApplierOptions{Checkpoint: ck, MaxBatch: maxBatch},
		Keys:           func(context.Context) (*KeyCatalog, error) { return fixtureKeys, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	src, err := binlog.OpenFiles(fixtureFiles(t, "dml"), binlog.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	st, err := Run(context.Background(), src, p, Config{})
	if cerr := p.Close(); err == nil {
		err = cerr
	}
	return log, p, st, err
}

// serialFixture is what the Applier prints for the dml fixture, from the first BEGIN on, less
// its comments: what the parallel workers must have committed, in the same order.
func serialFixture(t *testing.T, maxBatch int) []string {
	t.Helper()
	var out bytes.Buffer
	ck := &Checkpoint{DB: "pitr", Table: "checkpoint", Name: "mysql-bin"}
	a, _, err := applyFixture(t, NewPrintExecer(&out), ApplierOptions{Checkpoint: ck, MaxBatch: maxBatch}, Window{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.SplitAfter(out.String(), ";\n") {
		if l == "" {
			continue
		}
		for strings.HasPrefix(l, "-- ") {
			_, l, _ = strings.Cut(l, "\n")
		}
		lines = append(lines, strings.TrimSuffix(l, ";\n"))
	}
	for i, l := range lines {
		if l == "BEGIN" {
			return lines[i:]
		}
	}
	t.Fatal("no BEGIN in the serial apply")
	return nil
}

func committedStatements(log *commitLog) []string {
	var out []string
	for _, tx := range log.txns {
		out = append(out, strings.Split(tx, ";\n")...)
	}
	return out
}

func diffStatements(t *testing.T, got, want []string) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Fatalf("statement %d of %d (want %d): committed %.200q, the Applier runs %.200q", i, len(got), len(want), g, w)
		}
	}
}

// TestParallelApplierOrder: whatever the workers' timing, the target transactions commit in
// source order and hold exactly the statements the Applier (and so --dry-run) runs: the same
// BEGINs, rows, checkpoint rows and COMMITs, with big transactions streamed and split as the
// Applier splits them.
func TestParallelApplierOrder(t *testing.T) {
	for _, mb := range []int{1 << 20, 400, 150} {
		want := serialFixture(t, mb)
		for _, threads := range []int{1, 2, 4} {
			t.Run(fmt.Sprintf("batch %d threads %d", mb, threads), func(t *testing.T) {
				for range 3 {
					log, p, st, err := runParallelFixture(t, threads, mb, nil)
					if err != nil {
						t.Fatal(err)
					}
					diffStatements(t, committedStatements(log), want)
					n, rows, last := p.Committed()
					if n != st.Transactions || rows.Rows() != st.Inserts+st.Updates+st.Deletes || last.End != st.LastEnd {
						t.Errorf("Committed() = %d %+v %v; Run's stats %+v", n, rows, last, st)
					}
					for i, s := range log.session {
						if len(s) != len(SessionStatements())+map[bool]int{true: 2, false: 0}[i == 0] {
							t.Errorf("worker %d session: %q", i, s)
						}
					}
				}
			})
		}
	}
}

// TestParallelApplierRetry: a group that fails before its turn (as one that ran ahead of a
// conflicting earlier group would) runs again at its turn, and the result is the same.
func TestParallelApplierRetry(t *testing.T) {
	want := serialFixture(t, 1<<20)
	var calls atomic.Int64
	flaky := func(q string) error {
		if strings.HasPrefix(q, "BEGIN") && calls.Add(1)%3 == 0 {
			return errors.New("Error 1062 (23000): Duplicate entry")
		}
		return nil
	}
	for range 5 {
		log, _, _, err := runParallelFixture(t, 4, 1<<20, flaky)
		// A failure at a group's turn is real: the run stops there, and what committed is a
		// prefix of the whole, ending at a target transaction's end.
		got := committedStatements(log)
		if err == nil {
			diffStatements(t, got, want)
			continue
		}
		var se *StatementError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), "Duplicate entry") {
			t.Fatalf("error %v", err)
		}
		if len(got) > 0 && got[len(got)-1] != "COMMIT" {
			t.Errorf("the committed part ends with %q", got[len(got)-1])
		}
		diffStatements(t, got, want[:len(got)])
	}
}

// TestDepTracker: a group waits for the last earlier group that wrote one of its keys, wrote a
// table it takes whole (or took one it writes whole), or was a barrier; for nothing else.
func TestDepTracker(t *testing.T) {
	d := depTracker{keys: map[uint64]int64{}, tableAny: map[uint64]int64{}, whole: map[uint64]int64{}}
	const ta, tb = 100, 200
	steps := []struct {
		ws      txnWrites
		barrier bool
		want    int64
	}{
		{ws: txnWrites{keys: []uint64{1, 2}, tables: []uint64{ta}}, want: 0}, // 1
		{ws: txnWrites{keys: []uint64{3, 3}, tables: []uint64{ta}}, want: 0}, // 2: disjoint; a key twice
		{ws: txnWrites{keys: []uint64{2}, tables: []uint64{ta}}, want: 1},    // 3: key 2 of group 1
		{ws: txnWrites{whole: []uint64{tb}}, want: 0},                        // 4: tb untouched so far
		{ws: txnWrites{keys: []uint64{9}, tables: []uint64{tb}}, want: 4},    // 5: tb taken whole by 4
		{ws: txnWrites{whole: []uint64{ta, ta}}, want: 3},                    // 6: every group of ta
		{ws: txnWrites{keys: []uint64{4}, tables: []uint64{ta}}, want: 6},    // 7
		{barrier: true, want: 7}, // 8: after everything
		{ws: txnWrites{keys: []uint64{77}, tables: []uint64{300}}, want: 8}, // 9: after the barrier
		{ws: txnWrites{keys: []uint64{78}, tables: []uint64{300}}, want: 8}, // 10
	}
	for i, s := range steps {
		g := &pgroup{seq: int64(i + 1), ws: s.ws, barrier: s.barrier}
		if got := d.depend(g); got != s.want {
			t.Errorf("group %d: depends on %d, want %d", i+1, got, s.want)
		}
	}
	d.prune(9)
	if len(d.keys) != 1 || d.keys[78] != 10 {
		t.Errorf("after prune: %v", d.keys)
	}
}

// lockWorker is a fake worker connection with one row lock shared by all: a query holding
// "TAKE" takes it (until ROLLBACK or COMMIT), one holding "NEED" waits for it while another
// session holds it, as InnoDB would make them.
type lockWorker struct {
	id    int64
	st    *lockState
	delay time.Duration // before a NEED query
	log   *commitLog
	cur   []string
}

type lockState struct {
	mu    sync.Mutex
	owner int64
	waits map[int64][]int64
}

func (w *lockWorker) Exec(ctx context.Context, q string) ([]int64, error) {
	if strings.Contains(q, "NEED") {
		time.Sleep(w.delay)
		for {
			w.st.mu.Lock()
			if w.st.owner == 0 || w.st.owner == w.id {
				delete(w.st.waits, w.id)
				w.st.mu.Unlock()
				break
			}
			w.st.waits[w.id] = []int64{w.st.owner}
			w.st.mu.Unlock()
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	w.st.mu.Lock()
	if strings.Contains(q, "TAKE") {
		w.st.owner = w.id
	}
	if (q == "ROLLBACK" || strings.HasSuffix(q, "COMMIT")) && w.st.owner == w.id {
		w.st.owner = 0
	}
	w.st.mu.Unlock()
	if q == "ROLLBACK" {
		w.cur = nil
		return nil, nil
	}
	w.cur = append(w.cur, q)
	if strings.HasSuffix(q, "COMMIT") {
		w.log.mu.Lock()
		w.log.txns = append(w.log.txns, strings.Join(w.cur, ";\n"))
		w.log.mu.Unlock()
		w.cur = nil
	}
	return nil, nil
}

// TestParallelApplierLockWait: a later group that ran first holds a lock the group whose turn
// it is needs, with no key in common (a gap lock, say): the lock watch has the later one roll
// back and run again after, and both commit, in order. Without it the two would wait for each
// other for ever.
func TestParallelApplierLockWait(t *testing.T) {
	st := &lockState{waits: map[int64][]int64{}}
	log := &commitLog{}
	ws := []ParallelWorker{
		{X: &lockWorker{id: 1, st: st, delay: 100 * time.Millisecond, log: log}, ID: 1},
		{X: &lockWorker{id: 2, st: st, delay: 100 * time.Millisecond, log: log}, ID: 2},
	}
	cat := &KeyCatalog{Tables: map[string]TableKeys{"d.t": {Primary: true, Indexes: [][]string{{"id"}}}}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := NewParallelApplier(ctx, ws, ParallelOptions{
		ApplierOptions: ApplierOptions{MaxBatch: 1 << 20},
		Keys:           func(context.Context) (*KeyCatalog, error) { return cat, nil },
		LockWaits: func(context.Context) (map[int64][]int64, error) {
			st.mu.Lock()
			defer st.mu.Unlock()
			w := map[int64][]int64{}
			for k, v := range st.waits {
				w[k] = v
			}
			return w, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tm := &binlog.TableMap{Schema: "d", Table: "t", Columns: []binlog.Column{{Name: "id"}}, HasNames: true}
	pad := strings.Repeat("x", groupBatch) // each transaction a group of its own
	for i, stmt := range []string{"UPDATE d.t NEED " + pad, "UPDATE d.t TAKE " + pad} {
		if err := p.Begin(ctx, TxnInfo{Start: binlog.Position{File: "f", Offset: int64(100 * i)}}); err != nil {
			t.Fatal(err)
		}
		p.RowKeys("d", "t", tm, nil, []binlog.Value{{Kind: binlog.ValInt, Text: []byte(strconv.Itoa(i))}})
		if err := p.WriteRows(ctx, []byte(stmt), RowCheck{Rows: 1}); err != nil {
			t.Fatal(err)
		}
		if err := p.Commit(ctx, TxnSummary{End: binlog.Position{File: "f", Offset: int64(100*i + 50)}, Updates: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if len(log.txns) != 2 || !strings.Contains(log.txns[0], "NEED") || !strings.Contains(log.txns[1], "TAKE") {
		t.Fatalf("committed %d transactions, want NEED then TAKE", len(log.txns))
	}
	if aborts, _ := p.Stats(); aborts == 0 {
		t.Errorf("the later group was never rolled back: the test did not make the lock wait")
	}
}

// chainWorker records which connection committed each target transaction; the first BEGIN
// waits for gate, so that every later group is dispatched while the first still runs.
type chainWorker struct {
	n    int
	mu   *sync.Mutex
	by   *[]int
	gate chan struct{}
}

func (c *chainWorker) Exec(_ context.Context, q string) ([]int64, error) {
	if strings.HasPrefix(q, "BEGIN;\nUPDATE t1") {
		<-c.gate
	}
	if strings.HasSuffix(q, "COMMIT") {
		c.mu.Lock()
		*c.by = append(*c.by, c.n)
		c.mu.Unlock()
	}
	return nil, nil
}

// TestParallelApplierChain: a group that depends on the group dispatched just before it runs
// next on that group's connection (the server then runs it on the thread that holds the rows
// it reads warm: the hot-row workload); one that does not depend on it goes to any free worker.
func TestParallelApplierChain(t *testing.T) {
	const threads = 4
	for _, tc := range []struct {
		name string
		keys []uint64 // each group's one key
		same bool     // all on one connection
	}{
		{"hot row", []uint64{7, 7, 7, 7}, true},
		{"disjoint", []uint64{1, 2, 3, 4}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var by []int
			gate := make(chan struct{})
			var ws []ParallelWorker
			for i := range threads {
				ws = append(ws, ParallelWorker{X: &chainWorker{n: i, mu: &mu, by: &by, gate: gate}})
			}
			ctx := context.Background()
			p, err := NewParallelApplier(ctx, ws, ParallelOptions{ApplierOptions: ApplierOptions{MaxBatch: 1 << 20}})
			if err != nil {
				t.Fatal(err)
			}
			p.ctx = ctx
			for i, k := range tc.keys {
				stmt := fmt.Sprintf("UPDATE t%d", i+1)
				g := &pgroup{q: []byte("BEGIN;\n" + stmt), offs: []int{0, 7}, checks: []RowCheck{noCheck, noCheck},
					ws: txnWrites{keys: []uint64{k}, tables: []uint64{1}}}
				if err := p.dispatch(ctx, g); err != nil {
					t.Fatal(err)
				}
			}
			close(gate)
			if err := p.waitCommitted(ctx, int64(len(tc.keys))); err != nil {
				t.Fatal(err)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			if len(by) != len(tc.keys) {
				t.Fatalf("%d commits, want %d", len(by), len(tc.keys))
			}
			same := true
			for _, n := range by {
				same = same && n == by[0]
			}
			if same != tc.same {
				t.Errorf("committed by connections %v; all on one: %v, want %v", by, same, tc.same)
			}
		})
	}
}
