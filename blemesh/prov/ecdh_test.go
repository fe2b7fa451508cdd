//go:build !tinygo

package prov

import (
	"encoding/hex"
	"errors"
	"testing"
)

// TestP256Sample checks §8.7's key pairs and ECDH secret.
func TestP256Sample(t *testing.T) {
	p, err := NewP256(unhex(t, sampleProvisionerPriv))
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewP256(unhex(t, sampleDevicePriv))
	if err != nil {
		t.Fatal(err)
	}
	pp, dp := p.PublicKey(), d.PublicKey()
	if hex.EncodeToString(pp[:]) != sampleProvisionerPub || hex.EncodeToString(dp[:]) != sampleDevicePub {
		t.Fatalf("public keys %x %x", pp, dp)
	}
	s1, err := p.ECDH(&dp)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := d.ECDH(&pp)
	if hex.EncodeToString(s1[:]) != sampleECDH || s1 != s2 {
		t.Fatalf("ECDH %x %x", s1, s2)
	}
	bad := pp
	bad[63] ^= 1
	if _, err := p.ECDH(&bad); !errors.Is(err, ErrInvalidPublicKey) {
		t.Fatalf("off-curve key: %v", err)
	}
	if _, err := NewP256(make([]byte, 32)); err == nil {
		t.Fatal("zero private key accepted")
	}
	g, err := GenerateP256(nil)
	if err != nil {
		t.Fatal(err)
	}
	if g.PublicKey() == pp {
		t.Fatal("generated the sample key")
	}
}
