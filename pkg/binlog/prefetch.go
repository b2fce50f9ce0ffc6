package binlog

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/go-mysql-org/go-mysql/replication"
	"sync"
	"unsafe"
)

// Prefetcher reads, verifies and decodes the events of a FileSource on a goroutine of its own,
// ahead of its consumer, and decodes ahead the rows of tables that keep accepts while the
// consumer is behind. The consumer's rendering thus runs on one core while reading and row
// decoding run on another. It yields exactly the events the FileSource would, in order.
type Prefetcher struct {
	src  *FileSource
	keep func(*TableMap) bool
	drop func(*TableMap) bool

	// On the prefetch goroutine, with drop: which table ids have their rows events dropped,
	// which dropped tables' maps went to the consumer, and whether a transaction is open.
	dropID map[uint64]bool
	shown  map[*TableMap]bool
	open   bool

	// The transaction whose end the events being batched wait for, and the end found last with
	// the event it answers from (as FileSource's lookahead cache). Prefetch goroutine only.
	pend     pendingTxn
	last     TxnEnd
	lastFrom Position
	hasLast  bool

	ch     chan []prefetched // batches: one channel operation per event would cost more than a row
	pool   *chunkPool
	pres   chan *predecoded  // consumed row buffers, for reuse
	spent  chan []prefetched // consumed batches, for reuse
	cancel context.CancelFunc
	wg     sync.WaitGroup

	batch []prefetched
	next  int
	cur   *prefetched
	err   error
}

// pendingTxn is a transaction whose end is not known yet. Its end usually comes in the events
// read next, before the batch holding its first events is handed over: then no lookahead reads
// anything. A long transaction (a batch fills first) is followed ahead through the file.
type pendingTxn struct {
	active  bool
	file    string
	start   int64 // where the event that opened it starts
	from    int64 // where that event ends: where a lookahead from scratch begins
	sc0, sc txnScan
	items   []int // its events in the batch
}

type prefetched struct {
	ev      *Event
	end     TxnEnd
	endErr  error
	hasEnd  bool
	err     error
	release [][]byte // read buffers that no event after this one points into
	pre     *predecoded
	// evBuf holds the event: it travels with its batch and comes back with it, so that events
	// cost no channel operation of their own.
	evBuf Event
}

var _ Source = (*Prefetcher)(nil)

const (
	// maxPooled bounds the row buffers kept for reuse.
	maxPooled = 64 << 10
	batchLen  = 256
	batchSize = 256 << 10 // bytes of events and decoded rows after which a batch is handed over early
	valueSize = int(unsafe.Sizeof(Value{}))
)

// NewPrefetcher starts reading src, up to depth batches of events ahead. keep says whose rows
// may be decoded ahead (nil: none); it runs on the prefetch goroutine. Close stops it and
// closes src.
func NewPrefetcher(src *FileSource, depth int, keep func(*TableMap) bool) *Prefetcher {
	return StartPrefetch(src, PrefetchOptions{Depth: depth, Decode: keep})
}

// PrefetchOptions configures a Prefetcher.
type PrefetchOptions struct {
	Depth int // batches of events read ahead
	// Decode says whose rows may be decoded ahead (nil: none).
	Decode func(*TableMap) bool
	// Drop says whose rows the consumer never looks at (nil: none). Their rows events inside a
	// transaction are verified (checksum, framing) but neither decoded nor handed over, and of
	// their table maps only the first of each comes through: the consumer still sees every table
	// the binlogs hold. A filtered replay so costs little more than reading the files.
	Drop func(*TableMap) bool
}

