package restore

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"slices"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// A flashback's conflict check compares the rows its window changed with the rows the binlogs
// after it change. Both sets can be millions of rows, so neither is held in memory: each row is
// reduced to its exact key (appendRowKey), keys are gathered in a bounded buffer, sorted and
// written to a temporary file as a run, and the two sides' runs are merged and joined in key
// order at the end (keyRuns.merge). Keys are compared byte for byte, never by a hash, so a
// conflict is found exactly: a hash only feeds keyFilter, which may let a later row through
// that the window never touched (the merge then finds no match) but never holds one back.
const (
	keyRunBytes = 1 << 20  // key bytes sorted in memory before a run is written
	keyRunsMax  = 32       // runs merged at once; more are first merged into one
	keyRunRead  = 32 << 10 // read buffer of each run while merging
	keyFilterB  = 1 << 23  // bits of keyFilter (1 MiB)
)

// appendRowKey appends the exact key of one row image to b: the table, then its primary key's
// values, or every value for a table without one (or an image that leaves part of it out). Two
// images of the same table get the same key exactly when those values are the same bytes.
func appendRowKey(b []byte, tm *binlog.TableMap, img []binlog.Value) []byte {
	b = binary.AppendUvarint(b, uint64(len(tm.Schema)))
	b = append(b, tm.Schema...)
	b = binary.AppendUvarint(b, uint64(len(tm.Table)))
	b = append(b, tm.Table...)
	cols, all := keyColumns(tm, img)
	put := func(v *binlog.Value) {
		b = append(b, byte(v.Kind))
		b = binary.AppendUvarint(b, v.Uint)
		b = binary.AppendUvarint(b, uint64(len(v.Text)))
		b = append(b, v.Text...)
	}
	if all {
		b = append(b, 1)
		for i := range img {
			put(&img[i])
		}
		return b
	}
	b = append(b, 0)
	for _, i := range cols {
		put(&img[i])
	}
	return b
}

// decodeRowKey reads back the values of a key appendRowKey wrote for a table whose map is tm:
// the column indexes and their values, for a conflict report.
func decodeRowKey(key []byte, tm *binlog.TableMap) (cols []int, vals []binlog.Value, err error) {
	bad := errors.New("a malformed row key")
	field := func() ([]byte, error) {
		n, k := binary.Uvarint(key)
		if k <= 0 || uint64(len(key)-k) < n {
			return nil, bad
		}
		f := key[k : k+int(n)]
		key = key[k+int(n):]
		return f, nil
	}
	if _, err := field(); err != nil {
		return nil, nil, err
	}
	if _, err := field(); err != nil {
		return nil, nil, err
	}
	if len(key) == 0 {
		return nil, nil, bad
	}
	all := key[0] == 1
	key = key[1:]
	for i := 0; len(key) > 0; i++ {
		var v binlog.Value
		v.Kind = binlog.ValueKind(key[0])
		key = key[1:]
		u, k := binary.Uvarint(key)
		if k <= 0 {
			return nil, nil, bad
		}
		v.Uint = u
		key = key[k:]
		if v.Text, err = field(); err != nil {
			return nil, nil, err
		}
		c := i
		if !all {
			if i >= len(tm.PrimaryKey) {
				return nil, nil, bad
			}
			c = tm.PrimaryKey[i]
		}
		if c >= len(tm.Columns) {
			return nil, nil, bad
		}
		cols = append(cols, c)
		vals = append(vals, v)
	}
	return cols, vals, nil
}

// keyFilter is a fixed-size Bloom filter of the window's row keys: a later row whose key it
// does not hold was not changed by the window, and is not written to the later runs at all.
type keyFilter struct {
	bits []uint64
	n    uint64 // len(bits) * 64
	seed maphash.Seed
}

func newKeyFilter(n uint64) *keyFilter {
	return &keyFilter{bits: make([]uint64, (n+63)/64), n: (n + 63) / 64 * 64, seed: maphash.MakeSeed()}
}

func (f *keyFilter) pos(key []byte) (uint64, uint64) {
	h := maphash.Bytes(f.seed, key)
	return h % f.n, (h >> 32) % f.n
}

func (f *keyFilter) add(key []byte) {
	a, b := f.pos(key)
	f.bits[a/64] |= 1 << (a % 64)
	f.bits[b/64] |= 1 << (b % 64)
}

