package main

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/pitr-tool/pitr/pkg/binlog"
	"github.com/pitr-tool/pitr/pkg/restore"
)

// resolveFilePositions completes the window's positions against the binlog files read: a start
// or stop given as a path names the file by its base name, a bare stop offset is refused when
// several files make it ambiguous, and a window that ends where or before it starts is an
// error. cfg.Window.Start must already hold the start (File "" meaning the first file).
func resolveFilePositions(w *restore.Window, files []string) error {
	if len(files) == 0 {
		return nil
	}
	first := binlog.FileName(files[0])
	if w.Start.File == "" {
		w.Start.File = first
	} else if i := binlog.FileIndex(files, w.Start.File); i >= 0 {
		w.Start.File = binlog.FileName(files[i])
	}
	if w.Start.Offset < 4 {
		w.Start.Offset = 4
	}
	if stop := w.StopPos; !stop.IsZero() {
		if stop.File == "" {
			if len(files) > 1 {
				return usagef(fmt.Errorf("--stop-position %d is ambiguous with %d binlog files (mysqlbinlog takes it in the last file, pitr once took it in the first): give FILE:POS, e.g. --stop-position %s:%d or --stop-position %s:%d",
					stop.Offset, len(files), binlog.FileName(files[len(files)-1]), stop.Offset, first, stop.Offset))
			}
			w.StopPos.File = first
		} else {
			i := binlog.FileIndex(files, stop.File)
			if i < 0 {
				return usagef(fmt.Errorf("--stop-position %s: file %s is not among the binlogs given", stop, stop.File))
			}
			w.StopPos.File = binlog.FileName(files[i])
		}
		if !w.Start.Before(w.StopPos) {
			from := "the start"
			if w.StartFrom != "" {
				from = "the start (" + w.StartFrom + ")"
			}
			return usagef(fmt.Errorf("--stop-position %s is not after %s %s: the window would hold nothing", w.StopPos, from, w.Start))
		}
	}
	return nil
}

// windowLines describe the window as resolved, for the SQL header and the stderr summary.
func windowLines(w restore.Window, loc *time.Location) []string {
	start := "window start: " + w.Start.String()
	switch {
	case w.Start.IsZero() && w.StartFrom != "":
		start = "window start: " + w.StartFrom // a stream's start, found by the server
	case w.StartFrom != "":
		start += " (" + w.StartFrom + ")"
	case w.Start.IsZero():
		start = "window start: the first event the source sends"
	default:
		start += " (the start of the first binlog)"
	}
	lines := []string{start}
	if !w.StartTime.IsZero() {
		lines = append(lines, "window start time: transactions committed at or after "+showTime(w.StartTime, loc))
	}
	var stops []string
	if !w.StopPos.IsZero() {
		stops = append(stops, "before the first transaction that ends after "+w.StopPos.String())
	}
	if !w.StopTime.IsZero() {
		stops = append(stops, "at the first transaction committed at or after "+showTime(w.StopTime, loc))
	}
	if w.StopGTID != nil {
		stops = append(stops, "before GTID "+w.StopGTID.String())
	}
	if w.StopBeforeDrop {
		stops = append(stops, "before the first DROP, TRUNCATE or RENAME of a kept table")
	}
	if len(stops) == 0 {
		stops = append(stops, "the end of the binlogs")
	}
	lines = append(lines, "window stop: "+strings.Join(stops, "; or "))
	if w.ExcludeGTIDs != nil {
		l := "GTIDs skipped: " + w.ExcludeGTIDs.String()
		if strings.HasPrefix(w.StartFrom, "the backup") {
			l += " (the backup holds them)"
		}
		lines = append(lines, l)
	}
	if w.SkipGTIDs != nil {
		lines = append(lines, "GTIDs skipped (--skip-gtids): "+w.SkipGTIDs.String())
	}
	if w.IncludeGTIDs != nil {
		lines = append(lines, "GTIDs kept (--include-gtids): "+w.IncludeGTIDs.String())
	}
	return lines
}

// windowAttrs are windowLines as log attributes.
func windowAttrs(w restore.Window, loc *time.Location) []any {
	var attrs []any
	for _, l := range windowLines(w, loc) {
		k, v, _ := strings.Cut(l, ": ")
		attrs = append(attrs, slog.String(strings.ReplaceAll(k, " ", "_"), v))
	}
	return attrs
}

