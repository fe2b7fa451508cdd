package node_test

import (
	"bytes"

	"github.com/edgekit/edgekit/blemesh/crypto"
	"github.com/edgekit/edgekit/blemesh/prov"
)

// toyKeyPair stands in for P-256 where crypto/ecdh is not available (TinyGo
// on the 64 KB Cortex-M4): the shared secret is an AES-CMAC of both public
// keys (AES is linked anyway; SHA-256 would cost flash the test binary does
// not have).
type toyKeyPair struct{ pub [64]byte }

func (k *toyKeyPair) PublicKey() [64]byte { return k.pub }

func (k *toyKeyPair) ECDH(peer *[64]byte) ([32]byte, error) {
	if *peer == ([64]byte{}) {
		return [32]byte{}, prov.ErrInvalidPublicKey
	}
	a, b := k.pub[:], peer[:]
	if bytes.Compare(a, b) > 0 {
		a, b = b, a
	}
	var s [32]byte
	x := crypto.AESCMAC([16]byte{1}, a, b)
	y := crypto.AESCMAC([16]byte{2}, a, b)
	copy(s[:16], x[:])
	copy(s[16:], y[:])
	return s, nil
}

func newToyKeyPair(seed byte) prov.KeyPair {
	k := &toyKeyPair{}
	for i := range k.pub {
		k.pub[i] = seed + byte(i)
	}
	return k
}
