package cbc

import "io"

// SetRand makes c read IVs from r, for known-answer tests.
func SetRand(c *Cipher, r io.Reader) { c.rand = r }