// StartPrefetch starts reading src on a goroutine of its own. Decode and Drop run there. Close
// stops it and closes src.
func StartPrefetch(src *FileSource, o PrefetchOptions) *Prefetcher {
	depth, keep := o.Depth, o.Decode
	if depth < 2 {
		depth = 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	// Read buffers in flight are bounded by the bytes of the batches in flight.
	p := &Prefetcher{src: src, keep: keep, ch: make(chan []prefetched, depth), pool: newChunkPool(readBufSize, depth+4),
		pres: make(chan *predecoded, 128), spent: make(chan []prefetched, depth+2),
		cancel: cancel}
	src.pool = p.pool
	if o.Drop != nil {
		p.drop, p.dropID, p.shown = o.Drop, map[uint64]bool{}, map[*TableMap]bool{}
		src.skip = p.skip
	}
	p.wg.Add(1)
	go p.run(ctx)
	return p
}

// chunkPool recycles the read buffers of a FileSource under a Prefetcher. A buffer the reader
// has moved on from is retired: it travels with the next event handed over and comes back when
// the consumer has moved past that event, and so past every event that points into it.
type chunkPool struct {
	size    int
	free    chan []byte
	retired [][]byte // since the last event handed over; prefetch goroutine only
	// handed: an event of the current buffer was handed over. pin: the bytes of an event read
	// but not handed over (yet), which must stay; pinned: a retired buffer holding them. A
	// buffer with neither is free again at once.
	handed bool
	pin    []byte
	pinned []byte

	// Windows of a mapped file (by their first byte): put unmaps them instead of keeping them.
	mu   sync.Mutex
	maps map[*byte]bool
}

// addMap takes a window of a mapped file, to be unmapped by put.
func (c *chunkPool) addMap(b []byte) {
	c.mu.Lock()
	if c.maps == nil {
		c.maps = map[*byte]bool{}
	}
	c.maps[unsafe.SliceData(b)] = true
	c.mu.Unlock()
}

// unmap unmaps b if it is a window of a mapped file.
func (c *chunkPool) unmap(b []byte) bool {
	c.mu.Lock()
	m := c.maps[unsafe.SliceData(b)]
	delete(c.maps, unsafe.SliceData(b))
	c.mu.Unlock()
	if m {
		unmapFile(b)
	}
	return m
}

func newChunkPool(size, n int) *chunkPool {
	return &chunkPool{size: size, free: make(chan []byte, n)}
}

// get returns a buffer of at least n bytes.
func (c *chunkPool) get(n int) []byte {
	if n > c.size {
		return make([]byte, n) // a big event: not kept for reuse
	}
	select {
	case b := <-c.free:
		return b
	default:
	}
	return make([]byte, c.size)
}

// retire takes b, which the reader is done with.
func (c *chunkPool) retire(b []byte) {
	handed := c.handed
	c.handed = false
	switch {
	case handed:
		c.retired = append(c.retired, b)
	case within(c.pin, b):
		c.pinned = b
	default:
		c.put(b) // only dropped events were in it
	}
}

// setPin marks the bytes of the event read last and not handed over (nil: none).
func (c *chunkPool) setPin(raw []byte) {
	c.pin = raw
	if c.pinned != nil && !within(raw, c.pinned) {
		c.put(c.pinned)
		c.pinned = nil
	}
}

// handOverPinned hands the pinned event over after all: its buffer goes with it.
func (c *chunkPool) handOverPinned() {
	c.pin = nil
	if c.pinned != nil {
		c.retired = append(c.retired, c.pinned)
		c.pinned = nil
	} else {
		c.handed = true // it is in the current buffer
	}
}

// within reports whether p lies in b.
func within(p, b []byte) bool {
	if len(p) == 0 || len(b) == 0 {
		return false
	}
	s, e := uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(unsafe.Pointer(unsafe.SliceData(p)))
	return e >= s && e < s+uintptr(len(b))
}

// take returns the buffers retired since the last call.
func (c *chunkPool) take() [][]byte {
	r := c.retired
	c.retired = nil
	return r
}

// put hands back a buffer that no event points into any more.
func (c *chunkPool) put(b []byte) {
	if c.unmap(b) || len(b) != c.size {
		return
	}
	select {
	case c.free <- b:
	default:
	}
}

// skip tells src which events to leave out: rows events of dropped tables inside a transaction.
func (p *Prefetcher) skip(h Header, body []byte, f *format) bool {
	if !p.open {
		return false
	}
	id, ok := rowsTableID(h.Type, body, f)
	return ok && p.dropID[id]
}

// dropped follows the transactions and table maps of the events src hands over, and reports
// whether ev is a table map the consumer has no use for.
func (p *Prefetcher) dropped(ev *Event) bool {
	switch ev.Kind {
	case KindTableMap:
		tm := ev.TableMap
		d := p.drop(tm)
		p.dropID[tm.ID] = d
		if !d || !p.open {
			return false
		}
		if p.shown[tm] {
			return true
		}
		if len(p.shown) > 4096 {
			clear(p.shown)
		}
		p.shown[tm] = true
		return false
	case KindGTID:
		p.open = !ev.GTID.Standalone
	case KindQuery:
		// Dropping stops at anything that may end a transaction.
		kw := ev.Query.Keyword()
		p.open = kw == "BEGIN" || kw == "SAVEPOINT" && p.open
	case KindRows, KindAnnotate, KindIntvar, KindRand, KindUserVar, KindOther:
	default:
		p.open = false
	}
	return false
}

func (p *Prefetcher) run(ctx context.Context) {
	defer p.wg.Done()
	defer close(p.ch)
	// A mapped file that something truncates under pitr faults where its bytes were: an
	// error at the event being read, not a crash (a server never shrinks a binlog it writes).
	debug.SetPanicOnFault(true)
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if f, fault := r.(interface{ Addr() uintptr }); !fault || f.Addr() < 1<<16 {
			panic(r) // not a fault, or a nil pointer: a bug, not the file
		}
		var at Position
		if c := p.src.cur; c != nil {
			at = c.pos()
		}
		err := &PosError{Pos: at, Err: fmt.Errorf("%w: the file shrank while it was read (%v)", ErrTruncated, r)}
		select {
		case p.ch <- []prefetched{{err: err}}:
		case <-ctx.Done():
		}
	}()
	var batch []prefetched
	size := 0
	send := func() bool {
		select {
		case p.ch <- batch:
		case <-ctx.Done():
			return false
		}
		select {
		case batch = <-p.spent:
			batch = batch[:0]
		default:
			batch = make([]prefetched, 0, batchLen+1)
		}
		size = 0
		return true
	}
	batch = make([]prefetched, 0, batchLen+1)
	for {
		// Decoded straight into the batch's next slot: an Event is half a kilobyte, not worth
		// copying per event.
		i := len(batch)
		batch = batch[:i+1]
		it := &batch[i]
		it.ev, it.end, it.endErr, it.hasEnd, it.err, it.release, it.pre = &it.evBuf, TxnEnd{}, nil, false, nil, nil, nil
		p.src.ev = it.ev
		ev, err := p.src.Next(ctx)
		if err != nil {
			batch = batch[:i]
			if p.pend.active {
				if p.src.lastEOF.File == p.pend.file && (p.src.cur == nil || p.src.cur.name != p.pend.file) {
					p.resolve(batch, TxnEnd{End: p.src.lastEOF, Truncated: true}, nil)
				} else {
					sc := p.pend.sc0
					end, err := p.src.scanTxnEnd(ctx, p.pend.from, &sc)
					p.resolve(batch, end, err)
				}
			}
			batch = append(batch, prefetched{err: err})
			send()
			return
		}
		if p.drop != nil && p.dropped(ev) {
			batch = batch[:i] // the slot is reused
			continue
		}
		if p.pend.active {
			p.follow(ctx, ev, batch)
		}
		p.pool.handed = true
		if ev != it.ev {
			it.evBuf = *ev
		}
		switch ev.Kind {
		case KindGTID, KindRows:
			it.hasEnd = true
		case KindQuery:
			kw := ev.Query.Keyword()
			it.hasEnd = kw != "COMMIT" && kw != "ROLLBACK" && kw != "SAVEPOINT"
		}
		join := false
		if it.hasEnd {
			switch {
			case p.pend.active:
				join = true
			case p.hasLast && ev.Pos.File == p.last.End.File && ev.Pos.Offset >= p.lastFrom.Offset && ev.Pos.Offset < p.last.End.Offset:
				it.end = p.last
			case p.src.inner || p.src.cur == nil || p.src.cur.stream:
				it.end, it.endErr = p.src.PeekTxnEnd(ctx)
			default:
				sc, end, done := startScan(ev)
				if done {
					it.end = end
				} else {
					p.pend = pendingTxn{active: true, file: ev.Pos.File, start: ev.Pos.Offset, from: ev.End, sc0: sc, sc: sc, items: p.pend.items[:0]}
					join = true
				}
			}
		}
		// After the lookahead, which may also move on to a fresh buffer.
		it.release = p.pool.take()
		// Decode rows ahead while the consumer is behind (a batch waits for it): when it waits,
		// handing events over sooner is worth more, and it decodes them itself. The split of
		// the work adapts to where the time goes; the output does not change. Waiting for the
		// queue to be half full instead (of 4 batches) left the renderer decoding rows while
		// this goroutine had time: an unfiltered replay of the 335 MiB bench binlogs takes 0.80
		// to 0.86 of the time this way, with 8 batches (farm-bench, 7 and 9 pairs).
		if ev.Kind == KindRows && p.keep != nil && len(p.ch) >= 1 && p.keep(ev.Rows.Table) {
			var pre *predecoded
			select {
			case pre = <-p.pres:
			default:
				pre = new(predecoded)
			}
			// String values point into the event's bytes, which are released only when the
			// consumer moves past the event.
			ev.Rows.predecodeInto(pre)
			it.pre = pre
			size += len(pre.values)*valueSize + len(pre.arena)
		}
		if join {
			p.pend.items = append(p.pend.items, len(batch)-1)
		}
		size += len(ev.Body)
		if len(batch) == batchLen || size >= batchSize {
			if p.pend.active {
				// A long transaction: follow it through the file from where reading is.
				sc := p.pend.sc
				end, err := p.src.scanTxnEnd(ctx, p.src.cur.off, &sc)
				p.resolve(batch, end, err)
			}
			if !send() {
				return
			}
		}
	}
}

