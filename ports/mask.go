package ports

import (
	"strings"
	"unicode/utf8"
)

// minHidden is how many characters every mask hides, at least (all of them when there are
// fewer).
const minHidden = 5

// fullMask is what a mask answers for a value it cannot tell the shape of: it shows
// neither the value's characters nor its length.
const fullMask = "*****"

// ValidE164 reports whether phone has the shape of a number in E.164 form: "+" followed by
// 8 to 15 digits, the first not 0. It is the shape check MaskPhone uses; it does not tell
// whether the number exists. Flows check phone numbers with ParsePhone, which reads them by
// the numbering plan of their country and answers their E.164 form, region and type.
func ValidE164(phone string) bool {
	digits, ok := strings.CutPrefix(phone, "+")
	if !ok || len(digits) < 8 || len(digits) > 15 || digits[0] == '0' {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}

// MaskPhone hides a phone number for display and logs. A valid number (ValidE164) keeps
// its last two digits and at most six leading characters (the "+", the country and the
// operator code), and always hides at least five: "+380931234585" becomes "+38093*****85",
// "+34600111222" becomes "+3460*****22", and a number too short to keep three leading
// characters keeps only its last two: "+12345678" becomes "*******78". Anything else is no
// phone number: it is masked whole, as "*****", whatever its length. An empty string stays
// empty.
func MaskPhone(phone string) string {
	const tail = 2
	if phone == "" {
		return ""
	}
	if !ValidE164(phone) {
		return fullMask
	}
	n := len(phone) // ASCII only: a valid number is "+" and digits
	head := min(6, n-tail-minHidden)
	if head < 3 {
		head = 0
	}
	return phone[:head] + strings.Repeat("*", n-head-tail) + phone[n-tail:]
}

// MaskEmail hides an e-mail address for display and logs, in the form "a***@e***.com": the
// first character of the local part, the first of the domain, and the domain's last label
// (the top-level domain) stay; what is hidden is always three stars, so the mask does not
// tell the lengths either. "jane.doe@example.com" becomes "j***@e***.com". It works on
// characters, not bytes, and hides at least five characters: when keeping the first
// characters would hide fewer, they are hidden too ("ab@cdef.org" becomes "***@***.org"),
// and when even that hides fewer, so is the top-level domain ("a@b.co" becomes
// "***@***.***"). What is not shaped like an e-mail address (local part "@" domain, the
// domain with a dot inside) is masked whole, as "*****". An empty string stays empty.
func MaskEmail(email string) string {
	if email == "" {
		return ""
	}
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || !utf8.ValidString(email) {
		return fullMask
	}
	local, domain := email[:at], email[at+1:]
	dot := strings.LastIndexByte(domain, '.')
	if dot <= 0 || dot == len(domain)-1 {
		return fullMask
	}
	name, tld := domain[:dot], domain[dot+1:]
	nLocal, nName := utf8.RuneCountInString(local), utf8.RuneCountInString(name)
	switch {
	case nLocal-1+nName-1 >= minHidden:
		l, _ := utf8.DecodeRuneInString(local)
		d, _ := utf8.DecodeRuneInString(name)
		return string(l) + "***@" + string(d) + "***." + tld
	case nLocal+nName >= minHidden:
		return "***@***." + tld
	default:
		return "***@***.***"
	}
}

// MaskRecipient hides the address a message goes to, by its kind: an e-mail address (it
// holds an "@") as MaskEmail does, anything else as a phone number (SMS, WhatsApp), as
// MaskPhone does. Logs, events and answers that name a recipient use it.
func MaskRecipient(recipient string) string {
	if strings.Contains(recipient, "@") {
		return MaskEmail(recipient)
	}
	return MaskPhone(recipient)
}
