package crypto_test

import (
	"fmt"

	"github.com/edgekit/edgekit/blemesh/crypto"
)

// Network key material of the specification's sample data (§8.2.2).
func Example() {
	netKey := [16]byte{0x7d, 0xd7, 0x36, 0x4c, 0xd8, 0x42, 0xad, 0x18, 0xc1, 0x7c, 0x2b, 0x82, 0x0c, 0x84, 0xc3, 0xd6}
	nid, enc, priv := crypto.K2(netKey, []byte{crypto.PFlooding})
	fmt.Printf("NID %#x\nEncryptionKey %x\nPrivacyKey %x\n", nid, enc, priv)
	id := crypto.NetworkID(netKey)
	fmt.Printf("NetworkID %x\n", id)
	// Output:
	// NID 0x68
	// EncryptionKey 0953fa93e7caac9638f58820220a398e
	// PrivacyKey 8b84eedec100067d670971dd2aa700cf
	// NetworkID 3ecaff672f673370
}
