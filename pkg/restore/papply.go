package restore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"sync"
	"time"

	"github.com/pitr-tool/pitr/pkg/binlog"
	"github.com/pitr-tool/pitr/pkg/mysqlconn"
)

// ParallelApplier is the Applier's sink for several target connections. It forms target
// transactions exactly as the Applier does (so that --dry-run, which prints the Applier's, shows
// what runs), and hands each one, a group, to the first free worker connection. A group runs as
// soon as every earlier group it conflicts with has committed, and commits only after the group
// before it has: commits, and so the checkpoint row each one writes with its COMMIT, keep source
// order. The checkpoint therefore still means "everything up to here, nothing after".
//
// Conflicts are found from write sets, as replication's WRITESET does: a group's write set is the
// primary and unique key values of every row image it writes (RowKeys), read against the
// target's own indexes. A table whose rows cannot be told apart that way (no primary key, a
// prefix key, a key column missing from the images, system versioning, a sequence) or that a
// foreign key links to others is taken whole: its groups run one after another, in order, with
// those of every table linked to it. DDL, statements replayed as logged, LOAD DATA and rows
// without keys make a group a barrier: it runs alone, after every earlier group has committed
// and before any later one starts.
//
// Ordered commit can make a later group hold a lock the group whose turn it is needs (a gap
// lock, an insert intention, a unique check): InnoDB sees no deadlock, since the later group
// waits in pitr, not in the server. A monitor watches for that (the next group to commit busy
// for a while, a later one done and waiting) and, where the server's lock tables say a waiting
// later group blocks it, has that group roll back and run again once the blocked one has
// committed. A group that fails before its turn (a statement error, a row count that differs, a
// deadlock the server resolved) may have failed only because it ran early: it is rolled back and
// run again at its turn, alone, where its failure is the real one and stops the apply as the
// Applier's does.
type ParallelApplier struct {
	opts    ApplierOptions
	workers []*pworker
	cat     *keyCatalog
	loads   Applier // LOAD DATA readers only
	seed    maphash.Seed
	keysFn  func(ctx context.Context) (*KeyCatalog, error)

	// Forming groups, in the goroutine that calls the Sink methods.
	g       *pgroup   // the open target transaction; nil: none
	open    bool      // the Applier would have a COMMIT to send before the next BEGIN
	txn     txnWrites // the write set of the source transaction being written
	pending *TxnSummary
	pinfo   TxnInfo
	deps    depTracker
	seq     int64
	ctx     context.Context // the last Sink call's, for Close
	wctx    context.Context // the workers' and the monitor's: NewParallelApplier's
	kbuf    []byte

	jobs chan *pgroup
	// prev is the group dispatched last; a group that depends on it alone runs next on the
	// same connection (chained), without waiting for a free worker. slots bounds the groups
	// dispatched and not yet finished, which chaining would otherwise leave unbounded.
	prev  *pgroup
	slots chan struct{}

	mu        sync.Mutex
	cond      *sync.Cond
	committed int64 // seq of the last group committed
	failed    error
	stop      chan struct{} // closed at the first failure
	wg        sync.WaitGroup
	monStop   chan struct{}
	monDone   chan struct{}

	// Under mu.
	ncommitted int64
	rows       TxnSummary
	last       CheckpointState
	unknown    []jobTxn
	aborts     int64
	reruns     int64
}

// rowKeyer is a Sink that takes each row change's keys, ahead of its statement.
type rowKeyer interface {
	RowKeys(db, table string, tm *binlog.TableMap, before, after []binlog.Value)
}

var _ rowKeyer = (*ParallelApplier)(nil)
var _ RowSink = (*ParallelApplier)(nil)

// ParallelWorker is one connection of a ParallelApplier.
type ParallelWorker struct {
	X  Execer
	ID int64 // the server's connection id; 0 if unknown
}

// ParallelOptions configure a ParallelApplier.
type ParallelOptions struct {
	ApplierOptions
	// Keys reads the target's unique keys and foreign keys, at the start and after each DDL.
	// nil: every table is taken whole.
	Keys func(ctx context.Context) (*KeyCatalog, error)
	// LockWaits lists, for the sessions given, which sessions each waits on for a lock
	// (requesting id → blocking ids), from the server's lock tables; nil, or an error, falls
	// back to rolling the waiting later groups back when the next one to commit has been busy
	// for LockWaitFallback.
	LockWaits        func(ctx context.Context) (map[int64][]int64, error)
	LockWaitFallback time.Duration
	// Ping checks, every second, the session that holds the checkpoint's lock: the apply stops
	// (as after a lost connection) when it is gone, since another run could then start.
	Ping func(ctx context.Context) error
}

