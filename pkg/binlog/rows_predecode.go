package binlog

import "slices"

// predecoded holds every row of a rows event, decoded ahead of use into memory the Rows owns.
type predecoded struct {
	kind   RowsKind
	rows   int
	next   int
	width  int     // values per row: one image, or two for updates
	values []Value // rows*width values; Text points into arena (or an array it grew out of)
	arena  []byte
	err    error // what decoding the row after the last one said
}

// Predecode decodes all remaining rows now (up to the first that fails to decode). Afterwards More and Next hand them out without
// decoding, and the values stay valid until the Rows is dropped, not just until the next row.
// A Prefetcher calls it on its own goroutine, so that decoding overlaps rendering.
func (r *Rows) Predecode() { r.predecodeInto(&predecoded{}) }

// predecodeInto reuses p's buffers, which a Prefetcher recycles from events already consumed.
// Rows are decoded straight into p.values, and the text they decode stays where it is: the
// scratch buffer is not reset between rows but becomes the arena (when appending moves it,
// the values before keep the old array). Copying each row's values out, as this did before,
// was half the cost of predecoding.
func (r *Rows) predecodeInto(p *predecoded) {
	if r.pre != nil {
		return
	}
	n := len(r.Table.Columns)
	*p = predecoded{kind: r.Kind, width: n, values: p.values[:0], arena: p.arena[:0]}
	if r.Kind == Update {
		p.width *= 2
	}
	scratch := r.scratch
	r.scratch = p.arena
	for r.More() {
		k := len(p.values)
		p.values = slices.Grow(p.values, p.width)[:k+p.width]
		row := p.values[k:]
		before, after := row, row
		if r.Kind == Update {
			before, after = row[:n], row[n:]
		}
		if _, _, err := r.decodeRow(before, after); err != nil {
			// Handed out after the rows before it, where decoding on demand would have failed.
			p.values = p.values[:k]
			p.err = err
			break
		}
		p.rows++
	}
	p.arena = r.scratch
	r.scratch = scratch[:0]
	r.pre = p
}

func (p *predecoded) more() bool { return p.next < p.rows || p.err != nil }

func (p *predecoded) row() (before, after []Value, err error) {
	if p.next >= p.rows {
		err, p.err = p.err, nil
		return nil, nil, err
	}
	vals := p.values[p.next*p.width : (p.next+1)*p.width]
	p.next++
	// The layout follows Rows.Next: inserts have only an after image, deletes only a before
	// image, updates both, in that order.
	switch p.kind {
	case Insert:
		return nil, vals, nil
	case Delete:
		return vals, nil, nil
	}
	h := len(vals) / 2
	return vals[:h], vals[h:], nil
}
