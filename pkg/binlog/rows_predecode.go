package binlog

// predecoded holds every row of a rows event, decoded ahead of use into memory the Rows owns.
type predecoded struct {
	kind   RowsKind
	rows   int
	next   int
	width  int     // values per row: one image, or two for updates
	values []Value // rows*width values; Text points into arena
	arena  []byte
	spans  []uint64 // per value: arena offset << 32 | length, while arena still grows
	err    error    // what decoding the row after the last one said
}

// Predecode decodes all remaining rows now (up to the first that fails to decode). Afterwards More and Next hand them out without
// decoding, and the values stay valid until the Rows is dropped, not just until the next row.
// A Prefetcher calls it on its own goroutine, so that decoding overlaps rendering.
func (r *Rows) Predecode() { r.predecodeInto(&predecoded{}) }

// predecodeInto reuses p's buffers, which a Prefetcher recycles from events already consumed.
func (r *Rows) predecodeInto(p *predecoded) {
	if r.pre != nil {
		return
	}
	*p = predecoded{kind: r.Kind, width: len(r.Table.Columns), values: p.values[:0], arena: p.arena[:0], spans: p.spans[:0]}
	if r.Kind == Update {
		p.width *= 2
	}
	add := func(vals []Value) {
		for _, v := range vals {
			if !v.Kind.inScratch() {
				// Stored bytes point into the event, which lives as long as these rows.
				p.spans = append(p.spans, 0)
				p.values = append(p.values, v)
				continue
			}
			off := len(p.arena)
			p.arena = append(p.arena, v.Text...)
			p.spans = append(p.spans, uint64(off)<<32|uint64(len(v.Text)))
			v.Text = nil
			p.values = append(p.values, v)
		}
	}
	for r.More() {
		before, after, err := r.Next()
		if err != nil {
			// Handed out after the rows before it, where decoding on demand would have failed.
			p.err = err
			break
		}
		add(before)
		add(after)
		p.rows++
	}
	for i, sp := range p.spans {
		if n := uint32(sp); n > 0 && p.values[i].Kind.inScratch() {
			off := sp >> 32
			p.values[i].Text = p.arena[off : off+uint64(n) : off+uint64(n)]
		}
	}
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

// inScratch reports whether values of kind k hold text decoded into the row's scratch buffer,
// which the next row reuses, rather than bytes of the event itself.
func (k ValueKind) inScratch() bool {
	switch k {
	case ValInt, ValFloat, ValDecimal, ValTemporal, ValYear, ValJSON, ValJSONDiff:
		return true
	}
	return false
}