// KeyCatalog is what the target says identifies the rows of each table.
type KeyCatalog struct {
	// Tables maps "db.table" (unquoted, as the server spells them) to its unique indexes, the
	// primary key first, each a list of column names. A table missing here, or whose first
	// index is not its primary key, is taken whole.
	Tables map[string]TableKeys
	// Linked lists pairs of tables a foreign key joins ("db.table" of child and parent).
	Linked [][2]string
}

// TableKeys are a table's unique indexes.
type TableKeys struct {
	Primary bool       // Indexes[0] is the primary key
	Indexes [][]string // column names
	Whole   bool       // a key the write set cannot hold (a prefix)
}

type keyCatalog struct {
	cat    *KeyCatalog
	family map[string]string // table → the root of the tables foreign keys link it with
	cache  map[string]*tableWS
}

// tableWS is how a table's rows go into write sets.
type tableWS struct {
	tm    *binlog.TableMap // the map idx was resolved for
	token uint64           // the table, or its foreign key family
	whole bool
	idx   [][]int // key columns as indexes into tm.Columns
}

type txnWrites struct {
	keys    []uint64 // row keys (with their table mixed in)
	tables  []uint64 // tables written row by row
	whole   []uint64 // tables (or families) taken whole
	keyed   int64    // row changes seen by RowKeys
	rows    int64    // row changes written (WriteRows)
	barrier bool
	ddl     bool // a statement that may change keys: the catalogue is read again after it
}

func (t *txnWrites) reset() {
	t.keys, t.tables, t.whole = t.keys[:0], t.tables[:0], t.whole[:0]
	if cap(t.keys) > 1<<16 {
		t.keys = nil // a big transaction's: not kept for the small ones after it
	}
	t.keyed, t.rows, t.barrier, t.ddl = 0, 0, false, false
}

// pgroup is one target transaction.
type pgroup struct {
	seq, dep int64
	barrier  bool
	ddl      bool
	ws       txnWrites

	q      []byte // BEGIN and the statements, joined by ";\n"
	offs   []int
	checks []RowCheck
	txns   []jobTxn
	ck     []byte // the checkpoint upsert, sent with the COMMIT; nil: none
	// pre is what the Applier's batch holds before q: the previous target transaction's
	// COMMIT, which counts towards its batch size and so decides where transactions split.
	pre   int
	noTxn bool // rolled back by the source (a cut-off transaction): ROLLBACK, not COMMIT

	// A group too big to hold streams: it is a barrier, and its parts follow on parts.
	parts    chan job
	executed bool // a streaming group's parts have been taken: it cannot run again

	// Under ParallelApplier.mu.
	abortAfter int64   // >0: roll back, and run again once this group has committed
	next       *pgroup // chained: runs on this group's worker once it has committed
	finished   bool    // its worker is done with it: nothing more can be chained
}

// pworker runs groups on one connection.
type pworker struct {
	p  *ParallelApplier
	a  *Applier // its exec checks statements and row counts
	x  Execer
	id int64

	// Under p.mu.
	g       *pgroup
	state   int // wIdle, wRunning, wWaiting
	since   time.Time
	headRun bool // running as the next group to commit
}

const (
	wIdle = iota
	wRunning
	wWaiting // done, holding its transaction open until its turn
)

// depTracker knows, for each row key (a 64-bit hash: a collision only makes two groups look
// dependent) and table, the last group that wrote it.
type depTracker struct {
	keys     map[uint64]int64
	tableAny map[uint64]int64
	whole    map[uint64]int64
	barrier  int64
	last     int64
}

// pruneKeys is how many row keys the tracker holds before it forgets those of committed groups:
// at 1<<18 the map alone held about 10 MiB more of the apply's peak RSS; at 1<<16 the pruning
// cost about 0.5 s of CPU over the 2.24M-row bench binlogs.
const pruneKeys = 1 << 17

func (d *depTracker) prune(committed int64) {
	for k, seq := range d.keys {
		if seq <= committed {
			delete(d.keys, k)
		}
	}
}

