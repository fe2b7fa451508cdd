package blemesh_test

import (
	"fmt"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/network"
	"github.com/edgekit/edgekit/blemesh/transport"
)

// The layers together: a Health Current Status published with an
// application key to all nodes (message #18 of the specification's sample
// data), down to the network PDU and back up.
func Example() {
	netKey := [16]byte{0x7d, 0xd7, 0x36, 0x4c, 0xd8, 0x42, 0xad, 0x18, 0xc1, 0x7c, 0x2b, 0x82, 0x0c, 0x84, 0xc3, 0xd6}
	appKey := [16]byte{0x63, 0x96, 0x47, 0x71, 0x73, 0x4f, 0xbd, 0x76, 0xe3, 0xb4, 0x05, 0x19, 0xd1, 0xd9, 0x4a, 0x48}
	const iv, seq, src, dst = 0x12345678, 0x000007, 0x1201, access.AddrAllNodes

	// Access layer: opcode || parameters.
	status := access.HealthStatus{Faults: []byte{0x00}}
	params, _ := status.AppendBinary(nil)
	payload, _ := (&access.Payload{Opcode: status.Opcode(), Params: params}).AppendBinary(nil)

	// Upper transport: encrypt with the application key.
	key := transport.NewAppKey(appKey)
	meta := transport.AccessMeta{SEQ: seq, SRC: src, DST: dst, IVIndex: iv}
	upper, _ := key.Seal(nil, &meta, payload)

	// Lower transport: one unsegmented access PDU.
	lower, _ := (&transport.LowerPDU{AKF: true, AID: key.AID, Payload: upper}).AppendBinary(nil)

	// Network layer: encrypt and obfuscate.
	keys := network.FloodingKeys(netKey)
	pdu, _ := keys.Seal(nil, &network.Header{IVIndex: iv, TTL: 3, SEQ: seq, SRC: src, DST: dst}, lower)
	fmt.Printf("network PDU %x\n", pdu)

	// And back up.
	var h network.Header
	tp, _ := keys.Open(nil, &h, pdu, iv)
	var lp transport.LowerPDU
	lp.Decode(tp, h.CTL)
	back, _ := key.Open(nil, &transport.AccessMeta{SEQ: h.SEQ, SRC: h.SRC, DST: h.DST, IVIndex: h.IVIndex}, lp.Payload)
	var p access.Payload
	p.Decode(back)
	fmt.Printf("from %04x: opcode %s parameters %x\n", h.SRC, p.Opcode, p.Params)
	// Output:
	// network PDU 6848cba437860e5673728a627fb938535508e21a6baf57
	// from 1201: opcode 04 parameters 00000000
}
