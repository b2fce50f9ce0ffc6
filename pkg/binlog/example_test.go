package binlog_test

import (
	"context"
	"fmt"
	"io"
	"log"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// Read the fixture binlogs, in sequence order, and print the first row change of each rows event
// for one table.
func ExampleOpenFiles() {
	src, err := binlog.OpenFiles([]string{
		"../../testdata/dml/mysql-bin.000003", // any order: they are read in sequence
		"../../testdata/dml/mysql-bin.000002",
	}, binlog.FileOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	ctx := context.Background()
	for {
		ev, err := src.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err) // "mysql-bin.000003:1234: ..." names the file and offset
		}
		if ev.Kind != binlog.KindRows || ev.Rows.Table.String() != "crm.customers" {
			continue
		}
		_, after, err := ev.Rows.Next()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %s %s name=%s\n", ev.Pos, ev.Rows.Kind, ev.Rows.Table, after[1].Text)
	}
	// Output:
	// mysql-bin.000002:1764 insert crm.customers name=Ann
	// mysql-bin.000002:3181 update crm.customers name=Bob
}
