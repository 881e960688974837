//go:build !purego

package aesni

//go:generate sh -c "cd _asm && go run . -out ../aesni_amd64.s -stubs ../aesni_stubs_amd64.go -pkg aesni"

// Schedule is an expanded AES key in the byte order the AES-NI instructions
// take round keys (each round key as the 16 bytes FIPS 197 lists).
type Schedule struct {
	// Enc holds round keys 0..Rounds of the cipher.
	Enc [15 * 16]byte
	// Dec holds the equivalent inverse cipher's round keys: Enc's last,
	// AESIMC of the middle ones in reverse order, Enc's first.
	Dec [15 * 16]byte
	// Rounds is 10, 12 or 14 for a 16, 24 or 32 byte key.
	Rounds int
}

// Expand sets s to the schedule of key, which must be 16, 24 or 32 bytes;
// the CPU must have AES-NI. The key is not retained.
func (s *Schedule) Expand(key []byte) {
	switch len(key) {
	case 16, 24, 32:
	default:
		panic("aesni: key must be 16, 24 or 32 bytes")
	}
	s.Rounds = 6 + len(key)/4
	expandKeyAsm(&key[0], s.Rounds, &s.Enc[0], &s.Dec[0])
}
