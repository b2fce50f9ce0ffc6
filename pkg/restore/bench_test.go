package restore

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// BenchmarkReplay measures decode + render + write of the fixture binlogs (MB/s of binlog input).
// make bench measures the same on a 300+ MB binlog against mariadb-binlog.
func BenchmarkReplay(b *testing.B) {
	for _, fx := range []string{"types", "dml"} {
		b.Run(fx, func(b *testing.B) {
			files := fixtureFiles(b, fx)
			var size int64
			for _, f := range files {
				st, err := os.Stat(f)
				if err != nil {
					b.Fatal(err)
				}
				size += st.Size()
			}
			b.SetBytes(size)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				src, err := binlog.OpenFiles(files, binlog.FileOptions{})
				if err != nil {
					b.Fatal(err)
				}
				w := NewSQLWriter(io.Discard)
				if _, err := Run(context.Background(), src, w, Config{}); err != nil {
					b.Fatal(err)
				}
				w.Close()
				src.Close()
			}
		})
	}
}
