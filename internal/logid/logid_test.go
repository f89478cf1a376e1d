package logid_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/internal/logid"
)

func TestOf(t *testing.T) {
	cases := []struct {
		name, id, want string
	}{
		{"uuid", "5d6a4a7e-1c2b-4f3d-8e9a-0b1c2d3e4f50", "5d6a4a7e-1c2b-4f3d-8e9a-0b1c2d3e4f50"},
		{"plain", "am-olena_mother.v2:1", "am-olena_mother.v2:1"},
		{"at the bound", strings.Repeat("a", logid.MaxLen), strings.Repeat("a", logid.MaxLen)},
		{"one over the bound", strings.Repeat("a", logid.MaxLen+1), "[malformed id: 65 bytes]"},
		{"16 kB", strings.Repeat("0123456789abcdef", 1013), "[malformed id: 16208 bytes]"},
		{"empty", "", "[malformed id: 0 bytes]"},
		{"new line", "u1\n{\"level\":\"ERROR\"}", "[malformed id: 20 bytes]"},
		{"NUL and escape", "u1\x00\x1b[2J", "[malformed id: 7 bytes]"},
		{"space", "u 1", "[malformed id: 3 bytes]"},
		{"phone", "+380931234585", "[malformed id: 13 bytes]"},
		{"e-mail", "anna@example.com", "[malformed id: 16 bytes]"},
		{"not ASCII", "користувач", "[malformed id: 20 bytes]"},
		{"percent", "u%2F1", "[malformed id: 5 bytes]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, logid.Of(tc.id))
			require.Equal(t, tc.want == tc.id, logid.WellFormed(tc.id))
			a := logid.Attr("method_id", tc.id)
			require.Equal(t, "method_id", a.Key)
			require.Equal(t, tc.want, a.Value.String())
		})
	}
}

func TestText(t *testing.T) {
	long := strings.Repeat("é", 600) // 1200 bytes
	cases := []struct {
		name, in, want string
	}{
		{"plain", "storage: connection refused", "storage: connection refused"},
		{"new line", "bad\n{\"level\":\"ERROR\"}", "bad?{\"level\":\"ERROR\"}"},
		{"escape and NUL", "a\x1b[2J\x00b", "a?[2J?b"},
		{"invalid UTF-8", "a\xffb", "a?b"},
		{"C1 control", "a\u0085b", "a?b"},
		{"at the bound", strings.Repeat("x", logid.MaxTextLen), strings.Repeat("x", logid.MaxTextLen)},
		{"long, cut at a character", long, strings.Repeat("é", logid.MaxTextLen/2) + "…[1200 bytes]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := logid.Text(tc.in)
			require.Equal(t, tc.want, got)
			require.True(t, utf8.ValidString(got))
			require.Equal(t, tc.want, logid.TextAttr("error", tc.in).Value.String())
		})
	}
}