// NewParallelApplier applies through the workers' connections. Call Close at the end.
func NewParallelApplier(ctx context.Context, workers []ParallelWorker, opts ParallelOptions) (*ParallelApplier, error) {
	if opts.Progress == nil {
		opts.Progress = new(Progress)
	}
	p := &ParallelApplier{opts: opts.ApplierOptions, seed: maphash.MakeSeed(), ctx: ctx, wctx: ctx,
		jobs: make(chan *pgroup), stop: make(chan struct{}), slots: make(chan struct{}, len(workers)+1),
		deps: depTracker{keys: map[uint64]int64{}, tableAny: map[uint64]int64{}, whole: map[uint64]int64{}}}
	p.cond = sync.NewCond(&p.mu)
	p.cat = &keyCatalog{cat: &KeyCatalog{}}
	if opts.Keys != nil {
		c, err := opts.Keys(ctx)
		if err != nil {
			return nil, fmt.Errorf("read the target's keys: %w", err)
		}
		p.cat = newKeyCatalog(c)
	}
	p.keysFn = opts.Keys
	for _, w := range workers {
		pw := &pworker{p: p, x: w.X, id: w.ID, a: &Applier{x: w.X, opts: ApplierOptions{MaxBatch: 1 << 30, Progress: new(Progress)}, began: -1}}
		p.workers = append(p.workers, pw)
	}
	for _, w := range p.workers {
		p.wg.Add(1)
		go w.run()
	}
	if len(p.workers) > 1 || opts.Ping != nil {
		p.monStop, p.monDone = make(chan struct{}), make(chan struct{})
		go p.monitor(opts.LockWaits, opts.LockWaitFallback, opts.Ping)
	}
	return p, nil
}

func newKeyCatalog(c *KeyCatalog) *keyCatalog {
	k := &keyCatalog{cat: c, family: map[string]string{}, cache: map[string]*tableWS{}}
	var find func(string) string
	find = func(t string) string {
		r, ok := k.family[t]
		if !ok || r == t {
			return t
		}
		r = find(r)
		k.family[t] = r
		return r
	}
	for _, l := range c.Linked {
		a, b := find(l[0]), find(l[1])
		k.family[l[0]], k.family[l[1]] = a, a
		if a != b {
			k.family[b] = a
		}
	}
	for t := range k.family {
		k.family[t] = find(t)
	}
	return k
}

// Stats returns how many groups were rolled back because they blocked an earlier one, and how
// many were run again at their turn after failing early.
func (p *ParallelApplier) Stats() (aborts, reruns int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.aborts, p.reruns
}

// Committed is Applier.Committed.
func (p *ParallelApplier) Committed() (int64, TxnSummary, CheckpointState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ncommitted, p.rows, p.last
}

// Unknown is Applier.Unknown.
func (p *ParallelApplier) Unknown() []jobTxn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.unknown
}

func (p *ParallelApplier) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed
}

// fail keeps the first failure and stops every worker.
func (p *ParallelApplier) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failLocked(err)
}

func (p *ParallelApplier) failLocked(err error) {
	if p.failed == nil {
		p.failed = err
		close(p.stop)
	}
	p.cond.Broadcast()
}

