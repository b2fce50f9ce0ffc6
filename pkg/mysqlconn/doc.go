// Package mysqlconn describes how to reach a MySQL or MariaDB server the way the mysql and
// mariadb clients do: host, port or unix socket, user, password, TLS, an option file
// (--defaults-file, or ~/.my.cnf with its [client] sections) and MYSQL_PWD.
//
// [Options] holds what the user gave; [Options.Resolve] fills in the option file, the
// environment and, if asked, a password prompt; [Options.DriverConfig] turns the result into a
// go-sql-driver/mysql configuration. [Options.Address] names the server for messages. Nothing in
// this package ever formats the password into a string: not in errors, not in Address, not in
// log lines.
//
// [IsConnLost] classifies errors that mean the connection is gone (so a caller may reconnect),
// as opposed to errors the server returned for a statement.
//
// The package reads no flags and no environment of its own: callers pass env and home.
package mysqlconn
