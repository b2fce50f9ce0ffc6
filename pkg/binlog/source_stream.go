package binlog

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// StreamOptions says how to read binlogs from a server over the replication protocol, as a
// replica does.
type StreamOptions struct {
	Network  string // "tcp" or "unix"
	Addr     string // host:port, or the socket path
	User     string
	Password string
	TLS      *tls.Config // nil: no TLS
	TLSMode  string      // the mode TLS was chosen by, for messages
	// TLSPreferred falls back to a plain connection when the server does not offer TLS.
	TLSPreferred bool
	// Name names the server in messages (user@host:port); never the password.
	Name string
	// AuthHint replaces the generic advice after a refused login: the flags to check and what
	// was tried (never the password itself).
	AuthHint string

	// ServerID is the replica id pitr registers with. It must differ from every real replica's
	// and from the source's own (a server drops the older of two replicas with one id). Zero
	// picks a random one from [DefaultServerIDMin, 2^32-1), far above the small ids people give
	// their servers.
	ServerID uint32

	// Start is where to begin; File "" means the oldest binlog the server still has. StartGTID,
	// if set, is used instead: a MySQL GTID set (uuid:1-5,...) or a MariaDB GTID list
	// (0-1-100,...), and streaming begins after the transactions it names.
	Start     Position
	StartGTID string

	// Follow keeps streaming, waiting for new events, instead of stopping at the position that
	// was the server's current one when the stream opened.
	Follow bool
	// Heartbeat is how often an idle server sends a heartbeat; 0 means 1 s. It lets pitr notice
	// that it has reached the stop position, and a dead connection.
	Heartbeat time.Duration
	// Reconnect bounds how long to keep trying to reconnect after the connection drops; 0 means
	// 30 s, negative means never reconnect.
	Reconnect time.Duration

	Log *slog.Logger
}

// DefaultServerIDMin is the low end of the random replica server ids.
const DefaultServerIDMin = 0x7f000000

// ServerInfo is what a stream learned about its server when it opened.
type ServerInfo struct {
	Version string // SELECT VERSION()
	// TLSCipher is the cipher of the connection ("" when not encrypted).
	TLSCipher string
	MariaDB   bool     // flavor of the replication protocol
	Binlogs   []string // SHOW BINARY LOGS, oldest first
	Current   Position // the server's current position when the stream opened: where it stops without Follow
}

// Errors of a stream, for errors.Is; the messages name what to fix.
var (
	ErrSourceConnect   = errors.New("cannot connect to the source server")
	ErrSourceAuth      = errors.New("source server refused the login")
	ErrSourcePrivilege = errors.New("source user lacks the privileges to read binary logs (needs REPLICATION SLAVE and REPLICATION CLIENT; MariaDB 10.5+: REPLICATION SLAVE and BINLOG MONITOR)")
	ErrSourcePurged    = errors.New("binlog file not on the source server")
	ErrSourceNoBinlog  = errors.New("source server does not write binary logs (log_bin is OFF)")
)

// MySQL and MariaDB error numbers a stream tells apart.
const (
	erAccessDenied       = 1045 // ER_ACCESS_DENIED_ERROR
	erDBAccessDenied     = 1044
	erSpecificAccess     = 1227 // ER_SPECIFIC_ACCESS_DENIED_ERROR: "you need (at least one of) the ... privilege(s)"
	erTableAccessDenied  = 1142
	erMasterFatalReading = 1236 // ER_MASTER_FATAL_ERROR_READING_BINLOG (purged file, bad position)
	erParse              = 1064
	erQueryInterrupted   = 1317
	erServerShutdown     = 1053
	erConnectionKilled   = 1927 // MariaDB ER_CONNECTION_KILLED
	erClientConnLost     = 2013
)

