//go:build !tinygo

package prov

import "testing"

func BenchmarkP256ECDH(b *testing.B) {
	p, _ := NewP256(mustHex(sampleProvisionerPriv))
	d, _ := NewP256(mustHex(sampleDevicePriv))
	pub := d.PublicKey()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.ECDH(&pub); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProvisioning runs a whole provisioning (CMAC, no OOB, P-256 keys
// generated per run) between a provisioner and a device over an in-memory
// PB-ADV link without loss.
func BenchmarkProvisioning(b *testing.B) {
	keys := func(byte) KeyPair {
		k, err := GenerateP256(nil)
		if err != nil {
			b.Fatal(err)
		}
		return k
	}
	b.ReportAllocs()
	for b.Loop() {
		r := runProvisioning(b, scenario{alg: AlgCMAC, method: AuthNoOOB, keys: keys})
		if r.provKey != r.devKey {
			b.Fatal("keys differ")
		}
	}
}
