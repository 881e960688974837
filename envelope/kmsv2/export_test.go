package kmsv2

import "time"

// SetNow replaces p's clock, for tests of the check schedule and expiry.
func SetNow(p *Provider, now func() time.Time) { p.now = now }

// SetWriteCounter sets the nonce counter of p's current write DEK (of type
// AESGCMKey), for tests of its end.
func SetWriteCounter(p *Provider, v uint64) bool {
	s := p.state.Load()
	if s == nil || s.typ != AESGCMKey {
		return false
	}
	c, ok := s.dek.nonces.(*counterNonces)
	if !ok {
		return false
	}
	c.n.Store(v)
	return true
}

// CacheLen returns the number of entries in p's decrypt cache.
func CacheLen(p *Provider) int { return p.cache.len() }

// CacheKeyHash exposes the decrypt cache's key.
func CacheKeyHash(typ DEKSourceType, src, keyID []byte, anns []Annotation) [32]byte {
	return cacheKeyHash(typ, src, keyID, anns)
}
