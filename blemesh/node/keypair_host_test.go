//go:build !tinygo

package node_test

import "github.com/edgekit/edgekit/blemesh/prov"

// testKeyPair is a real P-256 pair on hosts (crypto/ecdh).
func testKeyPair(seed byte) prov.KeyPair {
	priv := make([]byte, 32)
	for i := range priv {
		priv[i] = seed ^ byte(i*7+1)
	}
	kp, err := prov.NewP256(priv)
	if err != nil {
		panic(err)
	}
	return kp
}

const underTinyGo = false