// stream frames the events a server sends over the replication protocol into the positions
// they have in the server's files. It owns the connection and reconnects when it drops: since
// it resumes at the exact position of the next event it has not handed out, the events it
// returns are exactly those of the files, with no gap and no repeat, whatever happens to the
// connection. It is not safe for concurrent use.
type stream struct {
	opts StreamOptions
	log  *slog.Logger
	info ServerInfo
	stop Position // zero with Follow

	syncer *replication.BinlogSyncer
	st     *replication.BinlogStreamer

	file string // where the next file event starts; "" until the server names the file
	off  int64
	fmt  *format
	lost time.Time // when the connection dropped, while reconnecting
	// skipOK: the server may skip ahead in the file. A dump from a GTID skips the transactions
	// before it, up to its first event; anywhere else a jump would be lost events.
	skipOK bool
}

// rawEvent is one event of a server's binlog file, framed and checksum-verified.
type rawEvent struct {
	Pos    Position
	Header Header
	Raw    []byte // header, body and checksum, exactly as in the file (owned by the caller)
	Body   []byte // without header and checksum
	// Resent marks the file's format event that a server sends again when a dump starts
	// inside a file: not a file event at Pos, but the format of the events that follow.
	Resent bool
}

func openStream(ctx context.Context, opts StreamOptions) (*stream, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = time.Second
	}
	if opts.Reconnect == 0 {
		opts.Reconnect = 30 * time.Second
	}
	if opts.Name == "" {
		opts.Name = opts.User + "@" + opts.Addr
	}
	if opts.ServerID == 0 {
		var b [4]byte
		_, _ = rand.Read(b[:])
		opts.ServerID = DefaultServerIDMin + binary.LittleEndian.Uint32(b[:])%(1<<32-1-DefaultServerIDMin)
	}
	s := &stream{opts: opts, log: opts.Log}
	if err := s.inspect(ctx); err != nil {
		return nil, err
	}
	if opts.StartGTID == "" {
		start := opts.Start
		if start.File == "" {
			start.File = s.info.Binlogs[0]
		}
		if start.Offset < 4 {
			start.Offset = 4
		}
		known := false
		for _, b := range s.info.Binlogs {
			known = known || b == start.File
		}
		if !known {
			return nil, fmt.Errorf("%s: start file %s: %w (it has %s to %s; purged, or a wrong name)", opts.Name, start.File,
				ErrSourcePurged, s.info.Binlogs[0], s.info.Binlogs[len(s.info.Binlogs)-1])
		}
		s.file, s.off = start.File, start.Offset
	}
	if !opts.Follow {
		s.stop = s.info.Current
	}
	return s, nil
}

// inspect reads the server's version, binlogs and current position over a plain connection.
// It also checks the login and the privileges, so that their errors say what to fix.
func (s *stream) inspect(ctx context.Context) error {
	c, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := c.Execute("SELECT VERSION()")
	if err != nil {
		return s.classify("SELECT VERSION()", err)
	}
	s.info.Version, _ = r.GetString(0, 0)
	s.info.MariaDB = strings.Contains(strings.ToLower(s.info.Version), "mariadb")
	// Whether this connection is encrypted, as the server sees it, for the summary.
	if r, err := c.Execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'"); err == nil && r.RowNumber() > 0 {
		s.info.TLSCipher, _ = r.GetString(0, 1)
	}

	r, err = c.Execute("SHOW MASTER STATUS")
	if isServerError(err, erParse) { // MySQL 8.4 and later
		r, err = c.Execute("SHOW BINARY LOG STATUS")
	}
	if err != nil {
		return s.classify("SHOW MASTER STATUS", err)
	}
	if r.RowNumber() == 0 {
		return fmt.Errorf("%s: %w", s.opts.Name, ErrSourceNoBinlog)
	}
	file, _ := r.GetString(0, 0)
	pos, _ := r.GetInt(0, 1)
	if err := checkServerName(file, ""); err != nil {
		return fmt.Errorf("%s: SHOW MASTER STATUS: %w", s.opts.Name, err)
	}
	s.info.Current = Position{File: file, Offset: pos}

	r, err = c.Execute("SHOW BINARY LOGS")
	if err != nil {
		return s.classify("SHOW BINARY LOGS", err)
	}
	for i := 0; i < r.RowNumber(); i++ {
		name, _ := r.GetString(i, 0)
		if err := checkServerName(name, seriesBase(file)); err != nil {
			return fmt.Errorf("%s: SHOW BINARY LOGS: %w", s.opts.Name, err)
		}
		s.info.Binlogs = append(s.info.Binlogs, name)
	}
	if len(s.info.Binlogs) == 0 {
		return fmt.Errorf("%s: %w", s.opts.Name, ErrSourceNoBinlog)
	}
	// Registering as a replica needs REPLICATION SLAVE, which nothing above checked; the dump's
	// own refusal would come later, at the first event. A user with a role (a grant line without
	// ON) may have it through the role: then the server decides.
	r, err = c.Execute("SHOW GRANTS")
	if err == nil {
		ok := false
		for i := 0; i < r.RowNumber(); i++ {
			g, _ := r.GetString(i, 0)
			g = strings.ToUpper(g)
			ok = ok || strings.Contains(g, "ALL PRIVILEGES ON *.*") || strings.Contains(g, "REPLICATION SLAVE") ||
				strings.Contains(g, "REPLICATION REPLICA") || !strings.Contains(g, " ON ")
		}
		if !ok {
			return fmt.Errorf("%s: %w", s.opts.Name, ErrSourcePrivilege)
		}
	}
	return nil
}

