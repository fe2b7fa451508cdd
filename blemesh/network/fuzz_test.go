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

// FuzzSealOpen reaches the round trip FuzzOpen cannot (random octets almost
// never authenticate): it fuzzes the header fields, the nonce and the
// transport PDU, seals them under keys derived from a fuzzed NetKey, opens
// the result (at the IV Index it was sealed with and at the next one, where
// the IVI bit selects IV Index - 1) and compares; then one flipped bit must
// make Open fail.
func FuzzSealOpen(f *testing.F) {
	f.Add(netKey[:], uint8(0), true, uint8(0), uint32(1), uint16(0x1201), uint16(0xfffd), uint32(0x12345678), unhex("034b50057e400000010000"), uint16(3))
	f.Add(netKey[:], uint8(0), false, uint8(0x0b), uint32(0x06), uint16(0x1201), uint16(0x0003), uint32(0x12345678), unhex("66b9cac39f0e1fdbbc2e8a"), uint16(100))
	f.Add(netKey[:], uint8(1), true, uint8(0), uint32(1), uint16(0x1201), uint16(0), uint32(0x12345678), unhex("0000000003"), uint16(17))
	f.Add(netKey[:], uint8(2), true, uint8(0), uint32(1), uint16(0x1201), uint16(0), uint32(0), []byte{}, uint16(8))
	f.Add(make([]byte, 16), uint8(0), false, uint8(0x7f), uint32(0xffffff), uint16(0x7fff), uint16(0xffff), uint32(0xffffffff), bytes.Repeat([]byte{0xa5}, 16), uint16(0))
	f.Fuzz(func(t *testing.T, nk []byte, nonceSel uint8, ctl bool, ttl uint8, seq uint32, src, dst uint16, iv uint32, tp []byte, flip uint16) {
		var key [16]byte
		copy(key[:], nk)
		k := network.FloodingKeys(key)
		nonce := network.Nonce(nonceSel % 3)
		h := network.Header{IVIndex: iv, CTL: ctl, TTL: ttl & 0x7f, SEQ: seq & 0xffffff, SRC: src, DST: dst}
		pdu, err := k.SealNonce(nil, &h, tp, nonce)
		if err != nil {
			return
		}
		if len(pdu) != h.EncodedLen(len(tp)) {
			t.Fatalf("sealed %d octets; EncodedLen %d", len(pdu), h.EncodedLen(len(tp)))
		}
		want := h
		want.NID = k.NID
		if nonce == network.SolicitationNonce {
			want.IVIndex = 0
		}
		currents := []uint32{iv}
		if iv != 0xffffffff {
			currents = append(currents, iv+1)
		}
		for _, cur := range currents {
			var got network.Header
			out, err := k.OpenNonce(nil, &got, pdu, cur, nonce)
			if err != nil || got != want || !bytes.Equal(out, tp) {
				t.Fatalf("open at %#x: %+v %x, %v; sealed %+v %x", cur, got, out, err, want, tp)
			}
		}
		bit := int(flip) % (len(pdu) * 8)
		if bit == 0 && (nonce == network.SolicitationNonce || iv == 0) {
			return // the IVI bit does not enter the cryptography then
		}
		if bit >= 9 && bit < 16 && nonce != network.NetworkNonce {
			// The proxy and solicitation nonces do not hold CTL|TTL: the TTL
			// is not authenticated (receivers check it is 0), only CTL is,
			// through the NetMIC length.
			return
		}
		bad := append([]byte(nil), pdu...)
		bad[bit/8] ^= 0x80 >> (bit % 8)
		var got network.Header
		if _, err := k.OpenNonce(nil, &got, bad, iv, nonce); err == nil {
			t.Fatalf("PDU with bit %d flipped opens: %+v", bit, got)
		}
	})
}
