package otp_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/otp"
)

func TestCountSMS(t *testing.T) {
	cases := []struct {
		name     string
		text     string
		enc      otp.SMSEncoding
		units    int
		segments int
	}{
		{"empty", "", otp.EncodingGSM7, 0, 1},
		{"GSM-7 short", "Your code is 123456", otp.EncodingGSM7, 19, 1},
		{"GSM-7 160 fits one", strings.Repeat("a", 160), otp.EncodingGSM7, 160, 1},
		{"GSM-7 161 takes two", strings.Repeat("a", 161), otp.EncodingGSM7, 161, 2},
		{"GSM-7 306 takes two", strings.Repeat("a", 306), otp.EncodingGSM7, 306, 2},
		{"GSM-7 307 takes three", strings.Repeat("a", 307), otp.EncodingGSM7, 307, 3},
		{"extension counts two", "€[]{}", otp.EncodingGSM7, 10, 1},
		{"80 euros fill one segment", strings.Repeat("€", 80), otp.EncodingGSM7, 160, 1},
		{"81 euros", strings.Repeat("€", 81), otp.EncodingGSM7, 162, 2},
		// 152 a's and a € at the split: the escape pair moves whole to the second part.
		{"escape pair not split", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 10), otp.EncodingGSM7, 164, 2},
		{"GSM-7 accents of the basic set", "èéùìòÇØøÅåÄÖÑÜäöñüà", otp.EncodingGSM7, 19, 1},
		{"UCS-2 accent outside GSM-7", "código 123456", otp.EncodingUCS2, 13, 1},
		{"UCS-2 70 fits one", strings.Repeat("ó", 70), otp.EncodingUCS2, 70, 1},
		{"UCS-2 71 takes two", strings.Repeat("ó", 71), otp.EncodingUCS2, 71, 2},
		{"UCS-2 134 takes two", strings.Repeat("ó", 134), otp.EncodingUCS2, 134, 2},
		{"UCS-2 135 takes three", strings.Repeat("ó", 135), otp.EncodingUCS2, 135, 3},
		{"Cyrillic forces UCS-2", "Ваш код 123456", otp.EncodingUCS2, 14, 1},
		{"Cyrillic one letter in Latin text", "Your code is 123456. Дякуємо", otp.EncodingUCS2, 28, 1},
		{"Cyrillic long", strings.Repeat("Код ", 20), otp.EncodingUCS2, 80, 2},
		{"emoji is a surrogate pair", "😀", otp.EncodingUCS2, 2, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := otp.CountSMS(tc.text)
			require.Equal(t, otp.SMSLength{Encoding: tc.enc, Units: tc.units, Segments: tc.segments}, got)
		})
	}
	require.Equal(t, "GSM-7", otp.EncodingGSM7.String())
	require.Equal(t, "UCS-2", otp.EncodingUCS2.String())
}