func (s *stream) connect(ctx context.Context) (*client.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := client.ConnectWithDialer(ctx, s.opts.Network, s.opts.Addr, s.opts.User, s.opts.Password, "", d.DialContext,
		func(c *client.Conn) error {
			c.SetTLSConfig(s.opts.TLS)
			return nil
		})
	if err != nil && s.opts.TLS != nil && s.opts.TLSPreferred && strings.Contains(err.Error(), "does not support TLS") {
		s.opts.TLS = nil
		return s.connect(ctx)
	}
	if err != nil {
		return nil, s.classify("connect", err)
	}
	return c, nil
}

// classify turns a server or network error into one that names what to fix.
func (s *stream) classify(op string, err error) error {
	var me *mysql.MyError
	if errors.As(err, &me) {
		switch me.Code {
		case erAccessDenied:
			hint := s.opts.AuthHint
			if hint == "" {
				hint = "check the user and password: --source-user, --source-password, MYSQL_PWD or the defaults file"
			}
			return fmt.Errorf("%s: %w: %s (%s)", s.opts.Name, ErrSourceAuth, me.Message, hint)
		case erSpecificAccess, erDBAccessDenied, erTableAccessDenied:
			return fmt.Errorf("%s: %s: %w: %s", s.opts.Name, op, ErrSourcePrivilege, me.Message)
		case erMasterFatalReading:
			if strings.Contains(me.Message, "first log file name") || strings.Contains(me.Message, "not found") {
				return fmt.Errorf("%s: %w: %s (SHOW BINARY LOGS lists the files the server has)", s.opts.Name, ErrSourcePurged, me.Message)
			}
			return fmt.Errorf("%s: the server cannot send its binlog: %s", s.opts.Name, me.Message)
		}
		return fmt.Errorf("%s: %s: %s (error %d)", s.opts.Name, op, me.Message, me.Code)
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w: %v (check --source-host, --source-port or --source-socket, and that the server runs)",
			s.opts.Name, ErrSourceConnect, rootCause(err))
	}
	return fmt.Errorf("%s: %s: %v", s.opts.Name, op, rootCause(err))
}

// rootCause strips go-mysql's stack-trace wrappers, whose messages repeat the cause.
func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

func isServerError(err error, codes ...uint16) bool {
	var me *mysql.MyError
	if !errors.As(err, &me) {
		return false
	}
	for _, c := range codes {
		if me.Code == c {
			return true
		}
	}
	return false
}

// retryable reports whether err means the connection dropped (rather than the server refusing
// to send the binlog), so that reconnecting may help.
func retryable(err error) bool {
	var me *mysql.MyError
	if errors.As(err, &me) {
		switch me.Code {
		case erConnectionKilled, erQueryInterrupted, erServerShutdown, erClientConnLost:
			return true
		}
		return false
	}
	return true
}