// Session implements Sink: every connection gets the settings; the first creates the
// checkpoint table.
func (p *ParallelApplier) Session(ctx context.Context, stmts []string) error {
	if p.opts.NoBinlog {
		stmts = append([]string{"SET SESSION sql_log_bin=0"}, stmts...)
	}
	// One round trip per setting and connection: the connections take theirs at once.
	errs := make([]error, len(p.workers))
	var wg sync.WaitGroup
	for i, w := range p.workers {
		all := stmts
		if i == 0 && p.opts.Checkpoint != nil {
			all = append(append([]string(nil), stmts...), p.opts.Checkpoint.CreateStatements()...)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, s := range all {
				if _, err := w.x.Exec(ctx, s); err != nil {
					errs[i] = fmt.Errorf("session setup: %s: %w", s, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// LoadFile implements LoadSink.
func (p *ParallelApplier) LoadFile(ctx context.Context, key string, data io.Reader) (string, error) {
	p.txn.barrier = true
	return p.loads.LoadFile(ctx, key, data)
}

// RowKeys adds a row change's keys to the write set of the source transaction being written:
// db and table are the target's names.
func (p *ParallelApplier) RowKeys(db, table string, tm *binlog.TableMap, before, after []binlog.Value) {
	t := &p.txn
	t.keyed++
	if p.g != nil && p.g.parts != nil {
		// A group too big to hold runs alone: its keys decide nothing, and a million-row
		// transaction's would cost tens of MiB.
		return
	}
	ws := p.tableWS(db, table, tm)
	if ws.whole {
		t.whole = append(t.whole, ws.token)
		return
	}
	n := len(t.keys)
	for _, img := range [2][]binlog.Value{before, after} {
		if img == nil {
			continue
		}
	next:
		for i, cols := range ws.idx {
			b := binary.AppendUvarint(p.kbuf[:0], uint64(i))
			for _, c := range cols {
				if c >= len(img) {
					continue next
				}
				v := &img[c]
				if v.Kind == binlog.ValAbsent {
					continue next // not in a minimal image: the primary key finds the row
				}
				b = append(b, byte(v.Kind))
				b = binary.AppendUvarint(b, uint64(len(v.Text)))
				b = append(b, v.Text...)
				b = binary.AppendUvarint(b, v.Uint)
			}
			p.kbuf = b
			t.keys = append(t.keys, maphash.Bytes(p.seed, b)^ws.token*0x9e3779b97f4a7c15)

		}
	}
	if len(t.keys) == n {
		t.whole = append(t.whole, ws.token)
		return
	}
	if len(t.tables) == 0 || t.tables[len(t.tables)-1] != ws.token {
		t.tables = append(t.tables, ws.token)
	}
}

func (p *ParallelApplier) tableWS(db, table string, tm *binlog.TableMap) *tableWS {
	name := db + "." + table
	ws := p.cat.cache[name]
	if ws != nil && ws.tm == tm {
		return ws
	}
	ws = &tableWS{tm: tm}
	if p.cat.cache == nil {
		p.cat.cache = map[string]*tableWS{}
	}
	p.cat.cache[name] = ws
	fam, linked := p.cat.family[name]
	if linked {
		ws.token, ws.whole = maphash.String(p.seed, "fk\x00"+fam), true
		return ws
	}
	ws.token = maphash.String(p.seed, "t\x00"+name)
	keys, ok := p.cat.cat.Tables[name]
	_, ve := periodColumns(tm)
	if !ok || !keys.Primary || keys.Whole || ve >= 0 || isSequence(tm) {
		ws.whole = true
		return ws
	}
	for _, idx := range keys.Indexes {
		cols := make([]int, 0, len(idx))
		for _, name := range idx {
			c := columnIndex(tm, name)
			if c < 0 {
				ws.whole = true // the target has a key column the binlog does not
				return ws
			}
			cols = append(cols, c)
		}
		ws.idx = append(ws.idx, cols)
	}
	return ws
}

func columnIndex(tm *binlog.TableMap, name string) int {
	for i := range tm.Columns {
		if equalFoldASCII(tm.Columns[i].Name, name) {
			return i
		}
	}
	return -1
}

func equalFoldASCII(a, b string) bool {
	return len(a) == len(b) && bytes.EqualFold([]byte(a), []byte(b))
}

// depend returns the group g must wait for before it runs, and records g's write set.
func (d *depTracker) depend(g *pgroup) int64 {
	dep := d.barrier
	if g.barrier {
		dep = d.last
		d.barrier = g.seq
	} else {
		// All that g depends on first: a key g writes twice must not make it wait on itself.
		for _, k := range g.ws.keys {
			dep = max(dep, d.keys[k])
		}
		for _, t := range g.ws.tables {
			dep = max(dep, d.whole[t])
		}
		for _, t := range g.ws.whole {
			dep = max(dep, d.whole[t], d.tableAny[t])
		}
		for _, k := range g.ws.keys {
			d.keys[k] = g.seq
		}
		for _, t := range g.ws.tables {
			d.tableAny[t] = g.seq
		}
		for _, t := range g.ws.whole {
			d.whole[t], d.tableAny[t] = g.seq, g.seq
		}
	}
	d.last = g.seq
	return dep
}

func (p *ParallelApplier) queue(stmt []byte, c RowCheck) {
	g := p.g
	if len(g.offs) > 0 {
		g.q = append(g.q, ";\n"...)
	}
	g.offs = append(g.offs, len(g.q))
	g.checks = append(g.checks, c)
	g.q = append(g.q, stmt...)
}

func (p *ParallelApplier) cur() *jobTxn { return &p.g.txns[len(p.g.txns)-1] }

// alone reports whether the source transaction being written is the only one in its group.
func (p *ParallelApplier) alone() bool { return p.g.parts != nil || p.cur().first == 1 }

// startGroup opens a target transaction.
func (p *ParallelApplier) startGroup() {
	p.g = &pgroup{}
	if p.open {
		p.g.pre = len("COMMIT;\n")
	}
	p.open = true
	p.queue([]byte("BEGIN"), noCheck)
}

// size is what the Applier's batch would hold.
func (g *pgroup) size() int { return g.pre + len(g.q) }

// Begin implements Sink.
func (p *ParallelApplier) Begin(ctx context.Context, tx TxnInfo) error {
	if err := p.err(); err != nil {
		return err
	}
	p.ctx = ctx
	g := p.g
	join := g != nil && g.parts == nil && !g.barrier && g.size() < groupBatch
	if !join {
		if err := p.closeGroup(ctx); err != nil {
			return err
		}
		p.startGroup()
	}
	p.txn.reset()
	p.g.txns = append(p.g.txns, jobTxn{info: tx, first: len(p.g.offs)})
	return nil
}

// Write implements Sink.
func (p *ParallelApplier) Write(ctx context.Context, stmt []byte) error {
	return p.write(ctx, stmt, noCheck)
}

// WriteRows implements RowSink.
func (p *ParallelApplier) WriteRows(ctx context.Context, stmt []byte, c RowCheck) error {
	p.opts.Progress.Statements.Add(1)
	p.opts.Progress.BytesSent.Add(int64(len(stmt)))
	if c.Rows > 0 {
		p.opts.Progress.RowsSent.Add(c.Rows)
		p.txn.rows += c.Rows
	}
	return p.write(ctx, stmt, c)
}

func (p *ParallelApplier) write(ctx context.Context, stmt []byte, c RowCheck) error {
	if err := p.err(); err != nil {
		return err
	}
	if c.Rows < 0 && commitsItself(stmt) {
		if !p.alone() {
			if err := p.split(ctx); err != nil {
				return err
			}
		}
		if p.g.parts == nil {
			p.g.barrier = true // a streaming group is one, handed over already
		}
		p.txn.barrier = true
		if changesKeys(stmt) {
			p.txn.ddl = true
		}
	}
	if len(p.g.offs) > 0 && p.g.size()+2+len(stmt) > p.opts.MaxBatch {
		if !p.alone() {
			if err := p.split(ctx); err != nil {
				return err
			}
		}
		if len(p.g.offs) > 0 && p.g.size()+2+len(stmt) > p.opts.MaxBatch {
			if err := p.sendPart(ctx); err != nil {
				return err
			}
		}
	}
	p.queue(stmt, c)
	return nil
}

// changesKeys reports whether a statement can change which tables and keys the target has.
func changesKeys(stmt []byte) bool {
	for _, w := range []string{"CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE"} {
		if len(stmt) >= len(w) && bytes.EqualFold(stmt[:len(w)], []byte(w)) {
			return true
		}
	}
	return false
}

// split moves the source transaction being written into a group of its own.
func (p *ParallelApplier) split(ctx context.Context) error {
	g := p.g
	t := g.txns[len(g.txns)-1]
	g.txns = g.txns[:len(g.txns)-1]
	f := t.first
	var tail []byte
	var tailOffs []int
	var tailChecks []RowCheck
	if f < len(g.offs) {
		tail = append(tail, g.q[g.offs[f]:]...)
		for _, o := range g.offs[f:] {
			tailOffs = append(tailOffs, o-g.offs[f])
		}
		tailChecks = append(tailChecks, g.checks[f:]...)
		g.q, g.offs, g.checks = g.q[:g.offs[f]-2], g.offs[:f], g.checks[:f]
	}
	if err := p.closeGroup(ctx); err != nil {
		return err
	}
	p.startGroup()
	t.first = len(p.g.offs)
	p.g.txns = append(p.g.txns, t)
	for i, o := range tailOffs {
		end := len(tail)
		if i+1 < len(tailOffs) {
			end = tailOffs[i+1] - 2
		}
		p.queue(tail[o:end], tailChecks[i])
	}
	return nil
}

// sendPart hands over what the group holds of a source transaction too big to hold: the group
// becomes a barrier that streams.
func (p *ParallelApplier) sendPart(ctx context.Context) error {
	g := p.g
	info := p.cur().info
	j := job{ctx: ctx, q: string(g.q), offs: append([]int(nil), g.offs...),
		checks: append([]RowCheck(nil), g.checks...), txns: append([]jobTxn(nil), g.txns...)}
	if g.parts == nil {
		g.parts = make(chan job, 1)
		g.barrier = true
		if err := p.dispatch(ctx, g); err != nil {
			return err
		}
	}
	g.q, g.offs, g.checks, g.pre = g.q[:0], g.offs[:0], g.checks[:0], 0
	g.txns = []jobTxn{{info: info, cont: true}}
	select {
	case g.parts <- j:
		return nil
	case <-p.stop:
		return p.err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Commit implements Sink.
func (p *ParallelApplier) Commit(ctx context.Context, sum TxnSummary) error {
	p.ctx = ctx
	if err := p.err(); err != nil {
		return err
	}
	t := p.cur()
	t.commit = &sum
	p.pending, p.pinfo = &sum, t.info
	g := p.g
	ws := &p.txn
	if g.parts == nil { // a streaming group is a barrier, handed over already
		g.ws.keys = append(g.ws.keys, ws.keys...)
		g.ws.tables = append(g.ws.tables, ws.tables...)
		g.ws.whole = append(g.ws.whole, ws.whole...)
		if ws.barrier || ws.rows > ws.keyed {
			g.barrier = true // rows whose keys were not seen (an XA transaction's)
		}
	}
	g.ddl = g.ddl || ws.ddl
	p.txn.reset()
	if g.parts != nil || g.barrier || g.size() >= groupBatch {
		return p.closeGroup(ctx)
	}
	return nil
}

// closeGroup queues the checkpoint row of the last complete source transaction, and hands the
// group over.
func (p *ParallelApplier) closeGroup(ctx context.Context) error {
	g := p.g
	if g == nil {
		return nil
	}
	p.g = nil
	if p.pending != nil {
		if ck := p.opts.Checkpoint; ck != nil {
			g.ck = ck.upsert(nil, p.pending.End, p.pinfo.GTID, p.pinfo.Time)
		}
		p.pending = nil
	}
	if g.parts != nil {
		return p.endParts(ctx, g)
	}
	if len(g.txns) == 0 && len(g.offs) == 1 {
		return nil // only its BEGIN: a transaction the source rolled back
	}
	if err := p.dispatch(ctx, g); err != nil {
		return err
	}
	if g.ddl {
		return p.reloadKeys(ctx, g)
	}
	return nil
}

// endParts sends a streaming group's last part.
func (p *ParallelApplier) endParts(ctx context.Context, g *pgroup) error {
	if len(g.offs) > 0 {
		j := job{ctx: ctx, q: string(g.q), offs: append([]int(nil), g.offs...),
			checks: append([]RowCheck(nil), g.checks...), txns: append([]jobTxn(nil), g.txns...)}
		select {
		case g.parts <- j:
		case <-p.stop:
			return p.err()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	close(g.parts)
	if g.ddl {
		return p.reloadKeys(ctx, g)
	}
	return nil
}

// reloadKeys waits for a group holding DDL to commit and reads the target's keys again, before
// any later row is keyed.
func (p *ParallelApplier) reloadKeys(ctx context.Context, g *pgroup) error {
	if err := p.waitCommitted(ctx, g.seq); err != nil {
		return err
	}
	if p.keysFn == nil {
		return nil
	}
	c, err := p.keysFn(ctx)
	if err != nil {
		return fmt.Errorf("read the target's keys again after DDL: %w", err)
	}
	p.cat = newKeyCatalog(c)
	return nil
}

func (p *ParallelApplier) waitCommitted(ctx context.Context, seq int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.committed < seq && p.failed == nil && ctx.Err() == nil {
		p.cond.Wait()
	}
	if p.failed != nil {
		return p.failed
	}
	return ctx.Err()
}

// dispatch gives g its sequence number and dependency and hands it to a free worker.
func (p *ParallelApplier) dispatch(ctx context.Context, g *pgroup) error {
	p.seq++
	g.seq = p.seq
	g.dep = p.deps.depend(g)
	if len(p.deps.keys) > pruneKeys {
		// Keys of committed groups constrain nothing: memory stays that of the groups in
		// flight, however long the binlogs.
		p.mu.Lock()
		c := p.committed
		p.mu.Unlock()
		p.deps.prune(c)
	}
	g.ws = txnWrites{} // not needed any more
	select {
	case p.slots <- struct{}{}:
	case <-p.stop:
		return p.err()
	case <-ctx.Done():
		return ctx.Err()
	}
	prev := p.prev
	p.prev = g
	if prev != nil && g.dep == prev.seq && !g.barrier && !prev.barrier {
		// It waits for prev anyway, so it runs next on prev's connection: handed to another
		// one, the server's work for it grew by a sixth (a hot row: BenchmarkApplyHotRow's
		// threads4/threads1 was 1.22 that way, 1.04 chained).
		p.mu.Lock()
		chained := !prev.finished
		if chained {
			prev.next = g
		}
		p.mu.Unlock()
		if chained {
			return nil
		}
	}
	select {
	case p.jobs <- g:
		return nil
	case <-p.stop:
		return p.err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Rollback implements Sink: the open source transaction is dropped.
func (p *ParallelApplier) Rollback(ctx context.Context) error {
	g := p.g
	if g != nil && len(g.txns) > 0 && g.txns[len(g.txns)-1].commit == nil {
		alone := p.alone()
		cut := g.txns[len(g.txns)-1].first
		g.txns = g.txns[:len(g.txns)-1]
		p.txn.reset()
		switch {
		case alone && g.parts != nil:
			// Its BEGIN and statements went: the ROLLBACK ends the group.
			g.q, g.offs, g.checks = g.q[:0], g.offs[:0], g.checks[:0]
			g.noTxn = true
			p.open = false
		case alone:
			p.g = nil
			p.open = false
		case cut < len(g.offs):
			g.q, g.offs, g.checks = g.q[:g.offs[cut]-2], g.offs[:cut], g.checks[:cut]
		}
	}
	err := p.closeGroup(ctx)
	if p.err() != nil {
		return nil // reported by Close
	}
	return err
}

// Close implements Sink: it sends what is gathered and the last COMMIT, waits for every group,
// and returns the first failure.
func (p *ParallelApplier) Close() error {
	defer p.loads.closeLoads()
	var ferr error
	if p.ctx != nil && p.ctx.Err() == nil && p.err() == nil {
		ferr = p.closeGroup(p.ctx)
		if ferr == nil {
			ferr = p.waitCommitted(p.ctx, p.seq)
		}
	}
	if ferr == nil && p.ctx != nil && p.ctx.Err() != nil {
		ferr = p.ctx.Err()
	}
	if ferr != nil {
		p.fail(ferr) // kept only if nothing failed before
	}
	close(p.jobs)
	p.wg.Wait()
	if p.monStop != nil {
		close(p.monStop)
		<-p.monDone
	}
	return p.err()
}

func (w *pworker) run() {
	p := w.p
	defer p.wg.Done()
	for g := range w.p.jobs {
		for g != nil {
			w.group(g)
			p.mu.Lock()
			w.g, w.state = nil, wIdle
			g.finished = true
			n := g.next
			p.mu.Unlock()
			<-p.slots
			g = n
		}
	}
}

// group runs g until it commits, fails, or the apply stops.
func (w *pworker) group(g *pgroup) {
	p := w.p
	ctx := p.wctx
	serial := g.barrier
	after := g.dep
	for {
		// Wait for the groups it depends on (all earlier ones when serial).
		p.mu.Lock()
		w.g, w.state = g, wIdle
		for p.failed == nil && (p.committed < after || serial && p.committed < g.seq-1) {
			p.cond.Wait()
		}
		if p.failed != nil {
			p.mu.Unlock()
			w.drain(g)
			return
		}
		g.abortAfter = 0
		w.state, w.since, w.headRun = wRunning, time.Now(), p.committed == g.seq-1
		p.mu.Unlock()

		err := w.execute(ctx, g)

		p.mu.Lock()
		head := p.committed == g.seq-1
		if err != nil {
			if p.failed != nil {
				p.mu.Unlock()
				w.rollback(ctx)
				w.drain(g)
				return
			}
			if !head && g.parts == nil && localRetry(err) {
				// It may have failed only because it ran before an earlier group: again,
				// alone, at its turn.
				p.reruns++
				p.mu.Unlock()
				if rerr := w.rollback(ctx); rerr != nil {
					p.fail(rerr)
					return
				}
				serial = true
				continue
			}
			p.mu.Unlock()
			w.rollback(ctx)
			p.fail(err)
			w.drain(g)
			return
		}
		// Done: hold the transaction open until its turn, unless it is rolled back to let
		// an earlier group through.
		w.state = wWaiting
		for p.failed == nil && p.committed < g.seq-1 && g.abortAfter == 0 {
			p.cond.Wait()
		}
		if p.failed != nil {
			p.mu.Unlock()
			w.rollback(ctx)
			w.drain(g)
			return
		}
		if a := g.abortAfter; a != 0 && p.committed < g.seq-1 {
			p.aborts++
			w.state = wIdle
			p.mu.Unlock()
			if err := w.rollback(ctx); err != nil {
				p.fail(err)
				return
			}
			after = max(after, a)
			continue
		}
		w.state = wRunning
		p.mu.Unlock()
		if err := w.commit(ctx, g); err != nil {
			p.fail(err)
			return
		}
		return
	}
}

// drain takes a streaming group's remaining parts, so that the coordinator does not wait on it.
func (w *pworker) drain(g *pgroup) {
	if g.parts == nil {
		return
	}
	go func() {
		for range g.parts {
		}
	}()
}

// localRetry reports whether a failure of a group that ran before its turn is worth running
// again at its turn: a statement the target refused or a row count that differs may come from
// an earlier group not yet committed; a lost connection or a timeout may not.
func localRetry(err error) bool {
	if mysqlconn.IsConnLost(err) || errors.Is(err, ErrStatementTimeout) || errors.Is(err, context.Canceled) {
		return false
	}
	var se *StatementError
	return errors.As(err, &se)
}

// execute sends the group's statements (all but its checkpoint row, which goes with the COMMIT).
func (w *pworker) execute(ctx context.Context, g *pgroup) error {
	if g.parts == nil {
		return w.a.exec(job{ctx: ctx, q: string(g.q), offs: g.offs, checks: g.checks, txns: g.txns})
	}
	if g.executed {
		return errors.New("internal: a streaming group ran twice")
	}
	g.executed = true
	for j := range g.parts {
		if err := w.a.exec(j); err != nil {
			return err
		}
	}
	return nil
}

// commit writes the checkpoint row and commits, once every earlier group has.
func (w *pworker) commit(ctx context.Context, g *pgroup) error {
	p := w.p
	q, offs := "COMMIT", []int{0}
	if g.noTxn {
		q = "ROLLBACK"
	} else if g.ck != nil {
		q, offs = string(g.ck)+";\nCOMMIT", []int{0, len(g.ck) + 2}
	}
	checks := make([]RowCheck, len(offs))
	for i := range checks {
		checks[i] = noCheck
	}
	var last []jobTxn
	if n := len(g.txns); n > 0 {
		last = g.txns[n-1:]
	}
	err := w.a.exec(job{ctx: ctx, q: q, offs: offs, checks: checks, txns: last})
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if mysqlconn.IsConnLost(err) || ctx.Err() != nil {
			// Whether the COMMIT ran, only the checkpoint can tell, on the next connection.
			for _, t := range g.txns {
				if t.commit != nil {
					p.unknown = append(p.unknown, t)
				}
			}
		} else {
			w.a.x.Exec(ctx, "ROLLBACK")
		}
		return err
	}
	for _, t := range g.txns {
		if sum := t.commit; sum != nil {
			p.ncommitted++
			p.rows.Inserts += sum.Inserts
			p.rows.Updates += sum.Updates
			p.rows.Deletes += sum.Deletes
			p.last = CheckpointState{End: sum.End, GTID: t.info.GTID}
			pr := p.opts.Progress
			pr.SetPosition(sum.End)
			pr.Transactions.Add(1)
			pr.Rows.Add(sum.Rows())
		}
	}
	p.committed = g.seq
	p.cond.Broadcast()
	return nil
}

// rollback ends the worker's transaction.
func (w *pworker) rollback(ctx context.Context) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	_, err := w.x.Exec(ctx, "ROLLBACK")
	return err
}

// monitor looks for the next group to commit waiting on a lock a later, waiting group holds,
// and has those roll back.
func (p *ParallelApplier) monitor(lockWaits func(context.Context) (map[int64][]int64, error), fallback time.Duration, ping func(context.Context) error) {
	defer close(p.monDone)
	if fallback <= 0 {
		fallback = 5 * time.Second
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	useTables := lockWaits != nil
	lastPing := time.Now()
	for {
		select {
		case <-p.monStop:
			return
		case <-p.stop:
			return
		case <-tick.C:
		}
		if ping != nil && time.Since(lastPing) >= time.Second {
			lastPing = time.Now()
			ctx, cancel := context.WithTimeout(p.wctx, 30*time.Second)
			err := ping(ctx)
			cancel()
			if err != nil && p.wctx.Err() == nil {
				p.fail(fmt.Errorf("the session holding the checkpoint's lock: %w", err))
				return
			}
		}
		p.mu.Lock()
		var head *pworker
		var waiting []*pworker
		for _, w := range p.workers {
			if w.g == nil {
				continue
			}
			if w.g.seq == p.committed+1 && w.state == wRunning {
				head = w
			} else if w.state == wWaiting && w.g.seq > p.committed+1 {
				waiting = append(waiting, w)
			}
		}
		if head == nil || len(waiting) == 0 || time.Since(head.since) < 200*time.Millisecond {
			p.mu.Unlock()
			continue
		}
		headSeq, headID, since := head.g.seq, head.id, head.since
		ids := map[int64]*pworker{}
		for _, w := range waiting {
			if w.id != 0 {
				ids[w.id] = w
			}
		}
		p.mu.Unlock()

		var victims map[*pworker]bool
		if useTables && headID != 0 {
			ctx, cancel := context.WithTimeout(p.wctx, 5*time.Second)
			waits, err := lockWaits(ctx)
			cancel()
			if err != nil {
				useTables = false
			} else {
				// Every waiting group the head waits on, directly or through other sessions.
				victims = map[*pworker]bool{}
				seen := map[int64]bool{headID: true}
				queue := []int64{headID}
				for len(queue) > 0 {
					id := queue[0]
					queue = queue[1:]
					for _, b := range waits[id] {
						if seen[b] {
							continue
						}
						seen[b] = true
						if w, ok := ids[b]; ok {
							victims[w] = true
						}
						queue = append(queue, b)
					}
				}
			}
		}
		if !useTables || headID == 0 || len(victims) == 0 {
			// No lock tables, or they show no wait on a later group (MariaDB 10.11's
			// INNODB_TRX leaves some transactions out): once the next to commit has been
			// busy for fallback, every later group waiting for its turn goes back.
			if time.Since(since) < fallback {
				continue
			}
			victims = map[*pworker]bool{}
			for _, w := range waiting {
				victims[w] = true
			}
		}
		if len(victims) == 0 {
			continue
		}
		p.mu.Lock()
		for w := range victims {
			if w.g != nil && w.state == wWaiting && w.g.seq > headSeq && w.g.abortAfter == 0 {
				w.g.abortAfter = headSeq
			}
		}
		p.cond.Broadcast()
		p.mu.Unlock()
	}
}
