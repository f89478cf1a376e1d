package otp

import (
	"sync"

	"github.com/verifykit/verifykit/ports"
)

// phoneCacheSize bounds the phones a Service remembers parsed.
const phoneCacheSize = 4096

// phoneCache remembers numbers ports.ParsePhone accepted, so that the recipients a
// Service sends to again and again (resends, several subjects) are parsed once. Only
// numbers that parsed are kept, at most phoneCacheSize; when it is full the one
// remembered longest ago makes room (the keys wait in a ring, so that making room costs
// one step, not a walk over the map). A parsed Phone is a value: what the cache hands out
// cannot change what it holds.
type phoneCache struct {
	mu     sync.Mutex
	phones map[string]ports.Phone
	ring   []string // the keys of phones, in the order remembered, from next on
	next   int
	size   int // the bound; 0 is phoneCacheSize
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
	if _, ok := c.phones[raw]; ok {
		return p, nil // another goroutine remembered it meanwhile
	}
	if c.size == 0 {
		c.size = phoneCacheSize
	}
	if c.phones == nil {
		c.phones = make(map[string]ports.Phone, c.size)
	}
	if len(c.ring) < c.size {
		c.ring = append(c.ring, raw)
	} else {
		delete(c.phones, c.ring[c.next])
		c.ring[c.next] = raw
		c.next = (c.next + 1) % c.size
	}
	c.phones[raw] = p
	return p, nil
}

// ParsePhone is ports.ParsePhone through the engine's bounded cache of numbers it parsed:
// flows that check a number before they issue a code to it call it, so the number is parsed
// once for both.
func (s *Service) ParsePhone(raw string) (ports.Phone, error) { return s.phones.parse(raw) }