// follow feeds ev, read after the events of the pending transaction, to its lookahead.
func (p *Prefetcher) follow(ctx context.Context, ev *Event, batch []prefetched) {
	switch {
	case ev.Pos.File != p.pend.file:
		// Its file ended first.
		p.resolve(batch, TxnEnd{End: p.src.lastEOF, Truncated: true}, nil)
	case p.src.inner:
		// Events out of a payload carry the payload's position: look ahead as FileSource does.
		sc := p.pend.sc0
		end, err := p.src.scanTxnEnd(ctx, p.pend.from, &sc)
		p.resolve(batch, end, err)
	default:
		kw := ""
		if ev.Header.Type == replication.QUERY_EVENT {
			kw = ev.Query.Keyword()
		}
		if end, done := p.pend.sc.step(ev.Header, kw, ev.Pos); done {
			p.resolve(batch, end, nil)
		}
	}
}

// resolve gives the events of the pending transaction its end.
func (p *Prefetcher) resolve(batch []prefetched, end TxnEnd, err error) {
	for _, i := range p.pend.items {
		batch[i].end, batch[i].endErr = end, err
	}
	p.last, p.lastFrom, p.hasLast = end, Position{File: p.pend.file, Offset: p.pend.start}, err == nil
	p.pend.active, p.pend.items = false, p.pend.items[:0]
}

