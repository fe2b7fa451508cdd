package crypto_test

import (
	"bytes"
	"testing"

	"github.com/edgekit/edgekit/blemesh/crypto"
)

// FuzzCCM: OpenCCM never panics, and Seal/Open round-trip with both MIC
// sizes; any flipped bit is rejected.
func FuzzCCM(f *testing.F) {
	f.Add([]byte("0056341263964771734fbd76e3b40519d1d94a48"), []byte{}, uint8(0), uint16(0))
	f.Add([]byte("hello"), make([]byte, 16), uint8(1), uint16(3))
	c := crypto.NewCipher([16]byte{9, 8, 7})
	nonce := crypto.NetworkNonce(0x80, 1, 2, 3)
	f.Fuzz(func(t *testing.T, pt, ad []byte, mic8 uint8, flip uint16) {
		if len(pt) > 512 || len(ad) > 64 {
			return
		}
		micLen := 4 + 4*int(mic8&1)
		_, _ = c.OpenCCM(nil, &nonce, pt, ad, micLen) // arbitrary input
		ct, err := c.SealCCM(nil, &nonce, pt, ad, micLen)
		if err != nil {
			t.Fatal(err)
		}
		back, err := c.OpenCCM(nil, &nonce, ct, ad, micLen)
		if err != nil || !bytes.Equal(back, pt) {
			t.Fatalf("round trip: %v", err)
		}
		bit := int(flip) % (8 * len(ct))
		ct[bit/8] ^= 1 << (bit % 8)
		if _, err := c.OpenCCM(nil, &nonce, ct, ad, micLen); err != crypto.ErrAuth {
			t.Fatalf("flipped bit %d accepted: %v", bit, err)
		}
	})
}