// start opens the replication connection at the stream's position (or GTID set).
func (s *stream) start(ctx context.Context) error {
	host, port := s.opts.Addr, uint16(0)
	if s.opts.Network != "unix" {
		h, p, err := net.SplitHostPort(s.opts.Addr)
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(p)
		host, port = h, uint16(n)
	}
	var d net.Dialer
	flavor := mysql.MySQLFlavor
	if s.info.MariaDB {
		flavor = mysql.MariaDBFlavor
	}
	cfg := replication.BinlogSyncerConfig{
		ServerID: s.opts.ServerID, Flavor: flavor, Host: host, Port: port, User: s.opts.User, Password: s.opts.Password,
		TLSConfig: s.opts.TLS, RawModeEnabled: true, HeartbeatPeriod: s.opts.Heartbeat,
		// A dead connection shows as missing heartbeats.
		ReadTimeout: 3*s.opts.Heartbeat + 5*time.Second,
		// pitr reconnects itself, at the position of the next event it has not handed out.
		DisableRetrySync: true,
		DiscardGTIDSet:   true,
		EventCacheCount:  256,
		Logger:           quiet(s.log),
		Dialer: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return d.DialContext(ctx, cmpOr(s.opts.Network, "tcp"), addr)
		},
	}
	if s.info.MariaDB {
		// Without it MariaDB leaves out its Annotate_rows events, and the stream would not be
		// the file.
		cfg.DumpCommandFlag |= replication.BINLOG_SEND_ANNOTATE_ROWS_EVENT
	}
	sy := replication.NewBinlogSyncer(cfg)
	var st *replication.BinlogStreamer
	var err error
	if s.file == "" {
		s.skipOK = true
		var set mysql.GTIDSet
		set, err = mysql.ParseGTIDSet(flavor, s.opts.StartGTID)
		if err != nil {
			sy.Close()
			return fmt.Errorf("start GTID %q: %w", s.opts.StartGTID, err)
		}
		st, err = sy.StartSyncGTID(set)
	} else {
		st, err = sy.StartSync(mysql.Position{Name: s.file, Pos: uint32(s.off)})
	}
	if err != nil {
		sy.Close()
		return err
	}
	s.syncer, s.st = sy, st
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// quiet passes go-mysql's log lines on at debug level only: the stream reports what matters
// (a lost connection, a reconnect) itself, and errors are returned, not logged.
func quiet(l *slog.Logger) *slog.Logger { return slog.New(debugOnly{l.Handler()}) }

type debugOnly struct{ slog.Handler }

func (d debugOnly) Enabled(ctx context.Context, _ slog.Level) bool {
	return d.Handler.Enabled(ctx, slog.LevelDebug)
}

func (d debugOnly) Handle(ctx context.Context, r slog.Record) error {
	r.Level = slog.LevelDebug
	return d.Handler.Handle(ctx, r)
}

func (d debugOnly) WithAttrs(a []slog.Attr) slog.Handler { return debugOnly{d.Handler.WithAttrs(a)} }
func (d debugOnly) WithGroup(n string) slog.Handler      { return debugOnly{d.Handler.WithGroup(n)} }

func (s *stream) closeConn() {
	if s.syncer != nil {
		s.syncer.Close()
		s.syncer, s.st = nil, nil
	}
}

func (s *stream) pos() Position { return Position{File: s.file, Offset: s.off} }

// done reports whether the stream has reached its stop position.
func (s *stream) done() bool {
	return !s.stop.IsZero() && s.file != "" && !s.pos().Before(s.stop)
}