func (f *keyFilter) mayHold(key []byte) bool {
	a, b := f.pos(key)
	return f.bits[a/64]&(1<<(a%64)) != 0 && f.bits[b/64]&(1<<(b%64)) != 0
}

// keyRuns gathers (key, tag) pairs in sorted runs on a temporary file. Merged, it yields each
// distinct key once, in byte order, with the smallest tag it was added with.
type keyRuns struct {
	dir   string
	f     *os.File
	off   int64
	runs  []keyRun
	arena []byte   // the buffered entries' keys
	ents  []keyEnt // the buffered entries
	limit int      // arena bytes before a run is written; keyRunBytes unless a test sets it
	max   int      // runs before they are merged into one; keyRunsMax unless a test sets it
	w     []byte
}

type keyRun struct{ off, n int64 }

type keyEnt struct {
	off, n uint32
	tag    uint64
}

func newKeyRuns(dir string) *keyRuns {
	return &keyRuns{dir: dir, limit: keyRunBytes, max: keyRunsMax}
}

func (k *keyRuns) file() error {
	if k.f != nil {
		return nil
	}
	f, err := os.CreateTemp(k.dir, "pitr-flashback-keys-*")
	if err != nil {
		return fmt.Errorf("--flashback needs a temporary file for the conflict check: %w", err)
	}
	os.Remove(f.Name())
	k.f = f
	return nil
}

func (k *keyRuns) Close() error {
	if k.f == nil {
		return nil
	}
	return k.f.Close()
}

func (k *keyRuns) add(key []byte, tag uint64) error {
	if k.arena == nil {
		// Allocated once at their bound: growing by doubling would leave garbage of the same size.
		k.arena = make([]byte, 0, k.limit+len(key))
		k.ents = make([]keyEnt, 0, k.limit/16)
	}
	k.ents = append(k.ents, keyEnt{off: uint32(len(k.arena)), n: uint32(len(key)), tag: tag})
	k.arena = append(k.arena, key...)
	if len(k.arena) >= k.limit {
		return k.flushRun()
	}
	return nil
}

// flushRun sorts the buffered entries and writes them as one run, each key once with its
// smallest tag: `uvarint len | key | uvarint tag`.
func (k *keyRuns) flushRun() error {
	if len(k.ents) == 0 {
		return nil
	}
	if err := k.file(); err != nil {
		return err
	}
	key := func(e keyEnt) []byte { return k.arena[e.off : e.off+e.n] }
	slices.SortFunc(k.ents, func(a, b keyEnt) int {
		if c := bytes.Compare(key(a), key(b)); c != 0 {
			return c
		}
		switch {
		case a.tag < b.tag:
			return -1
		case a.tag > b.tag:
			return 1
		}
		return 0
	})
	start := k.off
	w := k.w[:0]
	var last []byte
	for i, e := range k.ents {
		kb := key(e)
		if i > 0 && bytes.Equal(kb, last) {
			continue
		}
		last = kb
		var err error
		if w, err = k.put(w, kb, e.tag); err != nil {
			return err
		}
	}
	if err := k.write(w); err != nil {
		return err
	}
	k.w = w[:0]
	k.runs = append(k.runs, keyRun{start, k.off - start})
	k.ents = k.ents[:0]
	k.arena = k.arena[:0]
	if len(k.runs) >= k.max {
		return k.compact()
	}
	return nil
}

// put appends one entry of a run to w, writing w out once it holds keyRunRead bytes.
func (k *keyRuns) put(w, key []byte, tag uint64) ([]byte, error) {
	w = binary.AppendUvarint(w, uint64(len(key)))
	w = append(w, key...)
	w = binary.AppendUvarint(w, tag)
	if len(w) < keyRunRead {
		return w, nil
	}
	if err := k.write(w); err != nil {
		return w, err
	}
	return w[:0], nil
}

func (k *keyRuns) write(b []byte) error {
	n, err := k.f.WriteAt(b, k.off)
	k.off += int64(n)
	if err != nil {
		return fmt.Errorf("--flashback conflict check temporary file: %w", err)
	}
	return nil
}

