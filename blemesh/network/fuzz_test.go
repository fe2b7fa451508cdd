package network_test

import (
	"bytes"
	"testing"

	"github.com/edgekit/edgekit/blemesh/network"
)

// FuzzOpen feeds arbitrary octets to the network PDU decoder: it must not
// panic, and whatever it accepts must seal back to the same octets.
func FuzzOpen(f *testing.F) {
	f.Add(msg1PDU)
	f.Add(msg16PDU)
	f.Add(unhex("68cab5c5348a230afba8c63d4e686364979deaf4fd40961145939cda0e"))
	f.Add(unhex("e85cca51e2e8998c3dc87344a16c787f6b08cc897c941a5368"))
	k := network.FloodingKeys(netKey)
	f.Fuzz(func(t *testing.T, b []byte) {
		var h network.Header
		tp, err := k.Open(nil, &h, b, 0x12345678)
		if err != nil {
			var o network.Header
			_ = k.Deobfuscate(&o, b, 0x12345678, network.ProxyNonce)
			return
		}
		out, err := k.Seal(nil, &h, tp)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("round trip %x -> %+v %x -> %x, %v", b, h, tp, out, err)
		}
	})
}

// FuzzProxyConfig: the proxy configuration decoder never panics and
// round-trips.
func FuzzProxyConfig(f *testing.F) {
	for _, s := range []string{"0000", "01c000c001", "03000003", "0501"} {
		f.Add(unhex(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m network.ProxyConfig
		if _, err := m.Decode(b); err != nil {
			return
		}
		out, err := m.AppendBinary(nil)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("round trip %x -> %x, %v", b, out, err)
		}
	})
}
