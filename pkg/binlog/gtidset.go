package binlog

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// GTIDSet is a set of transaction identifiers as users write them: MySQL's
// "uuid:1-5:7,uuid2[:tag]:1-9" (tags from 8.3) or MariaDB's "0-1-100,1-2-7".
//
// A MariaDB entry D-S-N stands for domain D up to and including sequence number N, from any
// server, as gtid_binlog_pos and gtid_slave_pos use it; Has matches it exactly instead.
type GTIDSet struct {
	mysql map[[16]byte]map[string][]interval // uuid → tag ("" untagged) → sorted intervals
	maria map[uint32]GTID                    // domain → highest GTID
	text  string
}

type interval struct{ lo, hi int64 } // inclusive

func (s *GTIDSet) String() string { return s.text }

// IsEmpty reports whether the set names no transaction.
func (s *GTIDSet) IsEmpty() bool { return s == nil || len(s.mysql) == 0 && len(s.maria) == 0 }

// ParseGTIDSet reads a MySQL GTID set or a MariaDB GTID list. Whitespace and newlines (as in
// mysqldump's SET @@GLOBAL.GTID_PURGED) are ignored.
func ParseGTIDSet(text string) (*GTIDSet, error) {
	s := &GTIDSet{text: strings.Join(strings.Fields(text), "")}
	if s.text == "" {
		return s, nil
	}
	for _, part := range strings.Split(s.text, ",") {
		if part == "" {
			continue
		}
		if isMariaGTID(part) {
			g, err := parseMariaGTID(part)
			if err != nil {
				return nil, err
			}
			if s.maria == nil {
				s.maria = map[uint32]GTID{}
			}
			if old, ok := s.maria[g.Domain]; !ok || g.Seq > old.Seq {
				s.maria[g.Domain] = g
			}
			continue
		}
		if err := s.addMySQL(part); err != nil {
			return nil, err
		}
	}
	if s.mysql != nil && s.maria != nil {
		return nil, fmt.Errorf("GTID set %q mixes MySQL and MariaDB GTIDs", text)
	}
	for _, tags := range s.mysql {
		for tag, ivs := range tags {
			sort.Slice(ivs, func(i, j int) bool { return ivs[i].lo < ivs[j].lo })
			tags[tag] = ivs
		}
	}
	return s, nil
}

func isMariaGTID(p string) bool {
	return strings.Count(p, "-") == 2 && strings.Trim(p, "0123456789-") == ""
}

func parseMariaGTID(p string) (GTID, error) {
	f := strings.Split(p, "-")
	d, err1 := strconv.ParseUint(f[0], 10, 32)
	sv, err2 := strconv.ParseUint(f[1], 10, 32)
	n, err3 := strconv.ParseUint(f[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return GTID{}, fmt.Errorf("MariaDB GTID %q: want domain-server-sequence", p)
	}
	return GTID{MariaDB: true, Domain: uint32(d), ServerID: uint32(sv), Seq: n}, nil
}

func (s *GTIDSet) addMySQL(part string) error {
	fields := strings.Split(part, ":")
	sid, err := parseUUID(fields[0])
	if err != nil {
		return fmt.Errorf("GTID set element %q: neither MySQL uuid:interval nor MariaDB domain-server-sequence", part)
	}
	if len(fields) < 2 {
		return fmt.Errorf("GTID set element %q: want uuid:interval[:interval...]", part)
	}
	if s.mysql == nil {
		s.mysql = map[[16]byte]map[string][]interval{}
	}
	if s.mysql[sid] == nil {
		s.mysql[sid] = map[string][]interval{}
	}
	tag := ""
	for _, f := range fields[1:] {
		if f == "" {
			return fmt.Errorf("GTID set element %q: empty interval", part)
		}
		if f[0] < '0' || f[0] > '9' {
			tag = strings.ToLower(f)
			continue
		}
		lo, hi, ok := strings.Cut(f, "-")
		a, err := strconv.ParseInt(lo, 10, 64)
		if err != nil || a < 1 {
			return fmt.Errorf("GTID set element %q: bad interval %q", part, f)
		}
		b := a
		if ok {
			if b, err = strconv.ParseInt(hi, 10, 64); err != nil || b < a {
				return fmt.Errorf("GTID set element %q: bad interval %q", part, f)
			}
		}
		s.mysql[sid][tag] = append(s.mysql[sid][tag], interval{a, b})
	}
	return nil
}

func parseUUID(s string) ([16]byte, error) {
	var u [16]byte
	h := strings.ReplaceAll(s, "-", "")
	if len(h) != 32 || len(s) != 36 {
		return u, fmt.Errorf("bad server uuid %q", s)
	}
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return u, fmt.Errorf("bad server uuid %q", s)
	}
	return u, nil
}

// Contains reports whether g is in the set: for MariaDB, whether the set has reached g's
// sequence number in g's domain.
func (s *GTIDSet) Contains(g GTID) bool {
	if s == nil {
		return false
	}
	if g.MariaDB {
		e, ok := s.maria[g.Domain]
		return ok && g.Seq <= e.Seq
	}
	for _, iv := range s.mysql[g.SID][g.Tag] {
		if g.GNO >= iv.lo && g.GNO <= iv.hi {
			return true
		}
	}
	return false
}

// Has reports whether the set names g itself: for MariaDB the same domain, server and sequence.
func (s *GTIDSet) Has(g GTID) bool {
	if s == nil {
		return false
	}
	if g.MariaDB {
		e, ok := s.maria[g.Domain]
		return ok && e.Seq == g.Seq && e.ServerID == g.ServerID
	}
	return s.Contains(g)
}
