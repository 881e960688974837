package aead

// SetNonces replaces the nonce source of s, for known-answer tests.
func SetNonces(s *Secretbox, n NonceSource) { s.nonces = n }