// next returns the next event of the server's files, or io.EOF at the stop position.
func (s *stream) next(ctx context.Context) (rawEvent, error) {
	for {
		if err := ctx.Err(); err != nil {
			return rawEvent{}, err
		}
		if s.done() {
			return rawEvent{}, io.EOF
		}
		if s.st == nil {
			if err := s.start(ctx); err != nil {
				if !s.lost.IsZero() && retryable(err) && time.Since(s.lost) < s.opts.Reconnect {
					s.log.Warn("reconnecting to the source server failed; retrying", slog.String("server", s.opts.Name), slog.String("err", rootCause(err).Error()))
					select {
					case <-ctx.Done():
						return rawEvent{}, ctx.Err()
					case <-time.After(500 * time.Millisecond):
					}
					continue
				}
				return rawEvent{}, s.classify("start replication", err)
			}
			if !s.lost.IsZero() {
				s.log.Info("reconnected to the source server", slog.String("server", s.opts.Name), slog.String("pos", s.pos().String()))
				s.lost = time.Time{}
			}
		}
		be, err := s.st.GetEvent(ctx)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return rawEvent{}, ctxErr
			}
			s.closeConn()
			if s.file != "" && s.opts.Reconnect > 0 && retryable(err) {
				// Resume at the next event not yet handed out: a transaction the drop cut in two
				// continues exactly where it stopped.
				s.log.Warn("connection to the source server lost; reconnecting", slog.String("server", s.opts.Name),
					slog.String("resume", s.pos().String()), slog.String("err", rootCause(err).Error()))
				s.lost = time.Now()
				continue
			}
			return rawEvent{}, s.classify("binlog dump", err)
		}
		ev, ok, err := s.frame(be.RawData)
		if err != nil || ok {
			return ev, err
		}
	}
}

// frame places one event the server sent. It returns ok=false for events that are not part of
// a file: the artificial Rotate that names the file at the start of a dump, the format event a
// server resends when a dump starts inside a file, and heartbeats.
func (s *stream) frame(raw []byte) (rawEvent, bool, error) {
	if len(raw) < headerSize {
		return rawEvent{}, false, &PosError{Pos: s.pos(), Err: fmt.Errorf("%w: event of %d bytes from the server", ErrCorrupt, len(raw))}
	}
	h := parseHeader(raw)
	if int(h.EventSize) != len(raw) {
		return rawEvent{}, false, &PosError{Pos: s.pos(), Err: fmt.Errorf("%w: event size %d, %d bytes received", ErrCorrupt, h.EventSize, len(raw))}
	}
	artificial := h.Flags&replication.LOG_EVENT_ARTIFICIAL_F != 0
	switch {
	case h.Type == replication.HEARTBEAT_EVENT:
		// An idle dump thread has sent, or skipped (a dump from a GTID skips the transactions
		// before it), everything of the file named in the body up to LogPos: without this a
		// stream that starts from a GTID would not know it has reached its stop position.
		if name := raw[headerSize:]; s.skipOK && s.file != "" && bytes.HasPrefix(name, []byte(s.file)) && int64(h.LogPos) > s.off && s.off < 1<<32 {
			s.off = int64(h.LogPos)
		}
		return rawEvent{}, false, nil
	case h.Type == replication.HEARTBEAT_LOG_EVENT_V2:
		return rawEvent{}, false, nil
	case h.Type == replication.ROTATE_EVENT && (artificial || h.Timestamp == 0):
		body := raw[headerSize:]
		// Sent with or without a checksum, depending on the server and the moment.
		if len(body) >= 12 && verifyCRC(raw, false) == nil {
			body = body[:len(body)-4]
		}
		if len(body) < 9 {
			return rawEvent{}, false, &PosError{Pos: s.pos(), Err: fmt.Errorf("%w: artificial rotate event of %d bytes", ErrCorrupt, len(raw))}
		}
		name := string(body[8:])
		if err := checkServerName(name, seriesBase(s.info.Current.File)); err != nil {
			return rawEvent{}, false, &PosError{Pos: s.pos(), Err: err}
		}
		s.file, s.off = name, int64(binary.LittleEndian.Uint64(body))
		return rawEvent{}, false, nil
	case h.Type == replication.FORMAT_DESCRIPTION_EVENT && (s.off != 4 || h.LogPos == 0):
		// The file's format event, resent so that we can read events from the middle of it.
		at := Position{File: s.file, Offset: 4}
		body, err := checkEvent(&s.fmt, h, raw, at)
		if err != nil {
			return rawEvent{}, false, err
		}
		return rawEvent{Pos: at, Header: h, Raw: raw, Body: body, Resent: true}, true, nil
	case artificial:
		return rawEvent{}, false, nil
	}
	if s.file == "" {
		return rawEvent{}, false, fmt.Errorf("%s: %s event before the server named its binlog file", s.opts.Name, h.Type)
	}
	at := s.pos()
	if h.LogPos != 0 && h.LogPos != uint32(s.off+int64(h.EventSize)) {
		// End positions are 32-bit: past 4 GiB the offset keeps the high part we counted.
		at.Offset = s.off&^0xffffffff + int64(h.LogPos) - int64(h.EventSize)
		if at.Offset < s.off || !s.skipOK {
			return rawEvent{}, false, &PosError{Pos: s.pos(), Err: fmt.Errorf("%w: the server sent a %s event ending at %d, not at %d",
				ErrCorrupt, h.Type, h.LogPos, uint32(s.off+int64(h.EventSize)))}
		}
	}
	body, err := checkEvent(&s.fmt, h, raw, at)
	if err != nil {
		return rawEvent{}, false, err
	}
	if h.Type != replication.FORMAT_DESCRIPTION_EVENT && h.Type != replication.MARIADB_GTID_LIST_EVENT &&
		h.Type != replication.PREVIOUS_GTIDS_EVENT && h.Type != replication.MARIADB_BINLOG_CHECKPOINT_EVENT {
		s.skipOK = false // the first transaction after the GTID set: from here on, every event
	}
	s.off = at.Offset + int64(h.EventSize)
	if h.Type == replication.ROTATE_EVENT && len(body) > 8 {
		// The file ends here; the next event is the first of the file it names.
		name := string(body[8:])
		if err := checkServerName(name, seriesBase(s.info.Current.File)); err != nil {
			return rawEvent{}, false, &PosError{Pos: at, Err: err}
		}
		s.file, s.off = name, int64(binary.LittleEndian.Uint64(body))
	}
	return rawEvent{Pos: at, Header: h, Raw: raw, Body: body}, true, nil
}

