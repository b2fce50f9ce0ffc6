package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/go-sql-driver/mysql"

	"github.com/pitr-tool/pitr/pkg/mysqlconn"
	"github.com/pitr-tool/pitr/pkg/restore"
)

// serverCatalog reads table definitions from a live server as the replay meets the tables. The
// server's schema is today's, which may differ from the schema at the binlog's position; every
// table map is checked against it, so a difference stops the replay rather than corrupting it.
func serverCatalog(o mysqlconn.Options, defaultsFile string, noDefaults bool, log *slog.Logger) (*restore.Catalog, error) {
	ro, err := resolveConn(o, defaultsFile, noDefaults, log)
	if err != nil {
		return nil, err
	}
	dc, err := ro.DriverConfig()
	if err != nil {
		return nil, err
	}
	connector, err := mysql.NewConnector(dc)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	name := ro.Address()
	var warned sync.Once
	fetch := func(ctx context.Context, schema, table string) (string, error) {
		warned.Do(func() {
			log.Warn("column names come from the live server's schema, which is today's: it may differ from the schema at the binlog's position (each table map is checked against it)", "server", name)
		})
		var tbl, stmt string
		err := db.QueryRowContext(ctx, "SHOW CREATE TABLE `"+escapeIdent(schema)+"`.`"+escapeIdent(table)+"`").Scan(&tbl, &stmt)
		var me *mysql.MySQLError
		if errors.As(err, &me) && (me.Number == 1146 || me.Number == 1049) {
			return "", nil // no such table (dropped?) or database
		}
		if err != nil {
			return "", fmt.Errorf("SHOW CREATE TABLE: %w", err)
		}
		return stmt, nil
	}
	return restore.NewServerCatalog(name, fetch, db.Close), nil
}

func escapeIdent(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			b = append(b, '`')
		}
		b = append(b, s[i])
	}
	return string(b)
}
