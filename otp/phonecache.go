package otp

import (
	"sync"

	"github.com/verifykit/verifykit/ports"
)

// phoneCacheSize bounds the phones a Service remembers parsed.
const phoneCacheSize = 4096

// phoneCache remembers numbers ports.ParsePhone accepted, so that the recipients a
// Service sends to again and again (resends, several subjects) are parsed once: parsing
// with the full numbering metadata costs some 10 µs, most of an Issue. Only numbers that
// parsed are kept, at most phoneCacheSize; when it is full an arbitrary entry makes room.
// A parsed Phone is a value: what the cache hands out cannot change what it holds.
type phoneCache struct {
	mu     sync.Mutex
	phones map[string]ports.Phone
}

// parse is ports.ParsePhone through the cache.
func (c *phoneCache) parse(raw string) (ports.Phone, error) {
	c.mu.Lock()
	p, ok := c.phones[raw]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := ports.ParsePhone(raw)
	if err != nil {
		return ports.Phone{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.phones == nil {
		c.phones = make(map[string]ports.Phone)
	}
	if len(c.phones) >= phoneCacheSize {
		for k := range c.phones {
			delete(c.phones, k)
			break
		}
	}
	c.phones[raw] = p
	return p, nil
}

// ParsePhone is ports.ParsePhone through the engine's bounded cache of numbers it parsed:
// flows that check a number before they issue a code to it call it, so the number is parsed
// once for both.
func (s *Service) ParsePhone(raw string) (ports.Phone, error) { return s.phones.parse(raw) }
