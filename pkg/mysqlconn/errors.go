package mysqlconn

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/go-sql-driver/mysql"
)

// Server and client error numbers that mean the session is gone.
const (
	erServerShutdown  = 1053 // ER_SERVER_SHUTDOWN
	erConnKilled      = 1927 // ER_CONNECTION_KILLED (MariaDB)
	crServerGone      = 2006 // CR_SERVER_GONE_ERROR
	crServerLost      = 2013 // CR_SERVER_LOST
	erClientInterrupt = 4031 // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8.0.24+)
)

// IsConnLost reports whether err means the connection to the server broke (a dead socket, a
// killed session, a server shutting down), so that the work in progress may be retried on a new
// connection. Errors the server returned for a statement are not.
func IsConnLost(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ENOENT) || errors.As(err, &ne) {
		return true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case erServerShutdown, erConnKilled, crServerGone, crServerLost, erClientInterrupt:
			return true
		}
	}
	return false
}