func (s *stream) close() { s.closeConn() }

// StreamSource reads binlog events from a server over the replication protocol and decodes them
// exactly as FileSource decodes the server's files: the same checksum verification, format
// tracking and decoder, so a replay gives the same output. It has no transaction lookahead:
// a replay takes a streamed transaction's time from its first event.
type StreamSource struct {
	s   *stream
	dec *decoder
	ev  Event
	err error

	payload payloadReader // events inside a Transaction_payload event, as FileSource reads them
}

var _ Source = (*StreamSource)(nil)

// OpenStream connects to the server, checks the login, the privileges and the start file, and
// returns a source that starts streaming at the first call to Next. It ends (io.EOF) at the
// server's current position at the time of the call, unless opts.Follow.
func OpenStream(ctx context.Context, opts StreamOptions) (*StreamSource, error) {
	s, err := openStream(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &StreamSource{s: s, dec: newDecoder()}, nil
}

// Info describes the server.
func (s *StreamSource) Info() ServerInfo { return s.s.info }

// Next implements Source.
func (s *StreamSource) Next(ctx context.Context) (*Event, error) {
	if s.err != nil {
		return nil, s.err
	}
	for {
		if s.payload.active() {
			ok, err := s.payload.decodeNext(s.dec, s.s.fmt, &s.ev)
			if err != nil {
				s.err = err
				return nil, err
			}
			if ok {
				return &s.ev, nil
			}
			continue
		}
		re, err := s.s.next(ctx)
		if err != nil {
			s.err = err
			return nil, err
		}
		if re.Header.Type == replication.TRANSACTION_PAYLOAD_EVENT {
			// All of the payload is read before the next event is asked for, so its bytes stay put.
			if err := s.payload.open(re.Body, re.Pos, re.Pos.Offset+int64(re.Header.EventSize)); err != nil {
				s.err = &PosError{Pos: re.Pos, Err: err}
				return nil, s.err
			}
			continue
		}
		s.ev = Event{Pos: re.Pos, End: re.Pos.Offset + int64(re.Header.EventSize), Header: re.Header, Body: re.Body}
		if err := s.dec.decode(&s.ev, re.Raw, s.s.fmt); err != nil {
			s.err = &PosError{Pos: re.Pos, Err: err}
			return nil, s.err
		}
		if !re.Resent { // a resent format event only sets up the decoder, as FileSource.seek does
			return &s.ev, nil
		}
	}
}

// Close ends the replication connection.
func (s *StreamSource) Close() error {
	s.s.close()
	return nil
}
