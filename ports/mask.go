package ports

import "strings"

// MaskPhone hides the middle of a phone number for display and logs, keeping the first six
// and the last two characters: "+380931234585" becomes "+38093*****85". Numbers of eight
// characters or fewer keep only their last two.
func MaskPhone(phone string) string {
	n := len(phone)
	switch {
	case n == 0:
		return ""
	case n <= 2:
		return strings.Repeat("*", n)
	case n <= 8:
		return strings.Repeat("*", n-2) + phone[n-2:]
	}
	return phone[:6] + strings.Repeat("*", n-8) + phone[n-2:]
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
