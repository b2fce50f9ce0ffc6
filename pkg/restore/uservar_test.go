package restore

import (
	"strings"
	"testing"

	"github.com/pitr-tool/pitr/pkg/binlog"
)

// TestUserVarCollation: a string user variable is written with the charset and collation the
// decoder named from the id, in the numbering of the server that wrote the binlog.
func TestUserVarCollation(t *testing.T) {
	for _, tc := range []struct {
		u    binlog.UserVar
		want string
	}{
		{binlog.UserVar{Name: []byte("v"), Collation: 2304, Charset: "utf8mb4", CollationName: "utf8mb4_uca1400_ai_ci", Value: []byte("é")},
			"SET @`v` := _utf8mb4 X'C3A9' COLLATE `utf8mb4_uca1400_ai_ci`"},
		{binlog.UserVar{Name: []byte("k"), Collation: 19, Charset: "euckr", CollationName: "euckr_korean_ci", Value: []byte{0xB0, 0xA1}},
			"SET @`k` := _euckr X'B0A1' COLLATE `euckr_korean_ci`"},
		{binlog.UserVar{Name: []byte("u3"), Collation: 33, Charset: "utf8mb3", CollationName: "utf8mb3_general_ci", Value: []byte("a")},
			"SET @`u3` := _utf8 X'61' COLLATE `utf8_general_ci`"},
	} {
		u := tc.u
		got, err := preStatement(&binlog.Event{Kind: binlog.KindUserVar, UserVar: &u})
		if err != nil || string(got) != tc.want {
			t.Errorf("got %s, %v\nwant %s", got, err, tc.want)
		}
	}
	_, err := preStatement(&binlog.Event{Kind: binlog.KindUserVar, UserVar: &binlog.UserVar{Name: []byte("x"), Collation: 9999, Value: []byte("a")}})
	if err == nil || !strings.Contains(err.Error(), "9999") {
		t.Errorf("unknown collation: %v", err)
	}
}
