package ports_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/ports"
)

// hidden counts the characters of in that out does not show: those of in less those of out
// that are not stars.
func hidden(in, out string) int {
	return utf8.RuneCountInString(in) - utf8.RuneCountInString(strings.ReplaceAll(out, "*", ""))
}

// requireMasked checks what every mask promises: valid UTF-8, and at least five characters
// hidden (all of them when there are fewer, separators aside).
func requireMasked(t *testing.T, in, out string) {
	t.Helper()
	require.True(t, utf8.ValidString(out), "%q masks to invalid UTF-8 %q", in, out)
	letters := utf8.RuneCountInString(strings.NewReplacer("@", "", ".", "", "+", "").Replace(in))
	require.GreaterOrEqual(t, hidden(in, out), min(5, letters), "%q masks to %q", in, out)
}

func TestMaskPhoneEveryE164Length(t *testing.T) {
	const digits = "123456789012345"
	want := map[int]string{ // digits after the "+": mask
		8:  "*******78",
		9:  "+12*****89",
		10: "+123*****90",
		11: "+1234*****01",
		12: "+12345*****12",
		13: "+12345******23",
		14: "+12345*******34",
		15: "+12345********45",
	}
	for n := 8; n <= 15; n++ {
		phone := "+" + digits[:n]
		require.True(t, ports.ValidE164(phone), phone)
		got := ports.MaskPhone(phone)
		require.Equal(t, want[n], got, phone)
		require.Equal(t, len(phone), len(got), "a mask keeps the length of a valid number")
		require.Equal(t, phone[len(phone)-2:], got[len(got)-2:], "the last two digits stay")
		requireMasked(t, phone, got)
		require.Equal(t, got, ports.MaskRecipient(phone))
	}
}

func TestMaskPhone(t *testing.T) {
	cases := []struct{ in, want string }{
		{"+380931234585", "+38093*****85"},
		{"+34600111222", "+3460*****22"},
		{"", ""},
		// Not a possible number: masked whole, whatever its length.
		{"+12345", "*****"}, // once "****45": four hidden
		{"12", "*****"},
		{"345678", "*****"},
		{"+1234567", "*****"},          // 7 digits
		{"+1234567890123456", "*****"}, // 16 digits
		{"+0931234585", "*****"},
		{"+380 93 123 45 85", "*****"},
		{"380931234585", "*****"},
		// Non-ASCII never reaches a byte slice: once "+38093*******\xbc\x95".
		{"+38093123458５", "*****"},
		{"+３８０９３１２３４５８５", "*****"},
		{"+38093123458\xff", "*****"},
		{"+٣٨٠٩٣١٢٣٤٥٨٥", "*****"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got := ports.MaskPhone(tc.in)
			require.Equal(t, tc.want, got)
			requireMasked(t, tc.in, got)
		})
	}
}

func TestMaskEmail(t *testing.T) {
	cases := []struct{ in, want string }{
		{"jane.doe@example.com", "j***@e***.com"},
		{"a@e.com", "***@***.***"},
		{"J.Doe@mail.example.co.uk", "J***@m***.uk"},
		{"anna@b.io", "***@***.io"}, // keeping "a" and "b" would hide only "nna"
		{"ab@cdef.org", "***@***.org"},
		{"a@b.co", "***@***.***"},
		{"олена@приклад.укр", "о***@п***.укр"},
		{"😀user@exämple.de", "😀***@e***.de"},
		{"", ""},
		{"jane", "*****"},
		{"jane@", "*****"},
		{"@example.com", "*****"},
		{"jane@localhost", "*****"},
		{"jane@example.", "*****"},
		{"jane@.com", "*****"},
		{"j\xffne@example.com", "*****"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got := ports.MaskEmail(tc.in)
			require.Equal(t, tc.want, got)
			requireMasked(t, tc.in, got)
			if tc.in != "" && strings.Contains(tc.in, "@") {
				require.Equal(t, got, ports.MaskRecipient(tc.in), "an address with @ is masked as an e-mail")
			}
		})
	}
}

func TestMaskRecipientByKind(t *testing.T) {
	cases := []struct{ in, want string }{
		{"+380931234585", "+38093*****85"},
		{"jane.doe@example.com", "j***@e***.com"},
		{"+12345", "*****"},
		{"not a recipient", "*****"},
		{"", ""},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			require.Equal(t, tc.want, ports.MaskRecipient(tc.in))
		})
	}
}

func TestValidE164(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"+12345678", true},        // 8 digits
		{"+123456789012345", true}, // 15 digits
		{"+380931234585", true},
		{"+1234567", false},          // 7 digits
		{"+1234567890123456", false}, // 16 digits
		{"+12345", false},            // country code 1 and 2345
		{"+0931234585", false},
		{"380931234585", false},
		{"++380931234585", false},
		{"+38093123458a", false},
		{"+38093 123458", false},
		{"+38093123458５", false},
		{"", false},
		{"+", false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			require.Equal(t, tc.want, ports.ValidE164(tc.in))
		})
	}
}
