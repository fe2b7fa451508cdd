package network_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/edgekit/edgekit/blemesh/crypto"
	"github.com/edgekit/edgekit/blemesh/network"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

var netKey = [16]byte{0x7d, 0xd7, 0x36, 0x4c, 0xd8, 0x42, 0xad, 0x18, 0xc1, 0x7c, 0x2b, 0x82, 0x0c, 0x84, 0xc3, 0xd6}

// Message #1 of the specification's sample data (§8.3.1).
var (
	msg1Lower = unhex("034b50057e400000010000")
	msg1PDU   = unhex("68eca487516765b5e5bfdacbaf6cb7fb6bff871f035444ce83a670df")
	msg1Hdr   = network.Header{IVIndex: 0x12345678, NID: 0x68, CTL: true, TTL: 0, SEQ: 1, SRC: 0x1201, DST: 0xfffd}
	// Message #16 (§8.3.16), an access message with a 32-bit NetMIC.
	msg16Lower = unhex("0089511bf1d1a81c11dcef")
	msg16PDU   = unhex("68e80e5da5af0e6b9be7f5a642f2f98680e61c3a8b47f228")
	msg16Hdr   = network.Header{IVIndex: 0x12345678, NID: 0x68, TTL: 11, SEQ: 6, SRC: 0x1201, DST: 0x0003}
)

