// Package restore turns binlog events into replayable SQL: it keeps the selected tables and
// whole transactions inside the chosen window (Filter, Window), renders each row as an exact
// INSERT, UPDATE or DELETE (Renderer) and hands statements to a Sink, one source transaction at
// a time. Run is the only loop; it never holds a whole transaction in memory.
package restore
