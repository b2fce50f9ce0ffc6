// Package binlog reads MySQL and MariaDB binary logs: it frames events from files (verifying
// CRC32 checksums itself, because go-mysql rejects the Format_description event of a log that is
// still in use), decodes the events a replay needs with go-mysql, and decodes row images itself,
// straight from the event bytes into exact canonical text, so that rows of unselected tables cost
// nothing and selected rows cost no allocation.
//
// The main types are Source (events in log order, across files), Event, TableMap and Rows.
// FileSource reads files; StreamSource reads the same events from a server over the replication
// protocol (go-mysql is only the transport: the bytes go through the same checks and decoder),
// and Fetch saves them as files identical to the server's.
// Positions are byte offsets counted by the reader, never the 32-bit end_log_pos of the header,
// which wraps at 4 GiB.
package binlog