// showTime prints t in the user's zone, with the zone's name and offset, and in UTC.
func showTime(t time.Time, loc *time.Location) string {
	l := t.In(loc).Format("2006-01-02 15:04:05.999999 MST (-07:00)")
	if loc != time.UTC {
		l += " = " + t.UTC().Format("2006-01-02 15:04:05.999999 UTC")
	}
	return l
}

// endLine says, as the last line of the SQL output, why the replay ended there.
func endLine(st restore.Stats, runErr error) string {
	switch {
	case runErr != nil:
		return "end: stopped by an error: " + runErr.Error()
	case st.StoppedAt != "":
		return "end: " + st.StoppedAt
	case !st.ReadTo.IsZero():
		return "end: the binlogs end at " + st.ReadTo.String() + "; no stop condition was met before"
	}
	return "end: the binlogs hold no event in the window"
}

// zoneAbbrev maps time zone abbreviations people type to an IANA name to suggest: an
// abbreviation is ambiguous (IST, CST) and knows no daylight saving rules, so it is not taken.
var zoneAbbrev = map[string][]string{
	"KST": {"Asia/Seoul"}, "JST": {"Asia/Tokyo"}, "CST": {"America/Chicago", "Asia/Shanghai"},
	"CDT": {"America/Chicago"}, "EST": {"America/New_York"}, "EDT": {"America/New_York"},
	"PST": {"America/Los_Angeles"}, "PDT": {"America/Los_Angeles"}, "MST": {"America/Denver"},
	"MDT": {"America/Denver"}, "IST": {"Asia/Kolkata", "Europe/Dublin"}, "CET": {"Europe/Berlin", "Europe/Paris"},
	"CEST": {"Europe/Berlin", "Europe/Paris"}, "BST": {"Europe/London"}, "GMT": {"Europe/London", "UTC"},
	"EET": {"Europe/Helsinki"}, "EEST": {"Europe/Helsinki"}, "WET": {"Europe/Lisbon"}, "MSK": {"Europe/Moscow"},
	"HKT": {"Asia/Hong_Kong"}, "SGT": {"Asia/Singapore"}, "AEST": {"Australia/Sydney"}, "AEDT": {"Australia/Sydney"},
	"NZST": {"Pacific/Auckland"}, "BRT": {"America/Sao_Paulo"}, "WIB": {"Asia/Jakarta"}, "PHT": {"Asia/Manila"},
}

// loadLocation reads --timezone: an IANA name, UTC, Local, or a fixed offset such as +09:00.
func loadLocation(name string) (*time.Location, error) {
	switch strings.ToLower(name) {
	case "", "local":
		return time.Local, nil
	case "utc", "z":
		return time.UTC, nil
	}
	if t, err := time.Parse("-07:00", name); err == nil && (name[0] == '+' || name[0] == '-') {
		_, off := t.Zone()
		return time.FixedZone(name, off), nil
	}
	loc, err := time.LoadLocation(name)
	if err == nil {
		return loc, nil
	}
	hint := "use an IANA name such as Asia/Seoul or Europe/Berlin, UTC, Local, or an offset such as +09:00"
	if s, ok := zoneAbbrev[strings.ToUpper(name)]; ok {
		hint = fmt.Sprintf("%q is an abbreviation, not a zone: use the IANA name %s (it knows the zone's daylight saving rules), or an offset such as +09:00",
			name, strings.Join(s, " or "))
	}
	return nil, fmt.Errorf("unknown time zone %q: %s", name, hint)
}

// parseDatetime reads mysqlbinlog's format in loc, or RFC 3339 with its own offset. A date
// alone is refused: it would silently mean midnight, which is rarely the moment meant.
func parseDatetime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999", "2006-01-02T15:04:05.999999", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	if _, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return time.Time{}, fmt.Errorf("%q is a date without a time; write '%s 00:00:00' if midnight is meant", s, s)
	}
	return time.Time{}, fmt.Errorf("%q: want YYYY-MM-DD HH:MM[:SS[.ffffff]] or RFC 3339", s)
}
