package restore

import (
	"bytes"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// appendJSONDiff writes the expression that turns column c's current document into the after
// image of a partial JSON update: the diffs applied to the column in logged order, innermost
// first. Only an UPDATE's SET uses it, where the column still holds the before
// image's document. Values are given as CAST('<json text>' AS JSON), so that a string, a number
// or a literal keeps its JSON type exactly.
//
// An INSERT diff adds an object member or, when its path ends in an array cell, inserts before
// that element, shifting the rest (Json_diff::apply in sql/json_diff.cc): JSON_INSERT would
// do nothing for an existing cell, so such paths take JSON_ARRAY_INSERT, which also appends
// past the end like the diff does.
func appendJSONDiff(dst []byte, c *binlog.Column, text []byte) []byte {
	var opsBuf [16]binlog.JSONDiffOp
	ops := opsBuf[:0]
	for rest := text; ; {
		op, path, _, next, ok := binlog.NextJSONDiff(rest)
		if !ok {
			break
		}
		if op == binlog.JSONInsert && bytes.HasSuffix(path, []byte("]")) {
			op = jsonArrayInsert
		}
		ops = append(ops, op)
		rest = next
	}
	for i := len(ops) - 1; i >= 0; i-- {
		switch ops[i] {
		case binlog.JSONReplace:
			dst = append(dst, "JSON_REPLACE("...)
		case binlog.JSONInsert:
			dst = append(dst, "JSON_INSERT("...)
		case jsonArrayInsert:
			dst = append(dst, "JSON_ARRAY_INSERT("...)
		default:
			dst = append(dst, "JSON_REMOVE("...)
		}
	}
	dst = appendIdent(dst, c.Name)
	for rest := text; ; {
		op, path, value, next, ok := binlog.NextJSONDiff(rest)
		if !ok {
			break
		}
		dst = append(dst, ", "...)
		dst = appendQuoted(dst, path)
		if op != binlog.JSONRemove {
			dst = append(dst, ", CAST("...)
			dst = appendQuoted(dst, value)
			dst = append(dst, " AS JSON)"...)
		}
		dst = append(dst, ')')
		rest = next
	}
	return dst
}

// jsonArrayInsert marks an INSERT diff into an array, rendered with JSON_ARRAY_INSERT.
const jsonArrayInsert binlog.JSONDiffOp = 0xff
