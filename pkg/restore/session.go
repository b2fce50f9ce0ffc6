package restore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// session tracks the target session's settings, so that each logged statement runs under the
// settings it ran under on the source and the statements pitr writes for row events under
// pitr's own (SessionStatements). A setting is written only when it changes.
type session struct {
	sink Sink
	cur  map[string]string // setting → value last written
	base map[string]string // setting → pitr's value
	stmt map[string]string // setting → pitr's statement that sets it
	keys []string          // settings with a pitr value, in SessionStatements order
	// sourceTZ replaces a statement's time_zone SYSTEM (the source's system zone, which the
	// binlog does not name); "" stops at such a statement.
	sourceTZ string
	noFK     bool // foreign_key_checks stays 0 (RenderOptions.NoForeignKeyChecks)
	extra    bool // cur may hold settings that base has not
}

// Settings that pitr's session has at the server's defaults without setting them; a logged
// statement may change them, and they are set back before pitr's own statements.
var sessionDefaults = []struct{ key, value string }{
	{"sql_auto_is_null", "0"},
	{"auto_increment_increment", "1"},
	{"auto_increment_offset", "1"},
	{"lc_time_names", "0"},
	{"collation_database", "DEFAULT"},
	{"check_constraint_checks", "1"},
	{"sql_if_exists", "0"},
	{"system_versioning_insert_history", "0"},
	// TIMESTAMP columns of row events are always written, but the checkpoint's applied_at is
	// the target's clock.
	{"timestamp", "DEFAULT"},
}

func newSession(sink Sink, stmts []string, sourceTZ string) *session {
	s := &session{sink: sink, cur: map[string]string{}, base: map[string]string{}, stmt: map[string]string{}, sourceTZ: sourceTZ}
	for _, st := range stmts {
		key, value := "", ""
		body := strings.TrimSpace(st[len("SET "):])
		if strings.HasPrefix(strings.ToUpper(body), "NAMES ") {
			key, value = "names", "NAMES"
		} else if k, v, ok := strings.Cut(body, "="); ok {
			key, value = sessionKey(k), strings.TrimSpace(v)
		} else {
			continue
		}
		s.base[key], s.cur[key], s.stmt[key] = value, value, st
		s.keys = append(s.keys, key)
	}
	for _, d := range sessionDefaults {
		if _, ok := s.base[d.key]; !ok {
			s.base[d.key], s.cur[d.key], s.stmt[d.key] = d.value, d.value, "SET @@session."+d.key+"="+d.value
			if d.key == "timestamp" {
				s.stmt[d.key] = "SET TIMESTAMP=DEFAULT"
			}
			s.keys = append(s.keys, d.key)
		}
	}
	return s
}

func sessionKey(k string) string {
	k = strings.ToLower(strings.TrimSpace(k))
	k = strings.TrimPrefix(k, "@@session.")
	return strings.TrimPrefix(k, "session ")
}

// begin starts a transaction's settings from pitr's: the settings pitr has no value of its own
// for are written again by the first statement that needs them, so that what a transaction
// writes does not depend on the transactions before it (a resumed run, a later start position).
func (s *session) begin() {
	if !s.extra {
		return // a filtered replay opens many transactions that write nothing
	}
	s.extra = false
	for k := range s.cur {
		if _, ok := s.base[k]; !ok {
			delete(s.cur, k)
		}
	}
}

// changed reports whether a logged statement left a setting that is not pitr's.
func (s *session) changed() bool {
	for _, k := range s.keys {
		if s.cur[k] != s.base[k] {
			return true
		}
	}
	return false
}

// pitrs sets back every setting a logged statement changed, before a statement of pitr's own
// and at the end of each transaction.
func (s *session) pitrs(ctx context.Context) error {
	for _, k := range s.keys {
		if s.cur[k] != s.base[k] {
			if err := s.sink.Write(ctx, []byte(s.stmt[k])); err != nil {
				return err
			}
			s.cur[k] = s.base[k]
		}
	}
	return nil
}

// set writes one SET for the settings whose values differ from the target's: pairs of key and
// value.
func (s *session) set(ctx context.Context, kv ...string) error {
	var b []byte
	for i := 0; i+1 < len(kv); i += 2 {
		k, v := kv[i], kv[i+1]
		if cur, ok := s.cur[k]; ok && cur == v {
			continue
		}
		if _, ok := s.base[k]; !ok {
			s.extra = true
		}
		s.cur[k] = v
		if b == nil {
			b = []byte("SET ")
		} else {
			b = append(b, ", "...)
		}
		if k == "names" {
			// The value is the three assignments themselves.
			b = append(b, v...)
			continue
		}
		if k == "timestamp" {
			b = append(b, "TIMESTAMP="...)
		} else {
			b = append(b, "@@session."...)
			b = append(b, k...)
			b = append(b, '=')
		}
		b = append(b, v...)
	}
	if b == nil {
		return nil
	}
	return s.sink.Write(ctx, b)
}

// MariaDB and MySQL flags2 bits (OPTIONS_WRITTEN_TO_BIN_LOG).
const (
	optAutoIsNull          = 1 << 14
	optNoCheckConstraints  = 1 << 15 // MariaDB
	optNotAutocommit       = 1 << 19
	optExplicitDefTS       = 1 << 24 // MariaDB
	optNoForeignKeyChecks  = 1 << 26
	optRelaxedUniqueChecks = 1 << 27
	optIfExists            = 1 << 28 // MariaDB
	optInsertHistory       = 1 << 30 // MariaDB
)

