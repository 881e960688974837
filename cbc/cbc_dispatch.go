package cbc

// encrypt and decrypt are the dispatch points between the hardware paths and
// the portable one. buf, dst and src are whole blocks; dst and src do not overlap.
func (c *Cipher) encrypt(iv, buf []byte)      { c.encryptPortable(iv, buf) }
func (c *Cipher) decrypt(iv, dst, src []byte) { c.decryptPortable(iv, dst, src) }
