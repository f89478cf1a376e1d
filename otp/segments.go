package otp

import "strings"

// SMSEncoding is how an SMS text is encoded on the air: GSM-7 when every character is in
// the GSM 03.38 basic set or its extension table, UCS-2 otherwise (one character outside
// them, a Cyrillic letter say, makes the whole message UCS-2).
type SMSEncoding int

// The encodings of an SMS.
const (
	// EncodingGSM7 packs 160 septets in a single message, 153 per part of a concatenated
	// one; a character of the extension table (such as € or [) takes two septets.
	EncodingGSM7 SMSEncoding = iota + 1
	// EncodingUCS2 holds 70 UTF-16 code units in a single message, 67 per part of a
	// concatenated one; a character outside the Basic Multilingual Plane takes two.
	EncodingUCS2
)

// String returns "GSM-7" or "UCS-2".
func (e SMSEncoding) String() string {
	switch e {
	case EncodingGSM7:
		return "GSM-7"
	case EncodingUCS2:
		return "UCS-2"
	}
	return "unknown"
}

// SMSLength is what an SMS text costs: its encoding, its length in that encoding's units
// (septets for GSM-7, UTF-16 code units for UCS-2) and how many segments it is sent in.
type SMSLength struct {
	Encoding SMSEncoding
	Units    int
	Segments int
}

// Segment sizes, in units of the encoding.
const (
	gsm7Single = 160
	gsm7Part   = 153
	ucs2Single = 70
	ucs2Part   = 67
)

// gsm7Basic is the GSM 03.38 basic character set (the escape character left out);
// gsm7Extension is its extension table, whose characters take an escape septet more.
const (
	gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Extension = "\f^{}\\[~]|€"
)

// gsm7Septets is how many septets r takes in GSM-7: 1 or 2, or 0 when GSM-7 cannot carry
// it.
func gsm7Septets(r rune) int {
	switch {
	case strings.ContainsRune(gsm7Basic, r):
		return 1
	case strings.ContainsRune(gsm7Extension, r):
		return 2
	}
	return 0
}

// CountSMS measures text as an SMS: GSM-7 when it can carry every character, UCS-2
// otherwise, and the number of segments it is sent in. A concatenated message never splits
// a character: an extension character's two septets, or a surrogate pair, stay in one
// part. Empty text is one segment.
func CountSMS(text string) SMSLength {
	sizes := make([]int, 0, len(text))
	enc := EncodingGSM7
	for _, r := range text {
		n := gsm7Septets(r)
		if n == 0 {
			enc = EncodingUCS2
			break
		}
		sizes = append(sizes, n)
	}
	single, part := gsm7Single, gsm7Part
	if enc == EncodingUCS2 {
		single, part = ucs2Single, ucs2Part
		sizes = sizes[:0]
		for _, r := range text {
			if r > 0xFFFF {
				sizes = append(sizes, 2)
			} else {
				sizes = append(sizes, 1)
			}
		}
	}
	units := 0
	for _, n := range sizes {
		units += n
	}
	l := SMSLength{Encoding: enc, Units: units, Segments: 1}
	if units <= single {
		return l
	}
	used := 0
	for _, n := range sizes {
		if used+n > part {
			l.Segments++
			used = 0
		}
		used += n
	}
	return l
}
