//go:build !tinygo

package prov

import "testing"

func p256KeyPair(t *testing.T) func(byte) KeyPair {
	return func(byte) KeyPair {
		k, err := GenerateP256(nil)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
}

// TestMultiRole provisions a device with a provisioner over an in-memory
// PB-ADV link that drops every Nth generic provisioning PDU, with both
// algorithms and every authentication method, using real P-256 ECDH; both
// ends must derive the same device key.
func TestMultiRole(t *testing.T) {
	testMultiRole(t, p256KeyPair(t), []int{0, 3, 4, 5, 7})
}