func onOff(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// statement writes the settings the statement of ev ran under on the source, where they differ
// from the target session's. autocommit is left alone: pitr writes every transaction's BEGIN and
// COMMIT itself.
func (s *session) statement(ctx context.Context, ev *binlog.Event) error {
	c := &ev.Query.Ctx
	if c.Unknown != 0 {
		return fmt.Errorf("the statement carries a session setting (status variable %d) pitr does not know, so it cannot be replayed as the source ran it", c.Unknown)
	}
	ts := strconv.FormatUint(uint64(ev.Header.Timestamp), 10)
	if c.HasMicros {
		ts += fmt.Sprintf(".%06d", c.Micros)
	}
	kv := []string{"timestamp", ts, "pseudo_thread_id", strconv.FormatUint(uint64(c.Thread), 10)}
	if c.HasFlags2 {
		f := c.Flags2
		kv = append(kv, "foreign_key_checks", onOff(f&optNoForeignKeyChecks == 0 && !s.noFK), "sql_auto_is_null", onOff(f&optAutoIsNull != 0),
			"unique_checks", onOff(f&optRelaxedUniqueChecks == 0))
		if c.MariaDB {
			kv = append(kv, "check_constraint_checks", onOff(f&optNoCheckConstraints == 0), "sql_if_exists", onOff(f&optIfExists != 0),
				"explicit_defaults_for_timestamp", onOff(f&optExplicitDefTS != 0), "system_versioning_insert_history", onOff(f&optInsertHistory != 0))
		}
	}
	if c.HasSQLMode {
		m, err := sqlModeNames(c.SQLMode, c.MariaDB)
		if err != nil {
			return err
		}
		kv = append(kv, "sql_mode", m)
	}
	inc, off := uint16(1), uint16(1)
	if c.HasAutoIncrement {
		inc, off = c.AutoIncIncrement, c.AutoIncOffset
	}
	kv = append(kv, "auto_increment_increment", strconv.Itoa(int(inc)), "auto_increment_offset", strconv.Itoa(int(off)))
	if c.HasCharset {
		kv = append(kv, "names", fmt.Sprintf("@@session.character_set_client=%d, @@session.collation_connection=%d, @@session.collation_server=%d",
			c.CharsetClient, c.CollationConnection, c.CollationServer))
	}
	if c.TimeZone != "" {
		tz := c.TimeZone
		if strings.EqualFold(tz, "SYSTEM") {
			if s.sourceTZ == "" {
				return fmt.Errorf("the statement used the source's time_zone SYSTEM, its operating system's zone, which the binlog does not name; pass --source-time-zone with that zone (SELECT @@system_time_zone on the source; an offset like +02:00 or a name the target's time zone tables hold), or --source-time-zone=SYSTEM when the target's system zone is the same")
			}
			tz = s.sourceTZ
		}
		if strings.EqualFold(tz, "SYSTEM") {
			kv = append(kv, "time_zone", "SYSTEM")
		} else {
			kv = append(kv, "time_zone", string(appendQuoted(nil, []byte(tz))))
		}
	}
	kv = append(kv, "lc_time_names", strconv.Itoa(int(c.LCTimeNames)))
	if c.CollationDatabase != 0 {
		kv = append(kv, "collation_database", strconv.Itoa(int(c.CollationDatabase)))
	} else {
		kv = append(kv, "collation_database", "DEFAULT")
	}
	if c.ExplicitDefaults >= 0 {
		kv = append(kv, "explicit_defaults_for_timestamp", onOff(c.ExplicitDefaults != 0))
	}
	return s.set(ctx, kv...)
}

// sqlModeNames spells out an sql_mode bit mask: names mean the same on MySQL and MariaDB where
// numbers do not (bit 32 is TIME_TRUNCATE_FRACTIONAL on MySQL, EMPTY_STRING_IS_NULL on MariaDB).
func sqlModeNames(mode uint64, mariaDB bool) (string, error) {
	names := []string{"REAL_AS_FLOAT", "PIPES_AS_CONCAT", "ANSI_QUOTES", "IGNORE_SPACE", "", "ONLY_FULL_GROUP_BY",
		"NO_UNSIGNED_SUBTRACTION", "NO_DIR_IN_CREATE", "POSTGRESQL", "ORACLE", "MSSQL", "DB2", "MAXDB", "NO_KEY_OPTIONS",
		"NO_TABLE_OPTIONS", "NO_FIELD_OPTIONS", "MYSQL323", "MYSQL40", "ANSI", "NO_AUTO_VALUE_ON_ZERO", "NO_BACKSLASH_ESCAPES",
		"STRICT_TRANS_TABLES", "STRICT_ALL_TABLES", "NO_ZERO_IN_DATE", "NO_ZERO_DATE", "ALLOW_INVALID_DATES",
		"ERROR_FOR_DIVISION_BY_ZERO", "TRADITIONAL", "NO_AUTO_CREATE_USER", "HIGH_NOT_PRECEDENCE", "NO_ENGINE_SUBSTITUTION",
		"PAD_CHAR_TO_FULL_LENGTH"}
	if mariaDB {
		names = append(names, "EMPTY_STRING_IS_NULL", "SIMULTANEOUS_ASSIGNMENT", "TIME_ROUND_FRACTIONAL")
	} else {
		names = append(names, "TIME_TRUNCATE_FRACTIONAL")
	}
	var out []string
	for i := 0; i < 64; i++ {
		if mode&(1<<i) == 0 {
			continue
		}
		if i >= len(names) || names[i] == "" {
			return "", fmt.Errorf("the statement's sql_mode %#x has bit %d, which pitr cannot name", mode, i)
		}
		out = append(out, names[i])
	}
	return "'" + strings.Join(out, ",") + "'", nil
}