// Next implements Source. The event is valid until the next call.
func (p *Prefetcher) Next(ctx context.Context) (*Event, error) {
	if p.err != nil {
		return nil, p.err
	}
	p.recycle()
	if p.next >= len(p.batch) {
		if p.batch != nil {
			select {
			case p.spent <- p.batch:
			default:
			}
			p.batch = nil
		}
		select {
		case b, ok := <-p.ch:
			if !ok {
				p.err = context.Canceled
				return nil, p.err
			}
			p.batch, p.next = b, 0
		case <-ctx.Done():
			p.err = ctx.Err()
			return nil, p.err
		}
	}
	it := &p.batch[p.next]
	p.next++
	if it.err != nil {
		p.err = it.err
		return nil, it.err
	}
	p.cur = it
	return it.ev, nil
}

// recycle hands the buffers of the event last returned back to the prefetch goroutine.
func (p *Prefetcher) recycle() {
	if p.cur == nil {
		return
	}
	for _, b := range p.cur.release {
		p.pool.put(b)
	}
	if pre := p.cur.pre; pre != nil && cap(pre.arena) <= 4*maxPooled {
		select {
		case p.pres <- pre:
		default:
		}
	}
	p.cur = nil
}

// PeekTxnEnd implements the lookahead of FileSource for the event last returned by Next.
func (p *Prefetcher) PeekTxnEnd(context.Context) (TxnEnd, error) {
	if p.cur == nil || !p.cur.hasEnd {
		var at Position
		if p.cur != nil && p.cur.ev != nil {
			at = p.cur.ev.Pos
		}
		return TxnEnd{}, &PosError{Pos: at, Err: errNoLookahead}
	}
	return p.cur.end, p.cur.endErr
}

// Files returns the paths the source reads, in order.
func (p *Prefetcher) Files() []string { return p.src.Files() }

// Close stops the goroutine and closes the source.
func (p *Prefetcher) Close() error {
	p.cancel()
	for range p.ch {
	}
	p.wg.Wait()
	return p.src.Close()
}
