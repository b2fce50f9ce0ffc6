package binlog

import (
	"context"
	"fmt"
	"testing"
)

func TestDumpRows(t *testing.T) {
	root := "../../../shared/corpus/"
	for _, f := range []string{"rust_mysql_common/time_issue.000001", "rust_mysql_common/minimal_row_metadata.000001", "rust_mysql_common/mysql_type_bit.000001", "rust_mysql_common/mysql-enum-string-set.000001", "rust_mysql_common/mariadb-bin.000001", "rust_mysql_common/vector.binlog", "rust_mysql_common/json-opaque.binlog","mysql-cdc-rs/8.0/19_30_Table_map_event_Write_rows_log_event/binlog.000018", "MySqlCdc/mysql-bin.000001"} {
		src, _ := OpenFiles([]string{root + f}, FileOptions{})
		fmt.Println("==", f)
		for {
			ev, err := src.Next(context.Background())
			if err != nil { fmt.Println(err); break }
			if ev.Kind == KindFormat { fmt.Println("FDE flags", ev.Header.Flags) }
			if ev.Kind != KindRows { continue }
			tm := ev.Rows.Table
			fmt.Printf("%s %s names=%v pk=%v\n", ev.Pos, tm, tm.HasNames, tm.PrimaryKey)
			for _, c := range tm.Columns { fmt.Printf("   col %q type=%d uns=%v enum=%q set=%q coll=%d\n", c.Name, c.Type, c.Unsigned, c.Enum, c.Set, c.Collation) }
			for ev.Rows.More() {
				b, a, err := ev.Rows.Next()
				if err != nil { fmt.Println(err); break }
				pr := func(vs []Value) string { s := ""; for _, v := range vs { s += fmt.Sprintf("{%d %q %d} ", v.Kind, v.Text, v.Uint) }; return s }
				fmt.Println("  ", ev.Rows.Kind, "B:", pr(b), "A:", pr(a))
			}
		}
	}
}
