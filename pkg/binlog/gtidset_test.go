package binlog

import "testing"

func TestGTIDSet(t *testing.T) {
	u1 := "3e11fa47-71ca-11e1-9e33-c80aa9429562"
	sid1, _ := parseUUID(u1)
	sid2, _ := parseUUID("55778904-0299-11f1-b1b8-4ef0c4956feb")
	my := func(sid [16]byte, tag string, n int64) GTID { return GTID{SID: sid, Tag: tag, GNO: n} }
	ma := func(d, s uint32, n uint64) GTID { return GTID{MariaDB: true, Domain: d, ServerID: s, Seq: n} }
	cases := []struct {
		set      string
		in, out  []GTID
		has, not []GTID
		bad      bool
	}{
		{set: u1 + ":1-5:7", in: []GTID{my(sid1, "", 1), my(sid1, "", 5), my(sid1, "", 7)}, out: []GTID{my(sid1, "", 6), my(sid1, "", 8), my(sid2, "", 1), my(sid1, "x", 1)}},
		{set: u1 + ":1-3,\n 55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3:4-6", in: []GTID{my(sid2, "mytag", 3), my(sid2, "mytag", 6), my(sid1, "", 2)}, out: []GTID{my(sid2, "", 3), my(sid2, "mytag", 2)}},
		{set: u1 + ":1-2:tg:5", in: []GTID{my(sid1, "", 2), my(sid1, "tg", 5)}, out: []GTID{my(sid1, "", 5), my(sid1, "tg", 2)}},
		{set: "0-1-100,1-2-7", in: []GTID{ma(0, 1, 100), ma(0, 9, 3), ma(1, 2, 7)}, out: []GTID{ma(0, 1, 101), ma(2, 1, 1), ma(1, 2, 8)},
			has: []GTID{ma(0, 1, 100), ma(1, 2, 7)}, not: []GTID{ma(0, 1, 99), ma(0, 2, 100)}},
		{set: "", out: []GTID{ma(0, 1, 1), my(sid1, "", 1)}},
		{set: u1, bad: true},
		{set: u1 + ":0", bad: true},
		{set: u1 + ":5-3", bad: true},
		{set: "not-a-uuid:1", bad: true},
		{set: "0-1-x", bad: true},
		{set: "0-1-5," + u1 + ":1", bad: true},
	}
	for _, tc := range cases {
		s, err := ParseGTIDSet(tc.set)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseGTIDSet(%q): want an error", tc.set)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ParseGTIDSet(%q): %v", tc.set, err)
		}
		for _, g := range tc.in {
			if !s.Contains(g) {
				t.Errorf("%q should contain %s", tc.set, g)
			}
		}
		for _, g := range tc.out {
			if s.Contains(g) {
				t.Errorf("%q should not contain %s", tc.set, g)
			}
		}
		for _, g := range tc.has {
			if !s.Has(g) {
				t.Errorf("%q should have exactly %s", tc.set, g)
			}
		}
		for _, g := range tc.not {
			if s.Has(g) {
				t.Errorf("%q should not have exactly %s", tc.set, g)
			}
		}
	}
}
