package ports

import "strings"

// MaskPhone hides a phone number for display and logs: it keeps the last two characters
// and at most six leading ones (the country and operator code), and always hides at least
// five: "+380931234585" becomes "+38093*****85", "+34600111222" becomes "+3460*****22".
// Numbers too short to keep three leading characters keep only their last two.
func MaskPhone(phone string) string {
	const hidden, tail = 5, 2
	n := len(phone)
	if n <= tail {
		return strings.Repeat("*", n)
	}
	head := min(6, n-tail-hidden)
	if head < 3 {
		head = 0
	}
	return phone[:head] + strings.Repeat("*", n-head-tail) + phone[n-tail:]
}

// MaskEmail hides the local part of an e-mail address but its first character:
// "jane.doe@example.com" becomes "j*******@example.com".
func MaskEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		return MaskPhone(email)
	}
	return email[:1] + strings.Repeat("*", at-1) + email[at:]
}
