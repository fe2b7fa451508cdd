//go:build !tinygo || blemesh_ecdh

package prov

import (
	"crypto/ecdh"
	"crypto/rand"
	"io"
)

// P256 is a [KeyPair] backed by crypto/ecdh. It is excluded from TinyGo
// builds unless the blemesh_ecdh build tag is set: crypto/ecdh's P-256 needs
// about 29 KB more static RAM than a 64 KB Cortex-M4 has.
type P256 struct {
	priv *ecdh.PrivateKey
	pub  [64]byte
}

// GenerateP256 generates a fresh key pair. A nil rand means crypto/rand
// (recent Go releases ignore rand and always use a secure source).
func GenerateP256(r io.Reader) (*P256, error) {
	if r == nil {
		r = rand.Reader
	}
	k, err := ecdh.P256().GenerateKey(r)
	if err != nil {
		return nil, err
	}
	return newP256(k), nil
}

// NewP256 returns the key pair of a 32-octet big-endian private key (for
// tests and for devices with a provisioned OOB key pair).
func NewP256(privateKey []byte) (*P256, error) {
	k, err := ecdh.P256().NewPrivateKey(privateKey)
	if err != nil {
		return nil, ErrInvalidPublicKey
	}
	return newP256(k), nil
}

func newP256(k *ecdh.PrivateKey) *P256 {
	p := &P256{priv: k}
	copy(p.pub[:], k.PublicKey().Bytes()[1:]) // skip the 0x04 of the uncompressed form
	return p
}

// PublicKey returns X || Y.
func (p *P256) PublicKey() [64]byte { return p.pub }

// ECDH returns the shared secret with peer, or ErrInvalidPublicKey if peer is
// not on the curve.
func (p *P256) ECDH(peer *[64]byte) ([32]byte, error) {
	var out [32]byte
	var b [65]byte
	b[0] = 4
	copy(b[1:], peer[:])
	pk, err := ecdh.P256().NewPublicKey(b[:])
	if err != nil {
		return out, ErrInvalidPublicKey
	}
	s, err := p.priv.ECDH(pk)
	if err != nil {
		return out, ErrInvalidPublicKey
	}
	copy(out[:], s)
	return out, nil
}

// defaultKeyPair generates a fresh key pair when the configuration has none.
func defaultKeyPair(r io.Reader) (KeyPair, error) { return GenerateP256(r) }