// compact merges every run into one on a new file, so that a merge never reads more than
// max runs at once however many keys there are.
func (k *keyRuns) compact() error {
	m, err := k.merge()
	if err != nil {
		return err
	}
	old := k.f
	k.f, k.off, k.runs = nil, 0, nil
	defer old.Close()
	if err := k.file(); err != nil {
		return err
	}
	w := k.w[:0]
	for {
		key, tag, err := m.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if w, err = k.put(w, key, tag); err != nil {
			return err
		}
	}
	if err := k.write(w); err != nil {
		return err
	}
	k.w = w[:0]
	k.runs = []keyRun{{0, k.off}}
	return nil
}

// merge writes what is buffered as a run and returns the runs merged in key order.
func (k *keyRuns) merge() (*keyMerge, error) {
	m := &keyMerge{}
	if len(k.ents) > 0 {
		if err := k.flushRun(); err != nil {
			return nil, err
		}
	}
	for _, r := range k.runs {
		c := &keyCursor{r: bufio.NewReaderSize(io.NewSectionReader(k.f, r.off, r.n), keyRunRead)}
		ok, err := c.advance()
		if err != nil {
			return nil, err
		}
		if ok {
			m.h = append(m.h, c)
		}
	}
	heap.Init(&m.h)
	return m, nil
}

// keyCursor reads one run.
type keyCursor struct {
	r   *bufio.Reader
	key []byte
	tag uint64
}

func (c *keyCursor) advance() (bool, error) {
	n, err := binary.ReadUvarint(c.r)
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("--flashback conflict check temporary file: %w", err)
	}
	if uint64(cap(c.key)) < n {
		c.key = make([]byte, n)
	}
	c.key = c.key[:n]
	if _, err := io.ReadFull(c.r, c.key); err != nil {
		return false, fmt.Errorf("--flashback conflict check temporary file: %w", err)
	}
	if c.tag, err = binary.ReadUvarint(c.r); err != nil {
		return false, fmt.Errorf("--flashback conflict check temporary file: %w", err)
	}
	return true, nil
}

type cursorHeap []*keyCursor

func (h cursorHeap) Len() int { return len(h) }
func (h cursorHeap) Less(i, j int) bool {
	if c := bytes.Compare(h[i].key, h[j].key); c != 0 {
		return c < 0
	}
	return h[i].tag < h[j].tag
}
func (h cursorHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)   { *h = append(*h, x.(*keyCursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// keyMerge yields the distinct keys of several runs in byte order, each with its smallest tag.
type keyMerge struct {
	h   cursorHeap
	key []byte
}

// next returns the next key (valid until the following call) and its smallest tag, or io.EOF.
func (m *keyMerge) next() ([]byte, uint64, error) {
	if len(m.h) == 0 {
		return nil, 0, io.EOF
	}
	top := m.h[0]
	m.key = append(m.key[:0], top.key...)
	tag := top.tag
	// Every cursor at the same key moves past it; the heap order put the smallest tag first.
	for len(m.h) > 0 && bytes.Equal(m.h[0].key, m.key) {
		c := m.h[0]
		ok, err := c.advance()
		if err != nil {
			return nil, 0, err
		}
		if ok {
			heap.Fix(&m.h, 0)
		} else {
			heap.Pop(&m.h)
		}
	}
	return m.key, tag, nil
}

// joinKeys calls match for every key both merges yield, with the later side's tag.
func joinKeys(win, later *keyMerge, match func(key []byte, tag uint64) error) error {
	wk, _, werr := win.next()
	lk, ltag, lerr := later.next()
	for werr == nil && lerr == nil {
		switch c := bytes.Compare(wk, lk); {
		case c < 0:
			wk, _, werr = win.next()
		case c > 0:
			lk, ltag, lerr = later.next()
		default:
			if err := match(lk, ltag); err != nil {
				return err
			}
			wk, _, werr = win.next()
			lk, ltag, lerr = later.next()
		}
	}
	for _, err := range []error{werr, lerr} {
		if err != nil && err != io.EOF {
			return err
		}
	}
	return nil
}

// keyTable returns the db.table a row key (appendRowKey) belongs to.
func keyTable(key []byte) (string, error) {
	var parts [2][]byte
	for i := range parts {
		n, k := binary.Uvarint(key)
		if k <= 0 || uint64(len(key)-k) < n {
			return "", errors.New("--flashback conflict check: a malformed row key")
		}
		parts[i] = key[k : k+int(n)]
		key = key[k+int(n):]
	}
	return string(parts[0]) + "." + string(parts[1]), nil
}
