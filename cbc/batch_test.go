package cbc_test

import (
	"fmt"

	"github.com/atrest-dev/atrest/cbc"
)

// Re-encrypting values under a new key during rotation: open each value with
// the old key, then seal them all with one SealBatch call.
func ExampleCipher_SealBatch() {
	oldKey, newKey := make([]byte, 32), make([]byte, 32)
	newKey[0] = 1
	oldC, _ := cbc.New(oldKey)
	newC, _ := cbc.New(newKey)

	var stored [][]byte
	for _, v := range []string{"alpha", "a somewhat longer secret value", ""} {
		s, _ := oldC.Seal(nil, []byte(v), nil)
		stored = append(stored, s)
	}

	plain := make([][]byte, len(stored))
	for i, s := range stored {
		plain[i], _ = oldC.Open(nil, s, nil)
	}
	resealed, err := newC.SealBatch(nil, plain)
	if err != nil {
		panic(err)
	}
	for _, s := range resealed {
		p, err := newC.Open(nil, s, nil)
		fmt.Printf("%d bytes: %q %v\n", len(s), p, err)
	}
	// Output:
	// 32 bytes: "alpha" <nil>
	// 48 bytes: "a somewhat longer secret value" <nil>
	// 32 bytes: "" <nil>
}
