package mysqlconn

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/go-sql-driver/mysql"
)

func TestIsConnLost(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"bad conn", fmt.Errorf("x: %w", driver.ErrBadConn), true},
		{"invalid conn", mysql.ErrInvalidConn, true},
		{"eof", io.EOF, true},
		{"reset", fmt.Errorf("write: %w", syscall.ECONNRESET), true},
		{"killed", &mysql.MySQLError{Number: 1927, Message: "Connection was killed"}, true},
		{"shutdown", &mysql.MySQLError{Number: 1053}, true},
		{"joined with a rollback error", errors.Join(mysql.ErrInvalidConn, &mysql.MySQLError{Number: 1064}), true},
		{"duplicate key", &mysql.MySQLError{Number: 1062, Message: "Duplicate entry"}, false},
		{"lock wait", &mysql.MySQLError{Number: 1205}, false},
		{"other", errors.New("boom"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsConnLost(tc.err); got != tc.want {
				t.Errorf("IsConnLost(%v) = %v", tc.err, got)
			}
		})
	}
}