func TestSealOpen(t *testing.T) {
	k := network.FloodingKeys(netKey)
	for _, tc := range []struct {
		h     network.Header
		lower []byte
		pdu   []byte
	}{{msg1Hdr, msg1Lower, msg1PDU}, {msg16Hdr, msg16Lower, msg16PDU}} {
		h := tc.h
		got, err := k.Seal(nil, &h, tc.lower)
		if err != nil || !bytes.Equal(got, tc.pdu) {
			t.Fatalf("Seal = %x, %v; want %x", got, err, tc.pdu)
		}
		var d network.Header
		tp, err := k.Open(make([]byte, 0, network.MaxPDULen), &d, tc.pdu, 0x12345678)
		if err != nil || d != tc.h || !bytes.Equal(tp, tc.lower) {
			t.Fatalf("Open = %+v %x, %v", d, tp, err)
		}
		var o network.Header
		if err := k.Deobfuscate(&o, tc.pdu, 0x12345678, network.NetworkNonce); err != nil || o.SEQ != tc.h.SEQ || o.SRC != tc.h.SRC || o.TTL != tc.h.TTL {
			t.Fatalf("Deobfuscate = %+v, %v", o, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	k := new(network.Keys)
	k.Derive(netKey, []byte{0})
	var h network.Header
	if _, err := k.Open(nil, &h, msg1PDU[:13], 0x12345678); err != network.ErrShort {
		t.Errorf("short: %v", err)
	}
	long := make([]byte, 30)
	long[0] = 0x68
	if _, err := k.Open(nil, &h, long, 0x12345678); err != network.ErrLong {
		t.Errorf("long: %v", err)
	}
	bad := append([]byte(nil), msg1PDU...)
	bad[0] ^= 1
	if _, err := k.Open(nil, &h, bad, 0x12345678); err != network.ErrNID {
		t.Errorf("nid: %v", err)
	}
	bad = append([]byte(nil), msg1PDU...)
	bad[len(bad)-1] ^= 1
	if _, err := k.Open(nil, &h, bad, 0x12345678); err != network.ErrAuth {
		t.Errorf("mic: %v", err)
	}
	// Other credentials do not open it.
	f := new(network.Keys)
	p := crypto.FriendshipP(0x1201, 0x2345, 0, 0x072f)
	f.Derive(netKey, p[:])
	if f.NID != 0x5e {
		t.Fatalf("friendship NID %#x", f.NID)
	}
	if _, err := f.Open(nil, &h, msg1PDU, 0x12345678); err != network.ErrNID {
		t.Errorf("friendship keys: %v", err)
	}
	// Seal rejects oversized transport PDUs and bad fields.
	if _, err := k.Seal(nil, &network.Header{}, make([]byte, network.MaxAccessTransportLen+1)); err != network.ErrLong {
		t.Errorf("oversized: %v", err)
	}
	if _, err := k.Seal(nil, &network.Header{TTL: 0x80}, msg1Lower); err != network.ErrTTL {
		t.Errorf("ttl: %v", err)
	}
	if _, err := k.Seal(nil, &network.Header{SEQ: 1 << 24}, msg1Lower); err != network.ErrField {
		t.Errorf("seq: %v", err)
	}
	if _, err := k.Seal(nil, &network.Header{}, nil); err != network.ErrTransport {
		t.Errorf("empty: %v", err)
	}
}

func TestIVIndexFor(t *testing.T) {
	for _, tc := range []struct {
		ivi     uint8
		current uint32
		want    uint32
	}{{0, 0x12345678, 0x12345678}, {1, 0x12345678, 0x12345677}, {1, 0x12345677, 0x12345677}, {0, 0x12345677, 0x12345676}, {1, 0, 0}} {
		if got := network.IVIndexFor(tc.ivi, tc.current); got != tc.want {
			t.Errorf("IVIndexFor(%d, %#x) = %#x; want %#x", tc.ivi, tc.current, got, tc.want)
		}
	}
}

func TestRelay(t *testing.T) {
	k := network.FloodingKeys(netKey)
	out, err := k.Relay(nil, msg16Hdr, msg16Lower)
	if err != nil {
		t.Fatal(err)
	}
	var h network.Header
	tp, err := k.Open(nil, &h, out, 0x12345678)
	want := msg16Hdr
	want.TTL = 10
	if err != nil || h != want || !bytes.Equal(tp, msg16Lower) {
		t.Fatalf("relayed %+v %x %v", h, tp, err)
	}
	for _, ttl := range []uint8{0, 1} {
		h := msg16Hdr
		h.TTL = ttl
		if _, err := k.Relay(nil, h, msg16Lower); err != network.ErrNoRelay {
			t.Errorf("TTL %d relayed: %v", ttl, err)
		}
	}
}

func TestCache(t *testing.T) {
	c := network.NewCache(network.CacheConfig{Size: 4})
	for i := uint32(0); i < 4; i++ {
		if !c.Add(1, 0x0100, i) {
			t.Fatalf("add %d", i)
		}
	}
	if c.Add(1, 0x0100, 2) || !c.Contains(1, 0x0100, 0) {
		t.Fatal("duplicate accepted or entry lost")
	}
	if !c.Add(1, 0x0100, 4) { // evicts SEQ 0
		t.Fatal("add 4")
	}
	if c.Contains(1, 0x0100, 0) || !c.Contains(1, 0x0100, 4) || c.Len() != 4 {
		t.Fatalf("eviction: len %d", c.Len())
	}
	if !c.Add(2, 0x0100, 4) { // another IV Index is another PDU
		t.Fatal("IV Index ignored")
	}
	// Many insertions keep the set consistent with the FIFO.
	c = network.NewCache(network.CacheConfig{Size: 16})
	for i := uint32(0); i < 1000; i++ {
		c.Add(0, uint16(i%7+1), i)
		if c.Len() > 16 {
			t.Fatal("over capacity")
		}
		for j := uint32(0); j < 16 && j <= i; j++ {
			if !c.Contains(0, uint16((i-j)%7+1), i-j) {
				t.Fatalf("lost %d at %d", i-j, i)
			}
		}
		if i >= 16 && c.Contains(0, uint16((i-16)%7+1), i-16) {
			t.Fatalf("kept %d at %d", i-16, i)
		}
	}
	c.Reset()
	if c.Len() != 0 || c.Contains(0, 1, 999) {
		t.Fatal("reset")
	}
}

func TestSolicitation(t *testing.T) {
	k := network.FloodingKeys(netKey)
	h := network.Header{CTL: true, SEQ: 0x000102, SRC: 0x0304, IVIndex: 0x12345678}
	pdu, err := k.SealNonce(nil, &h, nil, network.SolicitationNonce)
	if err != nil || len(pdu) != 17 {
		t.Fatalf("solicitation = %x, %v", pdu, err)
	}
	if pdu[0]&0x80 != 0 {
		t.Fatal("IVI set in a solicitation PDU")
	}
	var d network.Header
	if _, err := k.OpenNonce(nil, &d, pdu, 0x99, network.SolicitationNonce); err != nil || d.SEQ != h.SEQ || d.SRC != h.SRC {
		t.Fatalf("open %+v, %v", d, err)
	}
	if _, err := k.OpenNonce(nil, &d, pdu, 0, network.ProxyNonce); err == nil {
		t.Fatal("opened with the proxy nonce")
	}
}

func TestProxyConfig(t *testing.T) {
	for _, tc := range []struct {
		wire string
		ok   bool
	}{{"0000", true}, {"0001", true}, {"0002", false}, {"01c000c001", true}, {"01c0", false}, {"0200010002", true}, {"03000003", true}, {"040101", true}, {"0501", true}, {"07", false}, {"", false}} {
		var m network.ProxyConfig
		_, err := m.Decode(unhex(tc.wire))
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.wire, err)
			continue
		}
		if err == nil {
			out, err := m.AppendBinary(nil)
			if err != nil || hex.EncodeToString(out) != tc.wire {
				t.Errorf("%s re-encoded %x %v", tc.wire, out, err)
			}
		}
	}
	var m network.ProxyConfig
	m.Decode(unhex("01c000c001"))
	if m.NumAddresses() != 2 || m.Address(1) != 0xc001 {
		t.Fatal("addresses")
	}
	m.Decode(unhex("03010003"))
	if m.FilterType() != network.FilterRejectList || m.ListSize() != 3 {
		t.Fatal("status")
	}
	// §8.9.1: Set Filter Type (accept list) as a proxy configuration message.
	k := network.FloodingKeys([16]byte{0xd1, 0xaa, 0xfb, 0x2a, 0x1a, 0x3c, 0x28, 0x1c, 0xbd, 0xb0, 0xe9, 0x60, 0xed, 0xfa, 0xd8, 0x52})
	out, err := k.SealNonce(nil, &network.Header{IVIndex: 0x12345678, CTL: true, SEQ: 1, SRC: 1}, unhex("0000"), network.ProxyNonce)
	if err != nil || hex.EncodeToString(out) != "10386bd60efbbb8b8c28512e792d3711f4b526" {
		t.Fatalf("proxy configuration message %x %v", out, err)
	}
}

func TestOpenAny(t *testing.T) {
	sets := make([]network.Keys, 3)
	sets[0].Derive([16]byte{1}, []byte{0})
	p := crypto.FriendshipP(0x1201, 0x2345, 0, 0x072f)
	sets[1].Derive(netKey, p[:])
	sets[2].Derive(netKey, []byte{0})
	var h network.Header
	i, tp, err := network.OpenAny(nil, &h, msg16PDU, 0x12345678, sets)
	if err != nil || i != 2 || !bytes.Equal(tp, msg16Lower) {
		t.Fatalf("OpenAny = %d %x %v", i, tp, err)
	}
	if i, _, err := network.OpenAny(nil, &h, msg16PDU, 0x12345678, sets[:2]); i != -1 || err != network.ErrNID {
		t.Fatalf("no matching NID: %d %v", i, err)
	}
}
