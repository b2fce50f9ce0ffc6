package restore

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// sliceSource yields prepared events.
type sliceSource struct{ evs []binlog.Event }

func (s *sliceSource) Next(context.Context) (*binlog.Event, error) {
	if len(s.evs) == 0 {
		return nil, io.EOF
	}
	ev := &s.evs[0]
	s.evs = s.evs[1:]
	return ev, nil
}
func (s *sliceSource) Close() error { return nil }

// ddlEvents is a MariaDB binlog of standalone DDL statements, one transaction each.
func ddlEvents(stmts ...string) []binlog.Event {
	var evs []binlog.Event
	pos := int64(256)
	for i, q := range stmts {
		evs = append(evs,
			binlog.Event{Pos: binlog.Position{File: "mysql-bin.000001", Offset: pos}, End: pos + 40, Kind: binlog.KindGTID,
				GTID: binlog.GTID{MariaDB: true, Domain: 0, ServerID: 1, Seq: uint64(i + 1), Standalone: true}},
			binlog.Event{Pos: binlog.Position{File: "mysql-bin.000001", Offset: pos + 40}, End: pos + 200, Kind: binlog.KindQuery,
				Query: binlog.Query{Schema: "shop", SQL: []byte(q)}})
		pos += 200
	}
	return evs
}

// TestUnparsedDDLSameRule: find and replay treat DDL the parser cannot read alike: an error
// when it names a kept table, passed (with a warning) when it names none; with every table
// kept, replay writes it and find lists it.
func TestUnparsedDDLSameRule(t *testing.T) {
	bad := "ALTER TABLE shop.orders FROBNICATE EVERYTHING"
	evs := func() []binlog.Event {
		return ddlEvents("CREATE TABLE shop.orders (id INT PRIMARY KEY)", "CREATE TABLE crm.people (id INT PRIMARY KEY)", bad)
	}
	for _, tc := range []struct {
		name    string
		tables  []string
		wantErr bool
	}{
		{"names a kept table", []string{"shop.orders"}, true},
		{"names no kept table", []string{"crm.people"}, false},
		{"every table kept", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := func() *Filter { return mustFilter(t, nil, tc.tables, nil, nil) }
			found, ferr := Find(context.Background(), &sliceSource{evs()}, FindOptions{Filter: f(), Rows: 1})
			_, rerr := Run(context.Background(), &sliceSource{evs()}, NewSQLWriter(io.Discard), Config{Filter: f()})
			for what, err := range map[string]error{"find": ferr, "replay": rerr} {
				if tc.wantErr != (err != nil) || err != nil && !strings.Contains(err.Error(), "FROBNICATE") {
					t.Errorf("%s: error %v, want an error naming the statement: %v", what, err, tc.wantErr)
				}
			}
			listed := false
			for _, x := range found {
				listed = listed || x.What == "UNPARSED DDL"
			}
			if listed != (tc.tables == nil) {
				t.Errorf("find listed UNPARSED DDL: %v, want %v (%v)", listed, tc.tables == nil, found)
			}
		})
	}
}
